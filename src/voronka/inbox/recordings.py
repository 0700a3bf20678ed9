"""Call recordings and recorded meetings: fetched by the worker, kept in Django's storage,
played through signed links that expire.

- When a provider says a call's recording is ready, ``schedule_download`` notes it
  (``RecordingDownload``, once per call and source) and, once the delivery is committed, the
  worker's ``fetch_recording`` task downloads it through the provider's ``fetch_recording`` and
  stores it as the communication's ``recording``. A failure is counted and kept on the row and
  tried again after 1, 2, 4… minutes (at most six hours apart) until ``MAX_ATTEMPTS``; only the
  last, given-up attempt is logged as a warning, the others at debug level, so a provider that
  is down does not flood the log.
- The file goes to the ``default`` storage: a folder under ``MEDIA_ROOT`` unless the settings
  choose an S3-compatible store (README, «Recordings»). File names carry a random part.
- Playing or downloading goes through ``signed_url(comm, user)``: a link for that person, signed
  with ``TimestampSigner`` and valid ``VORONKA_RECORDING_LINK_MAX_AGE`` seconds (two hours by
  default); the view checks the signature and that the person may still see the deal.
- A recorded meeting (audio or video) can be uploaded onto a communication:
  ``do_attach_recording`` checks its size and that it really is a playable audio or video file.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import may_write
from voronka.core.errors import Invalid, NotAllowed

from .models import Communication, RecordingDownload

log = logging.getLogger("voronka.inbox.recordings")

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
LINK_SALT = "voronka.inbox.recording"
DEFAULT_LINK_MAX_AGE = 2 * 3600
DEFAULT_UPLOAD_MAX_BYTES = 500 * 1024 * 1024

#: What an uploaded recording may be: extension → (kind of player, content type).
MEDIA_TYPES = {
    ".mp3": ("audio", "audio/mpeg"),
    ".m4a": ("audio", "audio/mp4"),
    ".aac": ("audio", "audio/aac"),
    ".wav": ("audio", "audio/wav"),
    ".ogg": ("audio", "audio/ogg"),
    ".oga": ("audio", "audio/ogg"),
    ".opus": ("audio", "audio/ogg"),
    ".flac": ("audio", "audio/flac"),
    ".weba": ("audio", "audio/webm"),
    ".mp4": ("video", "video/mp4"),
    ".m4v": ("video", "video/mp4"),
    ".mov": ("video", "video/quicktime"),
    ".webm": ("video", "video/webm"),
    ".ogv": ("video", "video/ogg"),
}


# -- Fetching from the provider -------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: doubling from a minute, capped."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def _enqueue(download_id: int, *, run_after=None) -> None:
    from .jobs import fetch_recording

    task = fetch_recording
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    task.enqueue(download_id)


def schedule_download(channel, comm: Communication, source: str) -> RecordingDownload | None:
    """Note that the call's recording is ready at ``source``; fetched after the commit."""
    source = (source or "")[:1000]
    if not source or comm.recording:
        return None
    download, created = RecordingDownload.objects.get_or_create(
        communication=comm,
        source=source,
        defaults={"workspace_id": comm.workspace_id, "channel": channel},
    )
    if created:
        transaction.on_commit(lambda: _enqueue(download.id))
    return download


def _extension(content_type: str, name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    if ext in MEDIA_TYPES:
        return ext
    guessed = mimetypes.guess_extension(content_type or "") or ""
    return guessed if guessed in MEDIA_TYPES else ".mp3"


def _stored_name(comm: Communication, ext: str) -> str:
    return f"{comm.id}-{secrets.token_hex(8)}{ext}"


def fetch(download_id: int) -> str:
    """One attempt at a download: ``done``, ``retry``, ``gave up`` or ``nothing to do``."""
    from .channels import provider_for

    download = (
        RecordingDownload.objects.select_related("channel", "communication")
        .filter(id=download_id, done_at__isnull=True, gave_up_at__isnull=True)
        .first()
    )
    if download is None:
        return "nothing to do"
    comm = download.communication
    provider = provider_for(download.channel.kind)
    try:
        if provider is None or not hasattr(provider, "fetch_recording"):
            raise LookupError(f"the {download.channel.kind} channel cannot fetch recordings")
        content, content_type, name = provider.fetch_recording(download.channel, download.source)
        if not content:
            raise ValueError("the provider sent an empty file")
        stored = _stored_name(comm, _extension(content_type, name))
        comm.recording.save(stored, ContentFile(content), save=False)
    except Exception as exc:  # any failure is the provider's or the network's: try again later
        return _failed(download, exc)
    now = timezone.now()
    with transaction.atomic():
        Communication.objects.filter(pk=comm.pk).update(
            recording=comm.recording.name, updated_at=now
        )
        RecordingDownload.objects.filter(pk=download.pk).update(
            done_at=now, attempts=download.attempts + 1, last_error="", updated_at=now
        )
    log.debug("recording %s of communication %s stored", download.id, comm.id)
    return "done"


def _failed(download: RecordingDownload, exc: Exception) -> str:
    attempts = download.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    now = timezone.now()
    fields = {"attempts": attempts, "last_error": error, "updated_at": now}
    if attempts >= MAX_ATTEMPTS:
        fields.update(gave_up_at=now, next_attempt_at=None)
        RecordingDownload.objects.filter(pk=download.pk).update(**fields)
        log.warning(
            "recording %s of communication %s not fetched after %s attempts: %s",
            download.id,
            download.communication_id,
            attempts,
            error,
        )
        return "gave up"
    next_at = now + retry_delay(attempts)
    fields["next_attempt_at"] = next_at
    RecordingDownload.objects.filter(pk=download.pk).update(**fields)
    log.debug("recording %s: attempt %s failed (%s)", download.id, attempts, error)
    _enqueue(download.id, run_after=next_at)
    return "retry"


# -- Signed links ---------------------------------------------------------------------------------


def link_max_age() -> int:
    return int(getattr(settings, "VORONKA_RECORDING_LINK_MAX_AGE", DEFAULT_LINK_MAX_AGE))


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=LINK_SALT)


