"""The worker's email work: every minute the due mailboxes are claimed and each is read by a
task of its own, so one slow server does not hold up the others."""

from __future__ import annotations

from django_tasks import task

from ..models import ChannelConfig
from .fetching import claim_due, fetch_mailbox


@task()
def fetch_mailboxes() -> int:
    """Enqueue a fetch for every mailbox whose turn has come (healthy: each minute; failing:
    after its back-off)."""
    ids = claim_due()
    for channel_id in ids:
        fetch_one.enqueue(channel_id)
    return len(ids)


@task()
def fetch_one(channel_id: int) -> int:
    """Read one mailbox's new mail; its success or error is kept on the mailbox."""
    channel = ChannelConfig.objects.filter(pk=channel_id, enabled=True).first()
    if channel is None:
        return 0
    return fetch_mailbox(channel).taken
