"""Click-to-call: the manager calls a client from the contact's or the deal's page through the
workspace's telephony channel (Twilio's Calls API, Mango's callback command).

The call itself lands on the timeline by the provider's webhooks, as any call does. Twilio's
callbacks do not say who asked for the call, so the call is put on the timeline at once under
the manager's name with Twilio's call SID, and its statuses then update that communication;
Mango rings the manager's extension first, and its events name it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import may_write
from voronka.clients.phones import normalise_phone
from voronka.control.evaluate import after_commit
from voronka.core.errors import Invalid, NotAllowed

from .models import ChannelConfig, CommKind, Communication, Conversation, Direction


@dataclass
class PlacedCall:
    channel: ChannelConfig
    reference: str  # the provider's call id (Twilio) or our command id (Mango)
    communication: Communication | None = None


def calling_channels(workspace_id: int):
    """The workspace's enabled channels that can place calls, the oldest first."""
    from .channels import provider_for

    rows = ChannelConfig.objects.filter(workspace_id=workspace_id, enabled=True).order_by("id")
    return [c for c in rows if getattr(provider_for(c.kind), "can_call", False)]


def public_base_url(request=None) -> str:
    """Where providers reach this server: ``VORONKA_PUBLIC_URL``, else the request's host."""
    base = getattr(settings, "VORONKA_PUBLIC_URL", "")
    if base:
        return base.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    raise Invalid(_("Set VORONKA_PUBLIC_URL so that the provider can reach this server."), {})


def do_place_call(actor, *, contact, deal=None, base_url: str) -> PlacedCall:
    """Ask the telephony channel to connect the manager with the contact's phone."""
    from .actions import webhook_url
    from .channels import provider_for
    from .channels.base import SendFailed

    if not may_write(actor):
        raise NotAllowed(_("Your role may not call clients."))
    if contact.workspace_id != actor.workspace_id or (
        deal is not None and deal.workspace_id != actor.workspace_id
    ):
        raise Invalid(_("Not found."), {})
    phone = normalise_phone(contact.phone) if contact.phone else None
    if not phone:
        raise Invalid(_("The contact has no phone number to call."), {"phone": _("Add a phone.")})
    channels = calling_channels(actor.workspace_id)
    if not channels:
        raise Invalid(_("Connect Twilio or Mango Office in the channel settings to call."), {})
    channel = channels[0]
    provider = provider_for(channel.kind)
    try:
        if channel.kind == "twilio":
            own = normalise_phone(actor.phone) if actor.phone else None
            if not own:
                raise Invalid(
                    _("Add your phone number to your profile: Twilio connects you on it."), {}
                )
            reference = provider.place_call(
                channel,
                client_phone=phone,
                manager_phone=own,
                callback_url=webhook_url(channel, base_url),
            )
        else:
            if not actor.extension:
                raise Invalid(_("Ask the head to give you a PBX extension to call from."), {})
            reference = provider.place_call(channel, client_phone=phone, extension=actor.extension)
    except SendFailed as exc:
        raise Invalid(str(exc), {}) from exc
    placed = PlacedCall(channel=channel, reference=reference)
    if channel.kind == "twilio":
        placed.communication = _put_on_timeline(actor, channel, contact, deal, phone, reference)
    return placed


@transaction.atomic
def _put_on_timeline(actor, channel, contact, deal, phone: str, call_sid: str) -> Communication:
    from .ingest import _open_deal_of

    deal = deal or _open_deal_of(contact)
    now = timezone.now()
    conversation, _created = Conversation.objects.get_or_create(
        channel=channel,
        external_id=phone,
        defaults={
            "workspace_id": actor.workspace_id,
            "contact": contact,
            "deal": deal,
            "assignee": actor,
            "title": str(contact)[:255],
            "last_message_at": now,
        },
    )
    comm, _created = Communication.objects.get_or_create(
        workspace_id=actor.workspace_id,
        conversation=conversation,
        kind=CommKind.CALL,
        external_id=call_sid[:128],
        defaults={
            "direction": Direction.OUTGOING,
            "channel": channel.timeline_channel,
            "occurred_at": now,
            "author": actor,
            "contact": contact,
            "deal": deal,
            "counterpart": phone,
            "line": channel.credentials.get("phone_number", "")[:128],
        },
    )
    after_commit(actor.workspace_id, communications=[comm.id])
    return comm
