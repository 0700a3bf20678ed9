"""The inbox's background work: processing the events the webhooks stored under load, and
fetching call recordings from the providers."""

from __future__ import annotations

import time

from django_tasks import task

from .ingest import process_pending
from .recordings import fetch

#: A run looks again this long after it began, for events stored while it was waiting.
LOOK_AGAIN_SECONDS = 1.0
#: A run gives the worker back to its other tasks after this long (and queues the rest).
RUN_SECONDS = 60.0


@task()
def fetch_recording(download_id: int) -> str:
    """Fetch one call recording; a failure is kept on its row and the next try enqueued."""
    return fetch(download_id)


@task()
def process_received_events() -> int:
    """Put on the timeline the events the webhooks only stored (woken by them under load, and
    every minute as a sweep for events a killed server or worker left); how many."""
    started = time.monotonic()
    until = started + RUN_SECONDS
    done = process_pending(until=until)
    time.sleep(max(0.0, LOOK_AGAIN_SECONDS - (time.monotonic() - started)))
    while time.monotonic() < until:
        more = process_pending(until=until)
        done += more
        if not more:
            return done
    # A long backlog: the rest in a run of its own, queued behind the worker's other tasks.
    process_received_events.enqueue()
    return done
