"""Taking mail in: the worker reads each mailbox over IMAP and puts new messages through the
common ingest path (the same matching, leads and inbox as the messengers).

Incremental by UIDVALIDITY and UID: a fetch asks only for UIDs above the highest one taken
in; when the server's UIDVALIDITY changes (the folder was rebuilt) the last days are read
again, and the Message-ID (the received event's id) keeps each message once. A failing
mailbox keeps its error, is retried after 1, 2, 4 … 60 minutes, and is logged once when it
starts failing and once when it recovers, not on every attempt.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from voronka.core.errors import DomainError

from ..channels.base import InboundEvent, Sender
from ..ingest import ingest, match_contact
from ..models import (
    Attachment,
    ChannelConfig,
    ChannelKind,
    CommKind,
    Communication,
    DeadLetter,
    EmailHeaders,
    Mailbox,
)
from ..rules import without_nul
from .config import TIMEOUT, MailboxConfig, Server, mailbox_config
from .parsing import ParsedEmail, message_key, parse_email

log = logging.getLogger("voronka.inbox.mail")

#: A mailbox read for the first time (or after its UIDVALIDITY changed) gives this many days.
FIRST_FETCH_DAYS = 7
#: Messages fetched from the server per round trip.
BATCH = 20
#: How often a healthy mailbox is read, and the back-off of a failing one.
INTERVAL = timedelta(minutes=1)
BACKOFF_START = timedelta(minutes=1)
BACKOFF_MAX = timedelta(minutes=60)
#: How long a claimed mailbox is left to its worker before another may take it.
LEASE = timedelta(minutes=10)
#: What one message may bring: longer text is cut, larger files are listed but not kept.
MAX_TEXT = 100_000
MAX_HTML = 500_000
MAX_FILE = 25 * 1024 * 1024


@dataclass
class FetchResult:
    taken: int = 0
    duplicates: int = 0
    error: str = ""


def backoff(failures: int) -> timedelta:
    """The pause after the ``failures``-th failure in a row: 1, 2, 4, … minutes, at most 60."""
    pause = BACKOFF_START * (2 ** max(0, min(failures, 16) - 1))
    return min(pause, BACKOFF_MAX)


def mailbox_of(channel: ChannelConfig) -> Mailbox:
    """The channel's mailbox row, made on first use."""
    mailbox = Mailbox.objects.filter(channel=channel).first()
    if mailbox is None:
        mailbox, _made = Mailbox.objects.get_or_create(
            channel=channel, defaults={"workspace_id": channel.workspace_id}
        )
    return mailbox


def connect(server: Server) -> IMAPClient:
    """A logged-in IMAP connection (TLS from the start, STARTTLS, or plain on a trusted net)."""
    context = ssl.create_default_context()
    client = IMAPClient(
        server.host,
        port=server.port,
        ssl=server.security == "ssl",
        ssl_context=context if server.security == "ssl" else None,
        timeout=TIMEOUT,
    )
    try:
        if server.security == "starttls":
            client.starttls(context)
        client.login(server.user, server.password)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (OSError, IMAPClientError, ssl.SSLError):
        try:
            client.shutdown()
        except OSError:
            pass


def _reason(exc: BaseException) -> str:
    """The server's own words, without Python's ``b'…'`` around bytes."""
    parts = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in exc.args]
    text = " ".join(p for p in parts if p) or type(exc).__name__
    quoted = re.fullmatch(r"b(['\"])(.*)\1", text, re.DOTALL)  # imapclient's str() of bytes
    return quoted.group(2) if quoted else text


def describe(exc: BaseException, server: Server) -> str:
    """The failure in words the head of sales can act on."""
    where = f"{server.host}:{server.port}"
    if isinstance(exc, LoginError):
        return _("The server refused the login (check the user and the password): %(reason)s") % {
            "reason": _reason(exc)
        }
    if isinstance(exc, ConnectionRefusedError):
        return _("The server at %(where)s refuses connections.") % {"where": where}
    if isinstance(exc, socket.timeout | TimeoutError):
        return _("The server at %(where)s does not answer.") % {"where": where}
    if isinstance(exc, socket.gaierror):
        return _("The server name %(host)s is not known.") % {"host": server.host}
    if isinstance(exc, ssl.SSLError):
        return _("The secure connection to %(where)s failed: %(reason)s") % {
            "where": where,
            "reason": _reason(exc),
        }
    if isinstance(exc, DomainError):
        return exc.message
    return _("The mailbox cannot be read: %(reason)s") % {"reason": _reason(exc)}


