"""WhatsApp Business (Meta's Cloud API): messages and delivery statuses by webhook, replies
through the Graph API's messages endpoint.

Meta checks the URL with the verification GET (``meta.handshake``) and signs every POST with
``X-Hub-Signature-256`` (``meta.verify_signature``). A delivery is
``{"object": "whatsapp_business_account", "entry": [{"id": WABA id, "changes": [{"field":
"messages", "value": {...}}]}]}`` where ``value`` has ``metadata`` (our ``display_phone_number``
and ``phone_number_id``), ``contacts`` (``profile.name`` by ``wa_id``), ``messages`` (from the
client; the ``wamid`` is the event id) and ``statuses`` (sent, delivered, read or failed for a
message we sent). See https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components.

A client's ``wa_id`` is their phone number in international form without the plus: it finds the
contact by normalised phone and names the conversation. Replies: ``POST {graph}/{version}/
{phone_number_id}/messages`` with ``{"messaging_product": "whatsapp", "to": wa_id, "type":
"text", "text": {"body": …}}``; a file is uploaded to ``/{phone_number_id}/media`` first and sent
as a document by its media id.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from voronka.clients.phones import normalise_phone

from . import meta
from .base import (
    CredentialField,
    InboundAttachment,
    InboundEvent,
    Malformed,
    Provider,
    Sender,
    SendFailed,
)

#: Message types that carry a file, and the file's default name and type.
MEDIA = {
    "image": ("image.jpg", "image/jpeg"),
    "document": ("document", "application/octet-stream"),
    "audio": ("audio.ogg", "audio/ogg"),
    "voice": ("voice.ogg", "audio/ogg"),
    "video": ("video.mp4", "video/mp4"),
    "sticker": ("sticker.webp", "image/webp"),
}
STATUSES = ("sent", "delivered", "read", "failed")
#: WhatsApp's limit for a media caption; a longer text goes as a message of its own.
CAPTION_LIMIT = 1024


def _attachment(message: dict, kind: str) -> tuple[list[InboundAttachment], str]:
    media = meta.as_dict(message.get(kind), f"message.{kind}")
    default_name, default_type = MEDIA[kind]
    if kind == "audio" and media.get("voice") is True:
        kind, default_name = "voice", MEDIA["voice"][0]
    found = InboundAttachment(
        kind=kind,
        external_id=meta.as_str(media.get("id"), f"message.{kind}.id"),
        name=meta.text_of(media.get("filename")) or default_name,
        content_type=meta.text_of(media.get("mime_type")).split(";")[0].strip() or default_type,
    )
    return [found], meta.text_of(media.get("caption"))


def _location(message: dict) -> str:
    place = meta.as_dict(message.get("location"), "message.location")
    lat, lon = place.get("latitude"), place.get("longitude")
    lines = [meta.text_of(place.get("name")), meta.text_of(place.get("address"))]
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
        lines.append(f"{lat}, {lon}")
    return "\n".join(line for line in lines if line)


def _shared_contacts(message: dict) -> str:
    lines = []
    for card in meta.as_list(message.get("contacts"), "message.contacts"):
        card = meta.as_dict(card, "message.contacts[]")
        name = card.get("name")
        name = meta.text_of(name.get("formatted_name")) if isinstance(name, dict) else ""
        phones = card.get("phones") if isinstance(card.get("phones"), list) else []
        numbers = [meta.text_of(p.get("phone")) for p in phones if isinstance(p, dict)]
        lines.append(" ".join(p for p in [name, *numbers] if p))
    return "\n".join(line for line in lines if line)


def _content(message: dict, kind: str) -> tuple[str, list[InboundAttachment]]:
    """The text and the files of a message of this ``type``."""
    if kind == "text":
        text = meta.as_dict(message.get("text"), "message.text")
        return meta.text_of(text.get("body")), []
    if kind in MEDIA:
        attachments, caption = _attachment(message, kind)
        return caption, attachments
    if kind == "location":
        return _location(message), []
    if kind == "contacts":
        return _shared_contacts(message), []
    if kind == "button":
        return meta.text_of(meta.as_dict(message.get("button"), "message.button").get("text")), []
    if kind == "interactive":
        answer = meta.as_dict(message.get("interactive"), "message.interactive")
        for key in ("button_reply", "list_reply"):
            if isinstance(answer.get(key), dict):
                return meta.text_of(answer[key].get("title")), []
        return "", []
    if kind == "reaction":
        return meta.text_of(
            meta.as_dict(message.get("reaction"), "message.reaction").get("emoji")
        ), []
    # An order, a system notice, an "unsupported" type: kept whole in the received event, and
    # on the timeline by its type so that the manager knows something came.
    return f"[{kind}]", []


class WhatsAppProvider(Provider):
    kind = "whatsapp"
    credential_fields = (
        CredentialField(
            "app_secret",
            _("App secret"),
            _("Meta app dashboard → App settings → Basic → App secret; it signs every event."),
        ),
        CredentialField(
            "verify_token",
            _("Verify token"),
            _(
                "Typed into the app's webhook settings with the callback URL. "
                "Leave empty to generate one."
            ),
            generated=True,
        ),
        CredentialField(
            "access_token",
            _("Access token"),
            _("A system user's permanent token with whatsapp_business_messaging."),
        ),
        CredentialField(
            "phone_number_id",
            _("Phone number ID"),
            _("WhatsApp → API setup: the ID of the business number (not the number itself)."),
        ),
    )
    kept_headers = ("content-type", "user-agent", meta.SIGNATURE_HEADER.lower())

    # -- Inbound --------------------------------------------------------------------------------

    def handshake(self, channel, request):
        return meta.handshake(channel, request)

    def verify(self, channel, request) -> None:
        meta.verify_signature(channel, request)

    def parse(self, channel, body: bytes) -> list[InboundEvent]:
        payload = meta.load(body, "whatsapp_business_account")
        ours = channel.credentials.get("phone_number_id", "")
        events: list[InboundEvent] = []
        for entry in meta.as_list(payload.get("entry"), "entry"):
            entry = meta.as_dict(entry, "entry[]")
            for change in meta.as_list(entry.get("changes"), "entry[].changes"):
                change = meta.as_dict(change, "entry[].changes[]")
                if change.get("field", "messages") != "messages":
                    continue  # template reviews, quality ratings, account updates
                value = meta.as_dict(change.get("value"), "changes[].value")
                events.extend(self._value(value, ours))
        return events

    def _value(self, value: dict, ours: str) -> list[InboundEvent]:
        metadata = meta.as_dict(value.get("metadata"), "value.metadata")
        number_id = meta.as_str(metadata.get("phone_number_id"), "metadata.phone_number_id")
        if ours and number_id != ours:
            raise Malformed(
                f"the event is for phone number ID {number_id[:40]}, "
                "and this channel is configured for another one"
            )
        display = meta.text_of(metadata.get("display_phone_number"))
        line = normalise_phone("+" + display.lstrip("+")) if display else None
        line = line or display
        names = {}
        for contact in meta.as_list(value.get("contacts"), "value.contacts", optional=True):
            contact = meta.as_dict(contact, "value.contacts[]")
            profile = contact.get("profile")
            if isinstance(profile, dict):
                names[str(contact.get("wa_id"))] = meta.text_of(profile.get("name"))
        events = []
        for message in meta.as_list(value.get("messages"), "value.messages", optional=True):
            events.append(self._message(meta.as_dict(message, "messages[]"), names, line))
        for status in meta.as_list(value.get("statuses"), "value.statuses", optional=True):
            events.append(self._status(meta.as_dict(status, "statuses[]"), line))
        return events

    def _message(self, message: dict, names: dict, line: str) -> InboundEvent:
        wamid = meta.as_str(message.get("id"), "message.id")
        wa_id = meta.as_str(message.get("from"), "message.from")
        kind = meta.as_str(message.get("type"), "message.type")
        occurred_at = meta.unix_time(message.get("timestamp"), "message.timestamp")
        text, attachments = _content(message, kind)
        phone = normalise_phone("+" + wa_id.lstrip("+")) or ""
        return InboundEvent(
            event_id=wamid,
            kind="message",
            chat_id=wa_id,
            occurred_at=occurred_at,
            sender=Sender(phone=phone, messenger_id=wa_id, name=names.get(wa_id, "")),
            direction="in",
            text=text,
            attachments=attachments,
            external_id=wamid,
            counterpart=phone or wa_id,
            line=line,
            raw=message,
        )

    def _status(self, status: dict, line: str) -> InboundEvent:
        wamid = meta.as_str(status.get("id"), "status.id")
        state = status.get("status")
        if state not in STATUSES:
            raise Malformed("status must be sent, delivered, read or failed")
        return InboundEvent(
            # One message has one event per state: the same wamid comes sent, delivered, read.
            event_id=f"{wamid}:{state}",
            kind="status",
            chat_id=meta.as_str(status.get("recipient_id"), "status.recipient_id"),
            occurred_at=meta.unix_time(status.get("timestamp"), "status.timestamp"),
            direction="out",
            external_id=wamid,
            line=line,
            delivery_status=state,
            raw=status,
        )

    # -- Outbound -------------------------------------------------------------------------------

    def _number_id(self, channel) -> str:
        number_id = channel.credentials.get("phone_number_id", "")
        if not number_id:
            raise SendFailed(_("The channel has no phone number ID."))
        return number_id

    def _send(self, channel, to: str, kind: str, content: dict) -> str:
        answer = meta.graph_post(
            channel,
            meta.graph_url(self._number_id(channel), "messages"),
            json={"messaging_product": "whatsapp", "to": to, "type": kind, kind: content},
        )
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return str(messages[0].get("id") or "")
        return ""

    def _upload(self, channel, name: str, content: bytes, content_type: str) -> str:
        answer = meta.graph_post(
            channel,
            meta.graph_url(self._number_id(channel), "media"),
            data={"messaging_product": "whatsapp", "type": content_type},
            files={"file": (name, content, content_type)},
        )
        media_id = answer.get("id")
        if not media_id:
            raise SendFailed(_("Meta did not return the uploaded file's id."))
        return str(media_id)

    def send_reply(self, channel, conversation, text: str, attachments=()) -> str:
        """Send ``text`` as a text message and each file as a document (uploaded, then sent by
        its media id, the text as the first one's caption when it fits); the last wamid."""
        to = conversation.external_id
        caption = text if attachments and len(text) <= CAPTION_LIMIT else ""
        message_id = ""
        if text and not caption:
            message_id = self._send(channel, to, "text", {"body": text})
        for name, content, content_type in attachments:
            content_type = content_type or "application/octet-stream"
            document = {"id": self._upload(channel, name, content, content_type), "filename": name}
            if caption:
                document["caption"] = caption
                caption = ""
            message_id = self._send(channel, to, "document", document)
        return message_id


provider = WhatsAppProvider()
