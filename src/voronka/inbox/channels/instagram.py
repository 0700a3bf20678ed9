"""Instagram direct messages (Meta's messaging webhooks), replies through the Send API.

The same handshake and the same ``X-Hub-Signature-256`` signing as WhatsApp (``meta``). A
delivery is ``{"object": "instagram", "entry": [{"id": our account, "time": …, "messaging":
[…]}]}``; each ``messaging`` item has ``sender.id`` and ``recipient.id`` (Instagram-scoped ids,
IGSID), ``timestamp`` (milliseconds) and one of:

- ``message``: ``mid`` (the event id), ``text``, ``attachments`` (``type`` and ``payload.url``);
  with ``is_echo`` it is our own message coming back (sent from here or from the Instagram app),
  kept once but not filed as the client's; with ``is_deleted`` the client withdrew it;
- ``read``: ``mid`` of our message the client has seen — its delivery status becomes «read».

See https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook. The
sender has no phone or name here: they are found by their IGSID (``MessengerIdentity``).
Replies: ``POST {graph}/{version}/{account id or "me"}/messages`` with ``{"recipient": {"id":
IGSID}, "message": {"text": …}}`` and the page access token.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from . import meta
from .base import (
    CredentialField,
    InboundAttachment,
    InboundEvent,
    Provider,
    Sender,
    SendFailed,
)

#: Attachment types with their default names and content types.
ATTACHMENT_TYPES = {
    "image": ("image.jpg", "image/jpeg"),
    "video": ("video.mp4", "video/mp4"),
    "audio": ("audio.mp4", "audio/mp4"),
    "file": ("file", "application/octet-stream"),
}


def _attachments(message: dict) -> list[InboundAttachment]:
    found = []
    for item in meta.as_list(message.get("attachments"), "message.attachments", optional=True):
        item = meta.as_dict(item, "message.attachments[]")
        kind = meta.as_str(item.get("type"), "message.attachments[].type")
        payload = item.get("payload")
        url = meta.text_of(payload.get("url")) if isinstance(payload, dict) else ""
        name, content_type = ATTACHMENT_TYPES.get(kind, (kind, ""))
        # The URL is a CDN link Instagram keeps for a while; a longer one than the column stays
        # in the received event's payload.
        found.append(
            InboundAttachment(
                kind=kind,
                external_id=url if len(url) <= 255 else "",
                name=name[:255],
                content_type=content_type,
            )
        )
    return found


class InstagramProvider(Provider):
    kind = "instagram"
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
            _("Page access token"),
            _(
                "The token of the Facebook page linked to the Instagram account, "
                "with instagram_manage_messages."
            ),
        ),
        CredentialField(
            "ig_account_id",
            _("Instagram account ID"),
            _("The professional account's ID; empty: replies go through /me/messages."),
            required=False,
        ),
    )
    kept_headers = ("content-type", "user-agent", meta.SIGNATURE_HEADER.lower())

    # -- Inbound --------------------------------------------------------------------------------

    def handshake(self, channel, request):
        return meta.handshake(channel, request)

    def verify(self, channel, request) -> None:
        meta.verify_signature(channel, request)

    def parse(self, channel, body: bytes) -> list[InboundEvent]:
        payload = meta.load(body, "instagram")
        events: list[InboundEvent] = []
        for entry in meta.as_list(payload.get("entry"), "entry"):
            entry = meta.as_dict(entry, "entry[]")
            # Comments and mentions come as ``changes``: not messages, nothing to file.
            for item in meta.as_list(entry.get("messaging"), "entry[].messaging", optional=True):
                event = self._item(meta.as_dict(item, "messaging[]"))
                if event is not None:
                    events.append(event)
        return events

    def _item(self, item: dict) -> InboundEvent | None:
        sender = meta.as_str(meta.as_dict(item.get("sender"), "sender").get("id"), "sender.id")
        recipient = meta.as_str(
            meta.as_dict(item.get("recipient"), "recipient").get("id"), "recipient.id"
        )
        occurred_at = meta.unix_time(item.get("timestamp"), "timestamp", millis=True)
        if "message" in item:
            message = meta.as_dict(item["message"], "message")
            mid = meta.as_str(message.get("mid"), "message.mid")
            if message.get("is_echo") is True:
                # Ours, coming back: the client is the recipient. Kept once, not a new message.
                return InboundEvent(
                    event_id=mid,
                    kind="echo",
                    chat_id=recipient,
                    occurred_at=occurred_at,
                    direction="out",
                    external_id=mid,
                    raw=item,
                )
            if message.get("is_deleted") is True:
                return InboundEvent(
                    event_id=f"{mid}:deleted",
                    kind="deleted",
                    chat_id=sender,
                    occurred_at=occurred_at,
                    external_id=mid,
                    raw=item,
                )
            return InboundEvent(
                event_id=mid,
                kind="message",
                chat_id=sender,
                occurred_at=occurred_at,
                sender=Sender(messenger_id=sender),
                direction="in",
                text=meta.text_of(message.get("text")),
                attachments=_attachments(message),
                external_id=mid,
                counterpart=sender,
                line=recipient,
                raw=item,
            )
        if "read" in item:
            mid = meta.as_str(meta.as_dict(item["read"], "read").get("mid"), "read.mid")
            return InboundEvent(
                event_id=f"{mid}:read",
                kind="status",
                chat_id=sender,
                occurred_at=occurred_at,
                direction="out",
                external_id=mid,
                delivery_status="read",
                raw=item,
            )
        return None  # reactions, postbacks, referrals: nothing to file

    # -- Outbound -------------------------------------------------------------------------------

    def send_reply(self, channel, conversation, text: str, attachments=()) -> str:
        """Send ``text`` to the client's IGSID; the ``message_id`` Meta gives back."""
        if attachments:
            raise SendFailed(
                _("Instagram takes files only by a public link: send the link in the text.")
            )
        account = channel.credentials.get("ig_account_id", "") or "me"
        answer = meta.graph_post(
            channel,
            meta.graph_url(account, "messages"),
            json={"recipient": {"id": conversation.external_id}, "message": {"text": text}},
        )
        return str(answer.get("message_id") or "")


provider = InstagramProvider()
