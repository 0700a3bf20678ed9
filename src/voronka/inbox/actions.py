"""Every change to communications goes through one of these functions."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import may_write
from voronka.control.evaluate import after_commit
from voronka.core.errors import Invalid, NotAllowed

from .models import (
    Attachment,
    Channel,
    ChannelConfig,
    CommKind,
    Communication,
    Conversation,
    DeadLetter,
    DeliveryStatus,
    Direction,
)
from .rules import without_nul

COMM_FIELDS = (
    "kind",
    "direction",
    "channel",
    "occurred_at",
    "duration_seconds",
    "comment",
    "contact",
    "deal",
    "recording",
)


def _validate(values: dict) -> dict:
    unknown = set(values) - set(COMM_FIELDS)
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    if "kind" in values and values["kind"] not in CommKind.values:
        raise Invalid(
            _("Unknown kind."), {"kind": _("Choose a call, message, email, meeting or note.")}
        )
    if "direction" in values and (values["direction"] or "") not in Direction.values:
        raise Invalid(_("Unknown direction."), {"direction": _("Choose incoming or outgoing.")})
    if (
        "channel" in values
        and (values["channel"] or "")
        and values["channel"] not in Channel.values
    ):
        raise Invalid(_("Unknown channel."), {"channel": _("Choose a channel.")})
    d = values.get("duration_seconds")
    if d is not None and d < 0:
        raise Invalid(
            _("Duration cannot be negative."),
            {"duration_seconds": _("Duration cannot be negative.")},
        )
    if values.get("occurred_at") and values["occurred_at"] > timezone.now() + timedelta(minutes=5):
        # A planned contact is a task; a communication is one that happened.
        raise Invalid(
            _("A communication cannot be in the future; plan a task instead."),
            {"occurred_at": _("A communication cannot be in the future.")},
        )
    if "comment" in values:
        values["comment"] = without_nul(values["comment"] or "").strip()
    return values


def _check(actor, **objects) -> None:
    if not may_write(actor):
        raise NotAllowed(_("Your role may not log communications."))
    for name, obj in objects.items():
        if obj is not None and obj.workspace_id != actor.workspace_id:
            raise Invalid(_("Not found."), {name: _("Not found.")})


@transaction.atomic
def do_log_communication(
    actor, *, kind: str, occurred_at=None, deal=None, contact=None, author=None, **fields
) -> Communication:
    """Put a call, message, meeting, email or note on the client's timeline."""
    values = _validate({"kind": kind, "occurred_at": occurred_at or timezone.now(), **fields})
    _check(actor, deal=deal, contact=contact)
    if deal is None and contact is None:
        raise Invalid(
            _("Say which deal or contact this was with."),
            {"deal": _("Choose a deal or a contact.")},
        )
    if contact is None and deal is not None:
        contact = deal.contact
    comm = Communication(
        workspace_id=actor.workspace_id,
        author=author or actor,
        deal=deal,
        contact=contact,
        **values,
    )
    comm.save()
    after_commit(actor.workspace_id, communications=[comm.id])
    return comm


@transaction.atomic
def do_comment_communication(actor, comm: Communication, *, comment: str) -> Communication:
    """Write (or rewrite) the comment on a communication: what was discussed and agreed."""
    _check(actor)
    comm.comment = without_nul(comment or "").strip()
    if not comm.comment:
        raise Invalid(
            _("Write what was discussed and agreed."), {"comment": _("This field is required.")}
        )
    comm.save(update_fields=["comment", "updated_at"])
    after_commit(actor.workspace_id, communications=[comm.id])
    return comm


# --- Channels ------------------------------------------------------------------------------------

CHANNEL_NAME_MAX = 120


def _check_configurer(actor) -> None:
    if not (actor.is_active and actor.may_configure):
        raise NotAllowed(_("Only the head of sales and the owner configure channels."))


def _provider(kind: str):
    from .channels import provider_for

    provider = provider_for(kind)
    if provider is None:
        raise Invalid(_("Unknown kind."), {"kind": _("Choose a channel kind.")})
    return provider


