"""What people do with email: write to a deal's client, choose whose a mailbox is, read a
mailbox now instead of waiting for the worker."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import may_write
from voronka.control.evaluate import after_commit
from voronka.core.errors import Invalid, NotAllowed

from ..actions import attach_files
from ..channels.base import SendFailed
from ..models import (
    ChannelConfig,
    ChannelKind,
    CommKind,
    Communication,
    Conversation,
    Direction,
)
from .config import mailbox_config
from .recording import record_outgoing
from .sending import Outgoing, send

SUBJECT_MAX = 255
TEXT_MAX = 100_000


def sending_channels(user):
    """The mailboxes a person may write from: the shared ones and their own; the head and the
    owner any."""
    qs = ChannelConfig.objects.filter(
        workspace_id=user.workspace_id, kind=ChannelKind.EMAIL, enabled=True
    )
    if not user.may_configure:
        qs = qs.filter(
            Q(mailbox__isnull=True) | Q(mailbox__owner__isnull=True) | Q(mailbox__owner=user)
        )
    return qs.order_by("name", "id")


def do_send_email(actor, deal, *, channel, to: str, subject: str, text: str, attachments=()):
    """Write a new email to the deal's client from a mailbox: sent over SMTP, filed in Sent, and
    put on the timeline as the first message of a new conversation."""
    if not may_write(actor):
        raise NotAllowed(_("Your role may not send messages."))
    if deal.workspace_id != actor.workspace_id or channel.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"deal": _("Not found.")})
    if not sending_channels(actor).filter(pk=channel.pk).exists():
        raise Invalid(
            _("You may not write from this mailbox."), {"channel": _("Choose a mailbox.")}
        )
    to = (to or "").strip().lower()
    subject = " ".join((subject or "").split())
    text = (text or "").strip()
    errors = {}
    if "@" not in to or " " in to or len(to) > 254:
        errors["to"] = _("Enter an email address.")
    if not subject:
        errors["subject"] = _("This field is required.")
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = _("At most %(n)s characters.") % {"n": SUBJECT_MAX}
    if not text:
        errors["text"] = _("This field is required.")
    elif len(text) > TEXT_MAX:
        errors["text"] = _("At most %(n)s characters.") % {"n": TEXT_MAX}
    if errors:
        raise Invalid(_("Check the email."), errors)
    try:
        sent = send(
            mailbox_config(channel),
            Outgoing(to=to, subject=subject, text=text, attachments=list(attachments)),
        )
    except SendFailed as exc:
        raise Invalid(str(exc), {}) from exc
    now = timezone.now()
    with transaction.atomic():
        conversation, _made = Conversation.objects.get_or_create(
            channel=channel,
            external_id=sent.key,
            defaults={
                "workspace_id": actor.workspace_id,
                "contact_id": deal.contact_id,
                "deal": deal,
                "assignee": deal.owner,
                "title": str(deal.contact or to)[:255],
                "last_message_at": now,
            },
        )
        comm = Communication.objects.create(
            workspace_id=actor.workspace_id,
            kind=CommKind.EMAIL,
            direction=Direction.OUTGOING,
            channel=channel.timeline_channel,
            occurred_at=now,
            author=actor,
            contact_id=deal.contact_id,
            deal=deal,
            conversation=conversation,
            body=text,
            external_id=sent.key,
            counterpart=to[:128],
            line=mailbox_config(channel).address[:128],
        )
        attach_files(comm, attachments)
        record_outgoing(channel, comm, sent)
        after_commit(actor.workspace_id, communications=[comm.id])
    return comm


@transaction.atomic
def do_set_mailbox_owner(actor, channel, *, owner):
    """Make a mailbox a manager's own (their leads come to them) or shared (``owner=None``)."""
    from .fetching import mailbox_of

    if not (actor.is_active and actor.may_configure):
        raise NotAllowed(_("Only the head of sales and the owner configure channels."))
    if channel.workspace_id != actor.workspace_id or channel.kind != ChannelKind.EMAIL:
        raise Invalid(_("Not found."), {"channel": _("Not found.")})
    if owner is not None and (owner.workspace_id != actor.workspace_id or not owner.is_active):
        raise Invalid(_("Choose a person of the team."), {"owner": _("Choose a person.")})
    mailbox = mailbox_of(channel)
    mailbox.owner = owner
    mailbox.save(update_fields=["owner", "updated_at"])
    return mailbox


def do_fetch_mailbox_now(actor, channel):
    """Read the mailbox at once (after fixing its password, say) instead of at its next turn."""
    from .fetching import fetch_mailbox

    if not (actor.is_active and actor.may_configure):
        raise NotAllowed(_("Only the head of sales and the owner configure channels."))
    if channel.workspace_id != actor.workspace_id or channel.kind != ChannelKind.EMAIL:
        raise Invalid(_("Not found."), {"channel": _("Not found.")})
    return fetch_mailbox(channel)
