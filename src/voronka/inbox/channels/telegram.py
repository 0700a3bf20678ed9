"""Telegram bots (Bot API): updates by webhook, replies with sendMessage and sendDocument.

Telegram sends each ``Update`` as a JSON POST carrying ``X-Telegram-Bot-Api-Secret-Token``, the
secret given to ``setWebhook`` (https://core.telegram.org/bots/api#setwebhook); the update's
``update_id`` is the event id. Messages with text, photos, documents, voice notes, audio and
video become communications; their files are kept by ``file_id`` (``fetch_file`` downloads one
through ``getFile``). The API base URL is the ``VORONKA_TELEGRAM_API_BASE`` setting (default
https://api.telegram.org), so a local Bot API server or a test's own server can stand in.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .base import (
    CredentialField,
    Forbidden,
    InboundAttachment,
    InboundEvent,
    Malformed,
    Provider,
    Sender,
    SendFailed,
    Unauthenticated,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def api_base() -> str:
    return getattr(settings, "VORONKA_TELEGRAM_API_BASE", "https://api.telegram.org").rstrip("/")


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(f"{what} must be an integer")
    return value


def _dict(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise Malformed(f"{what} must be an object")
    return value


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _size(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _attachments(message: dict) -> list[InboundAttachment]:
    found = []
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        largest = _dict(photos[-1], "message.photo[]")  # Telegram lists sizes smallest first
        found.append(
            InboundAttachment(
                kind="photo",
                external_id=_str(largest.get("file_id")),
                name="photo.jpg",
                content_type="image/jpeg",
                size=_size(largest.get("file_size")),
            )
        )
    for kind, default_name, default_type in (
        ("document", "document", "application/octet-stream"),
        ("voice", "voice.ogg", "audio/ogg"),
        ("audio", "audio.mp3", "audio/mpeg"),
        ("video", "video.mp4", "video/mp4"),
    ):
        item = message.get(kind)
        if item is None:
            continue
        item = _dict(item, f"message.{kind}")
        found.append(
            InboundAttachment(
                kind=kind,
                external_id=_str(item.get("file_id")),
                name=_str(item.get("file_name")) or default_name,
                content_type=_str(item.get("mime_type")) or default_type,
                size=_size(item.get("file_size")),
            )
        )
    for a in found:
        if not a.external_id:
            raise Malformed(f"message.{a.kind} has no file_id")
    return found


class TelegramProvider(Provider):
    kind = "telegram"
    credential_fields = (
        CredentialField("bot_token", _("Bot token"), _("From @BotFather, e.g. 123456:ABC-DEF…")),
        CredentialField(
            "secret_token",
            _("Webhook secret"),
            _("Telegram sends it with every update. Leave empty to generate one."),
            generated=True,
        ),
    )
    kept_headers = ("content-type", "user-agent")

    # -- Inbound --------------------------------------------------------------------------------

    def verify(self, channel, request) -> None:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            raise Unauthenticated(f"no {SECRET_HEADER} header")
        expected = channel.credentials.get("secret_token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise Forbidden(f"wrong {SECRET_HEADER}")

    def parse(self, channel, body: bytes) -> list[InboundEvent]:
        try:
            update = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Malformed(f"the body is not JSON: {exc}") from exc
        update = _dict(update, "the update")
        update_id = _int(update.get("update_id"), "update_id")
        message = update.get("message")
        if message is None:
            return []  # edits, channel posts, member changes, button presses: nothing to file
        message = _dict(message, "message")
        chat = _dict(message.get("chat"), "message.chat")
        chat_id = _int(chat.get("id"), "message.chat.id")
        date = _int(message.get("date"), "message.date")
        try:
            occurred_at = datetime.fromtimestamp(date, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise Malformed("message.date is out of range") from exc
        author = message.get("from")
        sender = Sender()
        if author is not None:
            author = _dict(author, "message.from")
            sender.messenger_id = str(_int(author.get("id"), "message.from.id"))
            sender.handle = _str(author.get("username"))
            sender.name = " ".join(
                p for p in (_str(author.get("first_name")), _str(author.get("last_name"))) if p
            )
        else:
            sender.messenger_id = str(chat_id)
            sender.name = _str(chat.get("title"))
        shared = message.get("contact")
        if isinstance(shared, dict) and str(shared.get("user_id")) == sender.messenger_id:
            sender.phone = _str(shared.get("phone_number"))
        text = _str(message.get("text")) or _str(message.get("caption"))
        if not text and isinstance(message.get("sticker"), dict):
            text = _str(message["sticker"].get("emoji"))
        return [
            InboundEvent(
                event_id=str(update_id),
                kind="message",
                chat_id=str(chat_id),
                occurred_at=occurred_at,
                sender=sender,
                direction="in",
                text=text,
                attachments=_attachments(message),
                external_id=str(message.get("message_id", "")),
                counterpart=sender.messenger_id,
                line=_str(channel.options.get("bot_username")),
                raw=update,
            )
        ]

    # -- Outbound -------------------------------------------------------------------------------

    def _url(self, channel, method: str) -> str:
        token = channel.credentials.get("bot_token", "")
        if not token:
            raise SendFailed(_("The channel has no bot token."))
        return f"{api_base()}/bot{token}/{method}"

    def _call(self, channel, method: str, **kwargs) -> dict:
        try:
            with httpx.Client(timeout=TIMEOUT) as client:
                response = client.post(self._url(channel, method), **kwargs)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SendFailed(_("Telegram could not be reached: %(e)s") % {"e": exc}) from exc
        if not isinstance(answer, dict) or not answer.get("ok"):
            description = answer.get("description") if isinstance(answer, dict) else None
            raise SendFailed(
                _("Telegram refused: %(e)s") % {"e": description or response.status_code}
            )
        return answer

    @staticmethod
    def _chat(conversation) -> int | str:
        chat = conversation.external_id
        return int(chat) if chat.lstrip("-").isdigit() else chat

    def send_reply(self, channel, conversation, text: str, attachments=()) -> str:
        """Send ``text`` (sendMessage) and each file (sendDocument, the text as the caption of
        the first when there is one); the id of the last message sent comes back."""
        chat = self._chat(conversation)
        message_id = ""
        caption = text
        if text and not attachments:
            answer = self._call(channel, "sendMessage", json={"chat_id": chat, "text": text})
            message_id = str(answer["result"].get("message_id", ""))
        for name, content, content_type in attachments:
            data = {"chat_id": str(chat)}
            if caption:
                data["caption"] = caption
                caption = ""
            answer = self._call(
                channel,
                "sendDocument",
                data=data,
                files={"document": (name, content, content_type or "application/octet-stream")},
            )
            message_id = str(answer["result"].get("message_id", ""))
        return message_id

    def register_webhook(self, channel, url: str) -> None:
        self._call(
            channel,
            "setWebhook",
            json={
                "url": url,
                "secret_token": channel.credentials.get("secret_token", ""),
                "allowed_updates": ["message"],
            },
        )

    def fetch_file(self, channel, file_id: str) -> tuple[bytes, str]:
        """Download a file by its ``file_id`` (getFile, then the file itself): content, path."""
        answer = self._call(channel, "getFile", json={"file_id": file_id})
        path = answer["result"].get("file_path", "")
        token = channel.credentials.get("bot_token", "")
        try:
            with httpx.Client(timeout=TIMEOUT) as client:
                response = client.get(f"{api_base()}/file/bot{token}/{path}")
                response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SendFailed(_("Telegram could not be reached: %(e)s") % {"e": exc}) from exc
        return response.content, path


provider = TelegramProvider()