def _clean_credentials(provider, given: dict, current: dict, *, creating: bool) -> dict:
    """The credentials to store: what is given replaces, what is left empty stays as it was;
    an empty generated one (a webhook secret) is made at creation."""
    import secrets

    known = {f.name for f in provider.credential_fields}
    unknown = set(given) - known
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    values = dict(current)
    for f in provider.credential_fields:
        value = (given.get(f.name) or "").strip()
        if value:
            values[f.name] = value
        elif creating and f.generated:
            values[f.name] = secrets.token_urlsafe(32)
    missing = [f.name for f in provider.credential_fields if f.required and not values.get(f.name)]
    if missing:
        raise Invalid(
            _("Fill in the channel's credentials."),
            {name: _("This field is required.") for name in missing},
        )
    return values


def _clean_name(name) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Give the channel a name."), {"name": _("This field is required.")})
    if len(name) > CHANNEL_NAME_MAX:
        raise Invalid(
            _("The name is too long."),
            {"name": _("At most %(n)s characters.") % {"n": CHANNEL_NAME_MAX}},
        )
    return name


@transaction.atomic
def do_create_channel(
    actor, *, kind: str, name: str, credentials: dict | None = None, options=None
) -> ChannelConfig:
    """Connect a channel: its credentials are stored encrypted, its webhook key is made."""
    _check_configurer(actor)
    provider = _provider(kind)
    channel = ChannelConfig(
        workspace_id=actor.workspace_id,
        kind=kind,
        name=_clean_name(name),
        options=dict(options or {}),
    )
    channel.set_credentials(_clean_credentials(provider, credentials or {}, {}, creating=True))
    channel._history_user = actor
    channel.save()
    return channel


@transaction.atomic
def do_update_channel(
    actor, channel: ChannelConfig, *, name=None, enabled=None, credentials=None, options=None
) -> ChannelConfig:
    """Rename, switch on or off, or give new credentials (those left empty are kept)."""
    _check_configurer(actor)
    if channel.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"channel": _("Not found.")})
    provider = _provider(channel.kind)
    if name is not None:
        channel.name = _clean_name(name)
    if enabled is not None:
        channel.enabled = bool(enabled)
    if credentials:
        channel.set_credentials(
            _clean_credentials(provider, credentials, channel.credentials, creating=False)
        )
    if options is not None:
        channel.options = {**channel.options, **options}
    channel._history_user = actor
    channel.save()
    return channel


def webhook_url(channel: ChannelConfig, base_url: str) -> str:
    """The channel's webhook URL on this server, ``base_url`` being e.g. https://crm.example.com."""
    from django.urls import reverse

    path = reverse("inbox:webhook", kwargs={"kind": channel.kind, "key": channel.webhook_key})
    return base_url.rstrip("/") + path


def do_register_webhook(actor, channel: ChannelConfig, *, base_url: str) -> str:
    """Tell the provider to deliver to this channel's URL (Telegram's setWebhook)."""
    from .channels.base import SendFailed

    _check_configurer(actor)
    provider = _provider(channel.kind)
    url = webhook_url(channel, base_url)
    try:
        provider.register_webhook(channel, url)
    except SendFailed as exc:
        raise Invalid(str(exc), {}) from exc
    return url


@transaction.atomic
def do_replay_dead_letter(actor, letter: DeadLetter):
    """Take a kept delivery in again (after the channel or the pipeline was fixed).

    It passed the signature check when it came, so it is parsed and ingested as it was; events
    already stored stay once. Success marks it replayed; a failure says why, and it stays.
    """
    from .channels.base import Malformed
    from .webhooks import parse_and_ingest

    _check_configurer(actor)
    if letter.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"dead_letter": _("Not found.")})
    provider = _provider(letter.channel.kind)
    try:
        with transaction.atomic():
            result = parse_and_ingest(provider, letter.channel, bytes(letter.body), replay=True)
    except Malformed as exc:
        letter.reason = exc.reason
        letter.save(update_fields=["reason", "updated_at"])
        raise Invalid(
            _("The delivery still cannot be read: %(reason)s") % {"reason": exc.reason}, {}
        ) from exc
    letter.replayed_at = timezone.now()
    letter.save(update_fields=["replayed_at", "updated_at"])
    return result


