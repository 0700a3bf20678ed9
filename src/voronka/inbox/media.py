"""Files that came with messages (Telegram photos, documents, voice notes), fetched by the worker
right after the message is stored, so that opening one reads our own copy.

The provider keeps a file by its id (``Attachment.external_id``, Telegram's ``file_id``); once a
message with such files commits, ``fetch_attachment`` is enqueued for each of them. A failure is
tried again after 1, 2, 4… minutes (the recordings' waits, ``recordings.retry_delay``) up to
``MAX_ATTEMPTS``; the attempt travels with the task, so nothing is added to the row, and only the
given-up attempt is logged as a warning. Opening a file not fetched yet still asks the provider
(``actions.do_fetch_attachment``), once.

The hook is a ``post_save`` of a new incoming ``Communication`` in a conversation (connected in
``apps.InboxConfig.ready``): the ingest writes the message and its attachments in one
transaction, and on its commit the files are looked up and their fetches enqueued.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import Attachment, Communication, Direction
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


def enqueue_waiting(communication_id: int) -> int:
    """Enqueue a fetch for each of the message's files not stored yet; how many."""
    ids = list(
        Attachment.objects.filter(communication_id=communication_id, file="")
        .exclude(external_id="")
        .values_list("id", flat=True)
    )
    for attachment_id in ids:
        _enqueue(attachment_id)
    return len(ids)


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


def on_communication_saved(sender, instance: Communication, created: bool, **kwargs) -> None:
    """A new incoming message in a conversation: its files are fetched once it commits."""
    if (
        created
        and not kwargs.get("raw")
        and instance.conversation_id is not None
        and instance.direction == Direction.INCOMING
        and instance.channel in FETCHED_CHANNELS
    ):
        comm_id = instance.id
        transaction.on_commit(lambda: enqueue_waiting(comm_id))
