"""The inbox's background work: fetching call recordings from the providers."""

from __future__ import annotations

from django_tasks import task

from .recordings import fetch


@task()
def fetch_recording(download_id: int) -> str:
    """Fetch one call recording; a failure is kept on its row and the next try enqueued."""
    return fetch(download_id)
