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
    Direction,
)

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
        values["comment"] = (values["comment"] or "").strip()
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
    comm.comment = (comment or "").strip()
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
            result = parse_and_ingest(provider, letter.channel, bytes(letter.body))
    except Malformed as exc:
        letter.reason = exc.reason
        letter.save(update_fields=["reason", "updated_at"])
        raise Invalid(
            _("The delivery still cannot be read: %(reason)s") % {"reason": exc.reason}, {}
        ) from exc
    letter.replayed_at = timezone.now()
    letter.save(update_fields=["replayed_at", "updated_at"])
    return result


def do_send_reply(actor, conversation: Conversation, *, text: str = "", attachments=()):
    """Answer in the conversation's own channel and put the reply on the timeline.

    ``attachments`` are (name, bytes, content type). The provider is called first: only a
    message it accepted is recorded as sent.
    """
    from django.core.files.base import ContentFile

    from .channels.base import SendFailed

    if not may_write(actor):
        raise NotAllowed(_("Your role may not send messages."))
    if conversation.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"conversation": _("Not found.")})
    text = (text or "").strip()
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
        )
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