def signed_url(comm: Communication, user) -> str:
    """A link to the communication's recording for this person, valid for a limited time."""
    token = _signer().sign(f"{comm.id}.{user.id}")
    return reverse("inbox:communication_recording", args=[comm.id]) + "?t=" + token


def link_is_valid(comm: Communication, user, token: str) -> bool:
    """Whether ``token`` was signed by us for this communication and person, and is fresh."""
    try:
        value = _signer().unsign(token or "", max_age=link_max_age())
    except signing.BadSignature:  # SignatureExpired is one too
        return False
    return value == f"{comm.id}.{user.id}"


def player_kind(comm: Communication) -> str:
    """``audio`` or ``video``: the HTML element the recording plays in."""
    ext = os.path.splitext(comm.recording.name or "")[1].lower()
    return MEDIA_TYPES.get(ext, ("audio", ""))[0]


def content_type_of(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    if ext in MEDIA_TYPES:
        return MEDIA_TYPES[ext][1]
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


# -- Byte ranges (seeking in the player) ----------------------------------------------------------

#: Bytes read from storage per chunk of a streamed range.
RANGE_CHUNK = 64 * 1024


class Unsatisfiable(ValueError):
    """A Range header none of whose bytes are in the file (answered 416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) a ``Range`` header asks for, of a file of ``size``.

    None means "send the whole file": no header, a unit other than bytes, a malformed value, or
    several ranges (a server may answer those with the whole file, RFC 9110 §14.2). A range that
    starts past the end raises ``Unsatisfiable``; one that ends past it is cut at the end.
    """
    if not header:
        return None
    unit, _sep, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        length = int(last)  # the last ``length`` bytes
        if length == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(size - length, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable(header)
    end = int(last) if last else size - 1
    return start, min(end, size - 1)


def read_range(handle, start: int, end: int):
    """The bytes ``start``..``end`` of an open file, in chunks, then the file closed."""
    try:
        handle.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = handle.read(min(RANGE_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


# -- Uploaded recordings --------------------------------------------------------------------------


def upload_max_bytes() -> int:
    return int(getattr(settings, "VORONKA_RECORDING_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))


def _looks_like_media(head: bytes, ext: str) -> bool:
    """The file's first bytes are those of the container its extension names."""
    if ext == ".mp3":
        return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0)
    if ext == ".wav":
        return head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    if ext in (".ogg", ".oga", ".opus", ".ogv"):
        return head.startswith(b"OggS")
    if ext == ".flac":
        return head.startswith(b"fLaC")
    if ext in (".webm", ".weba"):
        return head.startswith(b"\x1a\x45\xdf\xa3")
    if ext == ".aac":
        return len(head) > 1 and head[0] == 0xFF and head[1] & 0xF0 == 0xF0
    return head[4:8] == b"ftyp"  # MP4, M4A, M4V, MOV: ISO base media


@transaction.atomic
def do_attach_recording(actor, comm: Communication, upload) -> Communication:
    """Put an audio or video file (a recorded meeting, a call from elsewhere) on a communication.

    Only files a browser plays (MP3, M4A, WAV, OGG, FLAC, WebM, MP4, MOV) up to the size limit;
    the content must be what its name says.
    """
    if not may_write(actor) or comm.workspace_id != actor.workspace_id:
        raise NotAllowed(_("Your role may not add recordings."))
    limit = upload_max_bytes()
    name = os.path.basename(upload.name or "")
    ext = os.path.splitext(name)[1].lower()
    if ext not in MEDIA_TYPES:
        raise Invalid(
            _("This is not an audio or video file."),
            {
                "file": _("Upload MP3, M4A, WAV, OGG, FLAC, WebM, MP4 or MOV; «%(name)s» is not.")
                % {"name": name[:80]}
            },
        )
    if upload.size is None or upload.size > limit:
        raise Invalid(
            _("The file is too large."),
            {
                "file": _("At most %(mb)s MB; this file is %(size)s MB.")
                % {"mb": limit // (1024 * 1024), "size": round((upload.size or 0) / 1048576, 1)}
            },
        )
    if upload.size == 0:
        raise Invalid(_("The file is empty."), {"file": _("The file is empty.")})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not _looks_like_media(head, ext):
        raise Invalid(
            _("The file's content is not %(ext)s.") % {"ext": ext[1:].upper()},
            {"file": _("The file's content does not match its type; export it again.")},
        )
    if comm.recording:
        raise Invalid(
            _("This communication already has a recording."),
            {"file": _("This communication already has a recording.")},
        )
    comm.recording.save(_stored_name(comm, ext), upload, save=False)
    comm.save(update_fields=["recording", "updated_at"])
    return comm
