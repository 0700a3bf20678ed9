"""Sending mail: over the mailbox's own SMTP server (Django's EmailMessage with a connection
per channel), then a copy APPENDed to its Sent folder over IMAP, so the mail client of whoever
reads the mailbox shows it too."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.utils import make_msgid

from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.utils import timezone
from imapclient.exceptions import IMAPClientError

from ..channels.base import SendFailed
from .config import TIMEOUT, MailboxConfig
from .parsing import format_address, message_ids, message_key, reply_subject

log = logging.getLogger("voronka.inbox.mail")

#: References grow with every reply; the root and the latest ones are what threading needs.
MAX_REFERENCES = 20


@dataclass
class Outgoing:
    """A mail to send, and after sending its Message-ID and bytes."""

    to: str
    subject: str
    text: str
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list = field(default_factory=list)  # (name, bytes, content type)
    message_id: str = ""
    raw: bytes = b""

    @property
    def key(self) -> str:
        return message_key(self.message_id)


def reply_to(previous) -> Outgoing:
    """The headers of an answer to ``previous`` (an ``EmailHeaders``): its sender (or, for our
    own mail, its first recipient), ``Re:`` its subject, In-Reply-To its Message-ID and the
    References chain extended by it."""
    outgoing = previous.communication.direction == "out"
    to = previous.to_addresses.split(",")[0].strip() if outgoing else previous.from_address
    chain = message_ids(previous.references)
    if previous.message_id not in chain:
        chain.append(previous.message_id)
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    return Outgoing(
        to=to,
        subject=reply_subject(previous.subject),
        text="",
        in_reply_to=previous.message_id,
        references=chain,
    )


class _SMTP(smtplib.SMTP):
    """A server that offers no AUTH (a relay on the local network) is written to without it,
    rather than refused; one that offers it gets the login."""

    def login(self, user, password, *, initial_response_ok=True):
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("auth"):
            return (235, b"no AUTH offered")
        return smtplib.SMTP.login(self, user, password, initial_response_ok=initial_response_ok)


class _SMTP_SSL(smtplib.SMTP_SSL):  # noqa: N801 (smtplib's name)
    login = _SMTP.login


class _Backend(EmailBackend):
    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP


def _connection(cfg: MailboxConfig) -> EmailBackend:
    smtp = cfg.smtp
    return _Backend(
        host=smtp.host,
        port=smtp.port,
        username=smtp.user or None,
        password=smtp.password or None,
        use_tls=smtp.security == "starttls",
        use_ssl=smtp.security == "ssl",
        timeout=TIMEOUT,
        fail_silently=False,
    )


def build(cfg: MailboxConfig, mail: Outgoing) -> EmailMessage:
    domain = cfg.address.rpartition("@")[2] or "voronka.invalid"
    mail.message_id = mail.message_id or make_msgid(domain=domain)
    headers = {"Message-ID": mail.message_id}
    if mail.in_reply_to:
        headers["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        headers["References"] = " ".join(mail.references)
    message = EmailMessage(
        subject=mail.subject,
        body=mail.text,
        from_email=format_address(cfg.display_name, cfg.address),
        to=[mail.to],
        headers=headers,
    )
    for name, content, content_type in mail.attachments:
        message.attach(name, content, content_type or None)
    return message


def send(cfg: MailboxConfig, mail: Outgoing) -> Outgoing:
    """Send over SMTP (``SendFailed`` with the reason when the server refuses or is away), then
    file the copy in the Sent folder; a copy that cannot be filed is logged, the mail is sent."""
    if not cfg.address or not cfg.smtp.host:
        raise SendFailed("The mailbox has no address or SMTP server set.")
    if not mail.to or "@" not in mail.to:
        raise SendFailed("There is no address to write to.")
    message = build(cfg, mail)
    try:
        with _connection(cfg) as connection:
            connection.send_messages([message])
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise SendFailed(f"The mail server did not take the mail: {exc}") from exc
    mail.raw = message.message().as_bytes()
    file_in_sent(cfg, mail.raw)
    return mail


def file_in_sent(cfg: MailboxConfig, raw: bytes) -> bool:
    """APPEND the sent mail to the Sent folder (made when the server says it is missing)."""
    from .fetching import _close, connect

    try:
        client = connect(cfg.imap)
    except (OSError, IMAPClientError, ssl.SSLError) as exc:
        log.warning("Sent mail not filed in %s of %s: %s", cfg.sent_folder, cfg.address, exc)
        return False
    try:
        try:
            client.append(cfg.sent_folder, raw, flags=[b"\\Seen"], msg_time=timezone.now())
        except IMAPClientError as exc:
            if "TRYCREATE" not in str(exc).upper():
                raise
            client.create_folder(cfg.sent_folder)
            client.append(cfg.sent_folder, raw, flags=[b"\\Seen"], msg_time=timezone.now())
        return True
    except (OSError, IMAPClientError, ssl.SSLError) as exc:
        log.warning("Sent mail not filed in %s of %s: %s", cfg.sent_folder, cfg.address, exc)
        return False
    finally:
        _close(client)