def attach_files(comm: Communication, attachments) -> None:
    """Store files sent with a communication: ``attachments`` are (name, bytes, content type)."""
    from django.core.files.base import ContentFile

    for name, content, content_type in attachments:
        att = Attachment(
            workspace_id=comm.workspace_id,
            communication=comm,
            name=name[:255],
            content_type=(content_type or "")[:127],
            size=len(content),
        )
        att.file.save(name, ContentFile(content), save=False)
        att.save()


def do_send_reply(actor, conversation: Conversation, *, text: str = "", attachments=()):
    """Answer in the conversation's own channel and put the reply on the timeline.

    ``attachments`` are (name, bytes, content type). The provider is called first: only a
    message it accepted is recorded as sent.
    """
    from .channels.base import SendFailed

    if not may_write(actor):
        raise NotAllowed(_("Your role may not send messages."))
    if conversation.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"conversation": _("Not found.")})
    # A NUL pasted into the reply box is taken out before the provider sees the text (the
    # database could not keep it once sent).
    text = without_nul(text or "").strip()
    if not text and not attachments:
        raise Invalid(_("Write a message."), {"text": _("This field is required.")})
    channel = conversation.channel
    if not channel.enabled:
        raise Invalid(_("The channel is switched off."), {})
    provider = _provider(channel.kind)
    try:
        external_id = provider.send_reply(channel, conversation, text, list(attachments))
    except SendFailed as exc:
        raise Invalid(str(exc), {}) from exc
    now = timezone.now()
    with transaction.atomic():
        comm = Communication.objects.create(
            workspace_id=conversation.workspace_id,
            kind=CommKind.MESSAGE,
            direction=Direction.OUTGOING,
            channel=channel.timeline_channel,
            occurred_at=now,
            author=actor,
            contact_id=conversation.contact_id,
            deal_id=conversation.deal_id,
            conversation=conversation,
            body=text,
            external_id=str(external_id or "")[:128],
            counterpart=conversation.external_id,
            # The provider took it; WhatsApp's statuses move it on to delivered and read.
            delivery_status=DeliveryStatus.SENT,
        )
        attach_files(comm, attachments)
        record_sent = getattr(provider, "record_sent", None)  # email keeps the sent headers
        if record_sent is not None:
            record_sent(channel, comm)
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now, unread_count=0, updated_at=now
        )
        after_commit(actor.workspace_id, communications=[comm.id])
    return comm


@transaction.atomic
def do_update_inbox_settings(actor, *, inbound_pipeline=None, answer_within_minutes=None):
    """Choose the pipeline new inbound leads start in and the first answer's due time."""
    from .ingest import inbox_settings

    _check_configurer(actor)
    if inbound_pipeline is not None and inbound_pipeline.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"inbound_pipeline": _("Not found.")})
    row = inbox_settings(actor.workspace_id, lock=True)
    row.inbound_pipeline = inbound_pipeline
    if answer_within_minutes is not None:
        if not 1 <= answer_within_minutes <= 24 * 60:
            raise Invalid(
                _("From 1 minute to a day."),
                {"answer_within_minutes": _("From 1 minute to a day.")},
            )
        row.answer_within_minutes = answer_within_minutes
    row.save()
    return row


# --- The inbox: reading, handing over, closing; message templates --------------------------------


def _check_conversation(actor, conversation: Conversation) -> None:
    if not may_write(actor):
        raise NotAllowed(_("Your role may not change conversations."))
    if conversation.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"conversation": _("Not found.")})


def handover_group(actor) -> frozenset[int] | None:
    """Whom ``actor`` may give conversations to: None for anyone (the head, the owner); a senior's
    group; a manager's team with its senior; nobody for the other roles."""
    from voronka.accounts.access import owner_scope
    from voronka.accounts.models import Role, User

    from .rules import EVERYONE_ROLES

    if actor.role in EVERYONE_ROLES:
        return None
    if actor.role == Role.SENIOR:
        return owner_scope(actor)
    if actor.role == Role.MANAGER and actor.team_id:
        ids = set(
            User.objects.filter(workspace_id=actor.workspace_id, team_id=actor.team_id).values_list(
                "id", flat=True
            )
        )
        if actor.team.lead_id:
            ids.add(actor.team.lead_id)
        ids.add(actor.id)
        return frozenset(ids)
    return frozenset({actor.id})


