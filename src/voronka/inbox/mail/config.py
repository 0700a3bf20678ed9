"""A mailbox's servers and folders as the email channel keeps them: ``channel.options`` holds
what is not secret, the passwords are the channel's encrypted credentials."""

from __future__ import annotations

from dataclasses import dataclass

SECURITY = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"imap": {"ssl": 993, "starttls": 143, "none": 143},
                 "smtp": {"ssl": 465, "starttls": 587, "none": 25}}  # fmt: skip
#: Network timeout for one IMAP or SMTP conversation step, seconds.
TIMEOUT = 30


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    user: str
    password: str


@dataclass(frozen=True)
class MailboxConfig:
    address: str
    display_name: str
    imap: Server
    smtp: Server
    inbox_folder: str
    sent_folder: str


def _port(value, protocol: str, security: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    return port if 0 < port < 65536 else DEFAULT_PORTS[protocol][security]


def _security(value) -> str:
    return value if value in SECURITY else "ssl"


def mailbox_config(channel) -> MailboxConfig:
    """The channel's mailbox settings; the SMTP login defaults to the IMAP one."""
    o = channel.options or {}
    creds = channel.credentials
    address = (o.get("address") or "").strip().lower()
    imap_security = _security(o.get("imap_security"))
    smtp_security = _security(o.get("smtp_security"))
    imap_user = o.get("imap_user") or address
    imap = Server(
        host=o.get("imap_host") or "",
        port=_port(o.get("imap_port"), "imap", imap_security),
        security=imap_security,
        user=imap_user,
        password=creds.get("imap_password", ""),
    )
    smtp = Server(
        host=o.get("smtp_host") or imap.host,
        port=_port(o.get("smtp_port"), "smtp", smtp_security),
        security=smtp_security,
        user=o.get("smtp_user") or imap_user,
        password=creds.get("smtp_password") or imap.password,
    )
    return MailboxConfig(
        address=address,
        display_name=o.get("display_name") or "",
        imap=imap,
        smtp=smtp,
        inbox_folder=o.get("inbox_folder") or "INBOX",
        sent_folder=o.get("sent_folder") or "Sent",
    )
