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