def handover_candidates(actor, conversation: Conversation):
    """The people ``actor`` may give this conversation to, by name (the current one excluded)."""
    from voronka.accounts.models import Role, User

    from .rules import may_hand_over

    if not may_write(actor):
        return User.objects.none()
    people = User.objects.filter(
        workspace_id=actor.workspace_id,
        is_active=True,
        role__in=[Role.OWNER, Role.HEAD, Role.SENIOR, Role.MANAGER],
    ).exclude(id=conversation.assignee_id or 0)
    group = handover_group(actor)
    if group is not None:
        people = people.filter(id__in=group)
    ids = [
        p
        for p in people.values_list("id", flat=True)
        if may_hand_over(
            actor_role=actor.role,
            actor_id=actor.id,
            actor_group=group or (),
            assignee_id=conversation.assignee_id,
            target_id=p,
        )
    ]
    return User.objects.filter(id__in=ids).order_by("first_name", "last_name", "username")


@transaction.atomic
def do_assign_conversation(actor, conversation: Conversation, *, assignee) -> Conversation:
    """Hand a conversation to another person: the assignee to a teammate or their senior, a
    senior within the group, the head and the owner to anyone. Recorded in the conversation."""
    from voronka.accounts.models import Role

    from .models import ConversationEvent, ConversationEventKind
    from .rules import may_hand_over

    _check_conversation(actor, conversation)
    if (
        assignee is None
        or assignee.workspace_id != actor.workspace_id
        or not assignee.is_active
        or assignee.role not in (Role.OWNER, Role.HEAD, Role.SENIOR, Role.MANAGER)
    ):
        raise Invalid(_("Choose a colleague who sells."), {"assignee": _("Not found.")})
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.assignee_id == assignee.id:
        raise Invalid(
            _("The conversation is already theirs."),
            {"assignee": _("The conversation is already theirs.")},
        )
    group = handover_group(actor)
    if not may_hand_over(
        actor_role=actor.role,
        actor_id=actor.id,
        actor_group=group or (),
        assignee_id=conversation.assignee_id,
        target_id=assignee.id,
    ):
        raise NotAllowed(
            _("You may not hand this conversation to %(person)s.") % {"person": assignee},
            {"assignee": _("Choose someone you may hand it to.")},
        )
    previous = conversation.assignee_id
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee", "updated_at"])
    ConversationEvent.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        kind=ConversationEventKind.ASSIGNED,
        actor=actor,
        from_user_id=previous,
        to_user=assignee,
        occurred_at=timezone.now(),
    )
    return conversation


def do_mark_read(actor, conversation: Conversation) -> Conversation:
    """The conversation's messages have been read: its unread count goes to zero."""
    _check_conversation(actor, conversation)
    if conversation.unread_count:
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0, updated_at=now)
        conversation.unread_count = 0
        conversation.updated_at = now
    return conversation


@transaction.atomic
def _set_state(actor, conversation: Conversation, state: str, kind: str, already: str):
    from .models import ConversationEvent

    _check_conversation(actor, conversation)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.state == state:
        raise Invalid(already, {"state": already})
    conversation.state = state
    conversation.save(update_fields=["state", "updated_at"])
    ConversationEvent.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        kind=kind,
        actor=actor,
        occurred_at=timezone.now(),
    )
    return conversation


def do_close_conversation(actor, conversation: Conversation) -> Conversation:
    """Close a conversation that needs nothing more; the client's next message reopens it."""
    from .models import ConversationEventKind, ConversationState

    return _set_state(
        actor,
        conversation,
        ConversationState.CLOSED,
        ConversationEventKind.CLOSED,
        _("The conversation is already closed."),
    )


def do_reopen_conversation(actor, conversation: Conversation) -> Conversation:
    """Open a closed conversation again."""
    from .models import ConversationEventKind, ConversationState

    return _set_state(
        actor,
        conversation,
        ConversationState.OPEN,
        ConversationEventKind.REOPENED,
        _("The conversation is already open."),
    )


