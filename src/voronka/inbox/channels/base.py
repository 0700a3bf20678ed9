"""What every provider module gives the ingest path, and what it gets back.

A provider module (``telegram.py``, ``generic_pbx.py``, …) defines a subclass of ``Provider`` and
an instance named ``provider``. The webhook view calls, in this order:

1. ``verify(channel, request)`` — the signature or secret header, from the raw body and headers,
   before anything is parsed. Raises ``Unauthenticated`` (no signature: 401) or ``Forbidden``
   (a wrong or stale one: 403).
2. ``parse(channel, body)`` — the raw body into ``InboundEvent`` values; raises ``Malformed``
   with a reason (400, the body kept as a dead letter). An update the CRM has no use for (a
   Telegram "user joined") gives an empty list and a 200.
3. ``voronka.inbox.ingest.ingest(channel, events)`` stores them in one transaction.

Outbound: ``send_reply(channel, conversation, text, attachments)`` returns the provider's id of
the sent message or raises ``SendFailed``.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from datetime import datetime

from django.http import HttpRequest, HttpResponse

from ..rules import NUL, without_nul


class WebhookRejected(Exception):
    """A delivery refused before it is stored; ``status`` is the HTTP answer."""

    status = 400

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Unauthenticated(WebhookRejected):
    """No signature or secret at all."""

    status = 401


class Forbidden(WebhookRejected):
    """A signature or secret that does not match, or a stale timestamp."""

    status = 403


class Malformed(WebhookRejected):
    """A signed delivery that cannot be read; it is kept as a dead letter."""

    status = 400


class SendFailed(Exception):
    """The provider refused or could not be reached; the message was not sent."""


@dataclass(frozen=True)
class CredentialField:
    """A secret the channel needs (a bot token, an app secret), asked for on the settings page."""

    name: str
    label: str
    help: str = ""
    required: bool = True
    #: Generated when left empty at creation (a webhook secret the provider is then told).
    generated: bool = False


@dataclass
class Sender:
    """Who wrote or called, in every form the provider gives: any of these may find the contact."""

    phone: str = ""  # as the provider gave it; ingest normalises it
    email: str = ""
    messenger_id: str = ""  # the provider's stable user id (Telegram user id, IGSID, wa_id)
    handle: str = ""  # a username, without @
    name: str = ""


@dataclass
class InboundAttachment:
    kind: str  # photo, document, voice, audio, video
    external_id: str  # the provider's file id, fetched later
    name: str = ""
    content_type: str = ""
    size: int | None = None


@dataclass
class InboundEvent:
    """One thing that happened in a channel, in the provider's terms made common.

    ``kind`` is ``message`` or ``call`` (a communication is made) or ``status`` (a delivery or
    read receipt: stored once, no communication). ``chat_id`` names the conversation.
    """

    event_id: str
    kind: str
    chat_id: str
    occurred_at: datetime
    sender: Sender = field(default_factory=Sender)
    direction: str = "in"
    text: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)
    external_id: str = ""  # the message's or call's own id at the provider
    # Calls.
    counterpart: str = ""  # the client's number
    line: str = ""  # our number
    extension: str = ""  # the manager's extension, when the PBX names it
    duration_seconds: int | None = None
    outcome: str = ""  # answered, missed, busy or ""
    # What the provider needs to hand over the call's recording once it is ready (Twilio's
    # RecordingUrl, Mango's recording_id); the worker fetches it.
    recording_ref: str = ""
    # Statuses: how far our outgoing message ``external_id`` got (sent, delivered, read, failed).
    delivery_status: str = ""
    raw: dict = field(default_factory=dict)

    def __post_init__(self):
        """No NUL character in anything stored of the event (``rules.without_nul``): taken out
        of its texts, its sender, its files and its raw payload, once the provider has made it
        (a provider fills ``sender`` before it makes the event). An event id holding one is
        kept by its digest instead, so that it stays apart from the id without it and a second
        event is never taken for a repeat of the first."""
        if isinstance(self.event_id, str) and NUL in self.event_id:
            self.event_id = "sha256:" + hashlib.sha256(self.event_id.encode()).hexdigest()
        for item in (self, self.sender, *self.attachments):
            for f in _TEXT_FIELDS.get(type(item), ()):
                value = getattr(item, f)
                if isinstance(value, str) and NUL in value:
                    setattr(item, f, value.replace(NUL, ""))
        self.raw = without_nul(self.raw)


#: The fields of each part of an event that may hold text.
_TEXT_FIELDS = {
    cls: tuple(f.name for f in fields(cls) if f.name not in ("raw", "sender", "attachments"))
    for cls in (InboundEvent, Sender, InboundAttachment)
}


class Provider(ABC):
    """The interface of a provider module; see the module docstring for the order of calls."""

    kind: str = ""
    credential_fields: tuple[CredentialField, ...] = ()
    #: Header names kept with a dead letter (lower case), for the head to see what came.
    kept_headers: tuple[str, ...] = ("content-type", "user-agent")
    #: URL suffixes (``events/<path>``) the provider posts to after the channel's URL.
    event_paths: tuple[str, ...] = ()
    #: Whether ``place_call`` rings a client from the CRM (click-to-call).
    can_call: bool = False
    #: A template shown beside the channel's settings instead of the webhook URL (the site
    #: chat's embed code); it gets ``channel`` and ``request``.
    settings_template: str = ""

    def option_fields(self) -> dict:
        """Settings that are not secret (kept in ``channel.options``), as form fields by name."""
        return {}

    def options_initial(self, options: dict) -> dict:
        """The option fields' initial values from ``channel.options``."""
        return dict(options)

    def clean_options(self, values: dict) -> dict:
        """The option fields' cleaned values as ``channel.options`` keeps them (JSON)."""
        return dict(values)

    def handshake(self, channel, request: HttpRequest) -> HttpResponse | None:
        """Answer a GET the provider sends to check the URL (WhatsApp's hub.challenge)."""
        return None

    @abstractmethod
    def verify(self, channel, request: HttpRequest) -> None:
        """Check the signature or secret from the raw body and headers, before parsing."""

    @abstractmethod
    def parse(self, channel, body: bytes) -> list[InboundEvent]:
        """Turn the raw body into events; ``Malformed`` with a reason when it cannot."""

    def send_reply(self, channel, conversation, text: str, attachments=()) -> str:
        raise SendFailed("This channel cannot send messages.")

    def register_webhook(self, channel, url: str) -> None:
        """Tell the provider where to deliver (Telegram's setWebhook); not every one can."""
        raise SendFailed("This channel is pointed at its URL in the provider's own settings.")

    @property
    def can_register_webhook(self) -> bool:
        return type(self).register_webhook is not Provider.register_webhook

    @property
    def can_reply(self) -> bool:
        return type(self).send_reply is not Provider.send_reply