def _is_ours(channel: ChannelConfig, cfg: MailboxConfig, address: str) -> bool:
    """Mail from the mailbox itself or from a colleague is not a client's."""
    from voronka.accounts.models import User

    if not address or address == cfg.address:
        return True
    return User.objects.filter(
        workspace_id=channel.workspace_id, email__iexact=address, is_active=True
    ).exists()


def _thread_of(channel: ChannelConfig, parsed: ParsedEmail) -> str:
    """The conversation the message belongs to: the one holding the nearest message it answers
    (In-Reply-To, then References), else a new one named by its own Message-ID."""
    keys = [message_key(i) for i in parsed.thread_ids]
    if keys:
        found = {
            row["message_key"]: row["communication__conversation__external_id"]
            for row in EmailHeaders.objects.filter(
                channel=channel,
                message_key__in=keys,
                communication__conversation__isnull=False,
            ).values("message_key", "communication__conversation__external_id")
        }
        for key in keys:
            if found.get(key):
                return found[key]
    return parsed.key


def _lead_for_owner(channel: ChannelConfig, mailbox: Mailbox, parsed: ParsedEmail) -> None:
    """Mail from an unknown sender to a manager's own mailbox is that manager's lead: the
    contact is made theirs first, and the ingest then gives them the deal."""
    from voronka.clients.actions import do_create_contact

    owner = mailbox.owner
    if owner is None or not owner.is_active or owner.role in ("qc", "assistant"):
        return
    if match_contact(channel, Sender(email=parsed.from_address)) is not None:
        return
    name = " ".join(parsed.from_name.split())
    first, _space, last = name.partition(" ")
    do_create_contact(
        owner,
        first_name=(first or parsed.from_address.split("@")[0])[:120],
        last_name=last[:120],
        email=parsed.from_address,
        owner=owner,
    )


def record_headers(channel: ChannelConfig, comm: Communication, parsed: ParsedEmail) -> None:
    EmailHeaders.objects.create(
        workspace_id=channel.workspace_id,
        communication=comm,
        channel=channel,
        message_key=parsed.key,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references),
        subject=parsed.subject[:255],
        from_address=parsed.from_address[:254],
        to_addresses=", ".join(parsed.to),
        cc_addresses=", ".join(parsed.cc),
        html=parsed.html[:MAX_HTML],
    )


def keep_files(comm: Communication, files) -> None:
    """Store the message's files (Django's storage: the media folder or S3)."""
    for f in files:
        att = Attachment(
            workspace_id=comm.workspace_id,
            communication=comm,
            name=f.name[:255],
            content_type=f.content_type[:127],
            size=len(f.content),
        )
        if len(f.content) <= MAX_FILE:
            att.file.save(f.name or "file", ContentFile(f.content), save=False)
        att.save()


def take_in(channel: ChannelConfig, mailbox: Mailbox, raw: bytes, cfg: MailboxConfig) -> bool:
    """Put one received message on the timeline and in the inbox; False when it was there
    already or is not a client's (our own address, a colleague)."""
    parsed = parse_email(raw)
    if _is_ours(channel, cfg, parsed.from_address):
        return False
    with transaction.atomic():
        if EmailHeaders.objects.filter(channel=channel, message_key=parsed.key).exists():
            return False
        _lead_for_owner(channel, mailbox, parsed)
        now = timezone.now()
        event = InboundEvent(
            event_id=parsed.key,
            kind="message",
            chat_id=_thread_of(channel, parsed),
            occurred_at=min(parsed.date or now, now),
            sender=Sender(email=parsed.from_address, name=parsed.from_name),
            direction="in",
            text=(parsed.text or parsed.subject)[:MAX_TEXT],
            external_id=parsed.key,
            counterpart=parsed.from_address,
            line=cfg.address,
            raw={"subject": parsed.subject[:255], "from": parsed.from_address},
        )
        result = ingest(channel, [event])
        if not result.communications:
            return False
        comm = Communication.objects.get(pk=result.communications[0])
        comm.kind = CommKind.EMAIL
        comm.save(update_fields=["kind", "updated_at"])
        record_headers(channel, comm, parsed)
        keep_files(comm, parsed.attachments)
    return True


def _keep_unreadable(channel: ChannelConfig, raw: bytes, uid: int, exc: Exception) -> None:
    DeadLetter.objects.create(
        workspace_id=channel.workspace_id,
        channel=channel,
        body=raw,
        headers={"imap-uid": str(uid)},
        reason=without_nul(_("The email cannot be read: %(reason)s") % {"reason": exc}),
    )