def template_values(conversation: Conversation, actor) -> dict[str, str]:
    """What a message template's placeholders stand for in this conversation."""
    contact = conversation.contact
    deal = conversation.deal
    manager = conversation.assignee or actor
    company = (contact.company if contact and contact.company_id else None) or (
        deal.company if deal and deal.company_id else None
    )
    return {
        "contact_name": " ".join(p for p in (contact.first_name, contact.last_name) if p)
        if contact
        else conversation.title,
        "contact_first_name": contact.first_name if contact else "",
        "company_name": company.name if company else "",
        "deal_title": deal.title if deal else "",
        "manager_name": " ".join(p for p in (manager.first_name, manager.last_name) if p)
        or manager.username,
        "manager_first_name": manager.first_name or manager.username,
    }


TEMPLATE_NAME_MAX = 120
TEMPLATE_BODY_MAX = 4000


def _clean_template(name, body) -> tuple[str, str]:
    from .rules import PLACEHOLDERS, unknown_placeholders

    name = without_nul(name or "").strip()
    body = without_nul(body or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > TEMPLATE_NAME_MAX:
        errors["name"] = _("At most %(n)s characters.") % {"n": TEMPLATE_NAME_MAX}
    if not body:
        errors["body"] = _("This field is required.")
    elif len(body) > TEMPLATE_BODY_MAX:
        errors["body"] = _("At most %(n)s characters.") % {"n": TEMPLATE_BODY_MAX}
    else:
        unknown = unknown_placeholders(body)
        if unknown:
            errors["body"] = _("Unknown placeholders: %(names)s. Known: %(known)s.") % {
                "names": ", ".join(f"{{{n}}}" for n in unknown),
                "known": ", ".join(f"{{{n}}}" for n in PLACEHOLDERS),
            }
    if errors:
        raise Invalid(_("Check the template."), errors)
    return name, body


@transaction.atomic
def do_create_message_template(actor, *, name: str, body: str, is_active: bool = True):
    """Add a ready answer managers pick in the reply box."""
    from .models import MessageTemplate

    if not (actor.is_active and actor.may_configure):
        raise NotAllowed(_("Only the head of sales and the owner manage message templates."))
    name, body = _clean_template(name, body)
    return MessageTemplate.objects.create(
        workspace_id=actor.workspace_id, name=name, body=body, is_active=bool(is_active)
    )


@transaction.atomic
def do_update_message_template(actor, template, *, name: str, body: str, is_active: bool):
    """Rewrite a ready answer, or take it out of use (it stays, so it can come back)."""
    if not (actor.is_active and actor.may_configure):
        raise NotAllowed(_("Only the head of sales and the owner manage message templates."))
    if template.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"template": _("Not found.")})
    template.name, template.body = _clean_template(name, body)
    template.is_active = bool(is_active)
    template.save()
    return template


@transaction.atomic
def do_delete_message_template(actor, template) -> None:
    """Delete a ready answer for good (messages sent with it keep their text)."""
    if not (actor.is_active and actor.may_configure):
        raise NotAllowed(_("Only the head of sales and the owner manage message templates."))
    if template.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"template": _("Not found.")})
    template.delete()


def fetch_attachment_file(attachment: Attachment) -> Attachment:
    """Download a file the provider keeps (a Telegram photo by its file id) into our storage.

    Raises ``Invalid`` when the provider cannot give it (``SendFailed`` says why).
    """
    from django.core.files.base import ContentFile

    from .channels import provider_for
    from .channels.base import SendFailed

    if attachment.file or not attachment.external_id:
        return attachment
    conversation = attachment.communication.conversation
    provider = provider_for(conversation.channel.kind) if conversation else None
    fetch = getattr(provider, "fetch_file", None)
    if fetch is None:
        raise Invalid(_("The file is not available."), {"attachment": _("Not available.")})
    try:
        content, path = fetch(conversation.channel, attachment.external_id)
    except SendFailed as exc:
        raise Invalid(str(exc), {"attachment": _("Not available.")}) from exc
    name = attachment.name or path.rsplit("/", 1)[-1] or "file"
    attachment.file.save(name, ContentFile(content), save=False)
    attachment.size = len(content)
    attachment.save(update_fields=["file", "size", "updated_at"])
    return attachment


def do_fetch_attachment(actor, attachment: Attachment) -> Attachment:
    """The file for someone opening it: our stored copy (the worker fetches each file after its
    message arrives, ``media.fetch_attachment``), or, not fetched yet, the provider's, once."""
    if attachment.file or not attachment.external_id:
        return attachment
    return fetch_attachment_file(attachment)
