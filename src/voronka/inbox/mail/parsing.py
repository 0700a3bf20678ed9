"""A raw email (RFC 5322 bytes) read into plain values: who, to whom, the thread headers, the
text, the HTML and the files. Standard library only."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from ..rules import without_nul

#: A Message-ID as the communication's and the received event's 128-character columns keep it.
KEY_LENGTH = 128
_MSGID = re.compile(r"<[^<>\s]+>")

#: Files whose type could run script if opened in the browser are kept as plain downloads.
ACTIVE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml")


def message_key(message_id: str) -> str:
    """The Message-ID as stored: as it is when it fits, else by its digest."""
    message_id = (message_id or "").strip()
    if len(message_id) <= KEY_LENGTH:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


def message_ids(value: str) -> list[str]:
    """The ``<id>`` items of a References or In-Reply-To header, in order, each once."""
    found: list[str] = []
    for item in _MSGID.findall(value or ""):
        if item not in found:
            found.append(item)
    return found


@dataclass
class ParsedAttachment:
    name: str
    content_type: str
    content: bytes


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)

    @property
    def key(self) -> str:
        return message_key(self.message_id)

    @property
    def thread_ids(self) -> list[str]:
        """The messages this one answers, nearest first: In-Reply-To, then References backwards."""
        ids = message_ids(self.in_reply_to)
        for item in reversed(self.references):
            if item not in ids:
                ids.append(item)
        return ids


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):  # an unreadable header is treated as absent
        return ""
    return " ".join(str(value or "").split())


def _addresses(msg: EmailMessage, name: str) -> list[tuple[str, str]]:
    raw = []
    for value in msg.get_all(name, []) or []:
        raw.append(str(value))
    return [(n, a.strip().lower()) for n, a in getaddresses(raw) if "@" in a]


def _date(msg: EmailMessage) -> datetime | None:
    value = _header(msg, "Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _text_of(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def parse_email(raw: bytes) -> ParsedEmail:
    """Read a raw message. A message without a Message-ID gets one from its bytes' digest, so
    the same message fetched twice is still the same message."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    message_id = (message_ids(_header(msg, "Message-ID")) or [""])[0]
    if not message_id:
        message_id = "<sha256." + hashlib.sha256(raw).hexdigest() + "@voronka.invalid>"
    sender = _addresses(msg, "From")
    name, address = sender[0] if sender else ("", "")
    parsed = ParsedEmail(
        message_id=message_id,
        in_reply_to=" ".join(message_ids(_header(msg, "In-Reply-To"))),
        references=message_ids(_header(msg, "References")),
        subject=_header(msg, "Subject"),
        from_address=address,
        from_name=name,
        to=[a for _n, a in _addresses(msg, "To")],
        cc=[a for _n, a in _addresses(msg, "Cc")],
        date=_date(msg),
    )
    body_parts = set()
    for preference in (("plain",), ("html",)):
        part = msg.get_body(preferencelist=preference)
        if part is None:
            continue
        body_parts.add(id(part))
        if preference == ("plain",):
            parsed.text = _text_of(part)
        else:
            parsed.html = _text_of(part)
    for part in msg.walk():
        if part.is_multipart() or id(part) in body_parts:
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition not in ("attachment", "inline") and not filename:
            continue
        content = part.get_payload(decode=True) or b""
        content_type = part.get_content_type()
        if content_type in ACTIVE_TYPES:
            content_type = "application/octet-stream"
        parsed.attachments.append(
            ParsedAttachment(
                name=(filename or "file").replace("/", "_").replace("\\", "_")[:255],
                content_type=content_type,
                content=content,
            )
        )
    if not parsed.text and parsed.html:
        parsed.text = html_to_text(parsed.html)
    return _without_nul(parsed)


def _without_nul(parsed: ParsedEmail) -> ParsedEmail:
    """The message's texts without NUL characters (a part may decode to one; PostgreSQL stores
    none): the message is kept without them rather than refused. The files stay as sent."""
    for item in (parsed, *parsed.attachments):
        for f in fields(item):
            value = getattr(item, f.name)
            if isinstance(value, (str, list)):
                setattr(item, f.name, without_nul(value))
    return parsed


_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)


def html_to_text(html: str) -> str:
    """A plain-text rendering of HTML mail, for previews and search (never shown as HTML)."""
    import html as htmllib

    text = _BREAKS.sub("\n", html or "")
    text = _TAGS.sub("", text)
    text = htmllib.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def reply_subject(subject: str) -> str:
    """``Re: subject``, without piling up prefixes."""
    subject = (subject or "").strip()
    if re.match(r"^(re|ответ|aw|sv)\s*:", subject, re.IGNORECASE):
        return subject
    return f"Re: {subject}" if subject else "Re:"


def format_address(name: str, address: str) -> str:
    """``"Name" <address>`` with the name encoded as the header needs."""
    if not name:
        return address
    user, _at, domain = address.partition("@")
    return str(Address(display_name=name, username=user, domain=domain))
