"""The only way communications are loaded on behalf of a person."""

from django.db.models import Q
from django.http import Http404

from voronka.accounts.access import is_assistant, may_write, owner_scope

from .models import Communication


def visible_communications(user):
    qs = Communication.objects.filter(workspace_id=user.workspace_id)
    if is_assistant(user):
        return qs.filter(Q(author_id=user.id) | Q(deal__assistant_id=user.id))
    scope = owner_scope(user)
    if scope is None:
        return qs
    return qs.filter(
        Q(author_id__in=scope) | Q(deal__owner_id__in=scope) | Q(contact__owner_id__in=scope)
    )


def access_communication(user, comm_id, *, for_update: bool = False) -> Communication:
    try:
        comm = (
            visible_communications(user)
            .select_related("author", "deal", "contact")
            .get(id=int(comm_id))
        )
    except (Communication.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if for_update and not may_write(user):
        raise Http404
    return comm


def visible_channels(user):
    """The workspace's channels, for those who configure them (the head and the owner)."""
    from .models import ChannelConfig

    if not (user.is_active and user.may_configure):
        return ChannelConfig.objects.none()
    return ChannelConfig.objects.filter(workspace_id=user.workspace_id)


def access_channel(user, channel_id):
    from .models import ChannelConfig

    try:
        return visible_channels(user).get(id=int(channel_id))
    except (ChannelConfig.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def visible_dead_letters(user):
    """Deliveries kept for replay, for those who configure channels."""
    from .models import DeadLetter

    if not (user.is_active and user.may_configure):
        return DeadLetter.objects.none()
    return DeadLetter.objects.filter(workspace_id=user.workspace_id)


def access_dead_letter(user, letter_id):
    from .models import DeadLetter

    try:
        return visible_dead_letters(user).select_related("channel").get(id=int(letter_id))
    except (DeadLetter.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- The inbox: conversations, their files, message templates ------------------------------------


def conversation_filter(user) -> Q:
    """The condition a conversation must meet to be visible to ``user``, as deals are: a manager
    sees the conversations assigned to them, a senior those of their group, the head, the owner
    and the quality controller all; an assistant those of the deals handed to them. A
    conversation nobody has yet is seen by whoever sees its deal."""
    if is_assistant(user):
        return Q(deal__assistant_id=user.id)
    scope = owner_scope(user)
    if scope is None:
        return Q()
    return Q(assignee_id__in=scope) | Q(assignee__isnull=True, deal__owner_id__in=scope)


def visible_conversations(user):
    from .models import Conversation

    return Conversation.objects.filter(conversation_filter(user), workspace_id=user.workspace_id)


def access_conversation(user, conversation_id, *, for_update: bool = False):
    """The conversation, or 404 when it does not exist or ``user`` may not see it."""
    from .models import Conversation

    qs = visible_conversations(user).select_related(
        "channel", "contact", "deal", "deal__stage", "assignee"
    )
    if for_update:
        if not may_write(user):
            raise Http404
    try:
        return qs.get(id=int(conversation_id))
    except (Conversation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_attachment(user, attachment_id):
    """A file of a message, for those who see its conversation or its communication."""
    from .models import Attachment

    visible = Q(communication__conversation__in=visible_conversations(user)) | Q(
        communication__in=visible_communications(user)
    )
    try:
        return (
            Attachment.objects.filter(visible, workspace_id=user.workspace_id)
            .select_related("communication", "communication__conversation__channel")
            .get(id=int(attachment_id))
        )
    except (Attachment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def visible_message_templates(user, *, include_unused: bool = False):
    """The workspace's ready answers: those in use for everyone who writes; all of them for
    those who manage them."""
    from .models import MessageTemplate

    qs = MessageTemplate.objects.filter(workspace_id=user.workspace_id)
    if not (include_unused and user.may_configure):
        qs = qs.filter(is_active=True)
    return qs.order_by("name", "id")


def access_message_template(user, template_id):
    """A template to edit: the head of sales and the owner only."""
    from .models import MessageTemplate

    if not (user.is_active and user.may_configure):
        raise Http404
    try:
        return visible_message_templates(user, include_unused=True).get(id=int(template_id))
    except (MessageTemplate.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