def _read_folder(channel: ChannelConfig, mailbox: Mailbox, cfg: MailboxConfig) -> FetchResult:
    result = FetchResult()
    folder = cfg.inbox_folder
    client = connect(cfg.imap)
    try:
        info = client.select_folder(folder, readonly=True)
        validity = int(info[b"UIDVALIDITY"])
        cursor = dict(mailbox.cursors.get(folder) or {})
        if cursor.get("uidvalidity") == validity:
            last = int(cursor.get("uid") or 0)
            # ``N:*`` always names the newest message, even when it is below N.
            uids = [u for u in client.search(["UID", f"{last + 1}:*"]) if u > last]
        else:
            since = (timezone.now() - timedelta(days=FIRST_FETCH_DAYS)).date()
            uids = client.search(["SINCE", since])
            cursor = {"uidvalidity": validity, "uid": 0}
        uids = sorted(uids)
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            data = client.fetch(batch, [b"BODY.PEEK[]"])
            for uid in batch:
                raw = (data.get(uid) or {}).get(b"BODY[]")
                if raw is not None:
                    try:
                        taken = take_in(channel, mailbox, bytes(raw), cfg)
                    except DomainError:
                        raise  # nowhere to put it (no pipeline, no manager): retried later
                    except (ValueError, LookupError, TypeError, UnicodeError) as exc:
                        _keep_unreadable(channel, bytes(raw), uid, exc)
                        taken = False
                    if taken:
                        result.taken += 1
                    else:
                        result.duplicates += 1
                cursor["uid"] = max(int(cursor.get("uid") or 0), uid)
            _save_cursor(mailbox, folder, cursor)
        if not uids:
            _save_cursor(mailbox, folder, cursor)
    finally:
        _close(client)
    return result


def _save_cursor(mailbox: Mailbox, folder: str, cursor: dict) -> None:
    mailbox.cursors = {**mailbox.cursors, folder: cursor}
    Mailbox.objects.filter(pk=mailbox.pk).update(cursors=mailbox.cursors, updated_at=timezone.now())


def _succeeded(mailbox: Mailbox, now) -> None:
    if mailbox.failures:
        log.info(
            "Mailbox %s (channel %s) is read again after %s failed attempts",
            mailbox.channel.name,
            mailbox.channel_id,
            mailbox.failures,
        )
    mailbox.failures = 0
    mailbox.last_error = ""
    mailbox.failing_since = None
    mailbox.last_success_at = now
    mailbox.next_attempt_at = now + INTERVAL


def _failed(mailbox: Mailbox, now, error: str) -> None:
    if not mailbox.failures:
        log.warning(
            "Mailbox %s (channel %s) cannot be read, retrying with back-off: %s",
            mailbox.channel.name,
            mailbox.channel_id,
            error,
        )
        mailbox.failing_since = now
    mailbox.failures += 1
    mailbox.last_error = error
    mailbox.next_attempt_at = now + backoff(mailbox.failures)


def fetch_mailbox(channel: ChannelConfig) -> FetchResult:
    """Read the channel's new mail and record how it went (success, or the error and the next
    attempt after the back-off)."""
    mailbox = mailbox_of(channel)
    cfg = mailbox_config(channel)
    with translation.override(settings.LANGUAGE_CODE):
        try:
            result = _read_folder(channel, mailbox, cfg)
        except (OSError, IMAPClientError, ssl.SSLError, DomainError, KeyError) as exc:
            result = FetchResult(error=describe(exc, cfg.imap))
    now = timezone.now()
    mailbox.refresh_from_db(fields=["cursors"])
    mailbox.last_attempt_at = now
    if result.error:
        _failed(mailbox, now, result.error)
    else:
        _succeeded(mailbox, now)
    mailbox.save()
    return result


def claim_due(now=None) -> list[int]:
    """The ids of the email channels due for a fetch, each claimed for a while so that two
    workers do not read the same mailbox at once."""
    now = now or timezone.now()
    channels = ChannelConfig.objects.filter(kind=ChannelKind.EMAIL, enabled=True)
    for channel in channels.filter(mailbox__isnull=True):
        mailbox_of(channel)
    claimed = []
    due = Mailbox.objects.filter(channel__in=channels).filter(
        next_attempt_at__isnull=True
    ) | Mailbox.objects.filter(channel__in=channels, next_attempt_at__lte=now)
    for mailbox in due.order_by("next_attempt_at", "id")[:1000]:
        taken = Mailbox.objects.filter(
            pk=mailbox.pk, next_attempt_at=mailbox.next_attempt_at
        ).update(next_attempt_at=now + LEASE)
        if taken:
            claimed.append(mailbox.channel_id)
    return claimed
