"""Files that came with messages (Telegram photos, documents, voice notes), fetched by the worker
right after the message is stored, so that opening one reads our own copy.

The provider keeps a file by its id (``Attachment.external_id``, Telegram's ``file_id``); once a
message with such files commits, ``fetch_attachment`` is enqueued for each of them. A failure is
tried again after 1, 2, 4… minutes (the recordings' waits, ``recordings.retry_delay``) up to
``MAX_ATTEMPTS``; the attempt travels with the task, so nothing is added to the row, and only the
given-up attempt is logged as a warning. Opening a file not fetched yet still asks the provider
(``actions.do_fetch_attachment``), once.

The ingest enqueues them itself (``enqueue_fetches``): it writes an incoming message and its
attachments, knows which of them the provider keeps by id, and has their fetches enqueued when
its transaction commits; a message without such files costs nothing more.
"""

from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks import task

from .models import Attachment
from .recordings import retry_delay

log = logging.getLogger("voronka.inbox.media")

MAX_ATTEMPTS = 8
#: The timeline channels whose providers keep files by id for us to fetch.
FETCHED_CHANNELS = frozenset({"telegram"})


@task()
def fetch_attachment(attachment_id: int, attempt: int = 1) -> str:
    """Fetch one message file into our storage; a failure enqueues the next try."""
    return fetch(attachment_id, attempt)


def _enqueue(attachment_id: int, attempt: int = 1, *, run_after=None) -> None:
    job = fetch_attachment
    if run_after is not None and job.get_backend().supports_defer:
        job = job.using(run_after=run_after)
    job.enqueue(attachment_id, attempt)


def enqueue_fetches(attachment_ids: list[int]) -> None:
    """Enqueue a fetch for each of these files (the ingest calls it once they are committed).
    A failure to enqueue is logged: opening the file still asks the provider."""
    for attachment_id in attachment_ids:
        try:
            _enqueue(attachment_id)
        except Exception:
            log.exception("could not enqueue the fetch of file %s", attachment_id)


def fetch(attachment_id: int, attempt: int = 1) -> str:
    """One attempt: ``done``, ``retry``, ``gave up`` or ``nothing to do``."""
    from .actions import fetch_attachment_file

    attachment = (
        Attachment.objects.select_related("communication__conversation__channel")
        .filter(id=attachment_id)
        .first()
    )
    if attachment is None or attachment.file or not attachment.external_id:
        return "nothing to do"
    try:
        fetch_attachment_file(attachment)
    except Exception as exc:  # the provider's or the network's failure: try again later
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempt >= MAX_ATTEMPTS:
            log.warning(
                "file %s of communication %s not fetched after %s attempts: %s",
                attachment.id,
                attachment.communication_id,
                attempt,
                error,
            )
            return "gave up"
        log.debug("file %s: attempt %s failed (%s)", attachment.id, attempt, error)
        _enqueue(attachment.id, attempt + 1, run_after=timezone.now() + retry_delay(attempt))
        return "retry"
    return "done"
