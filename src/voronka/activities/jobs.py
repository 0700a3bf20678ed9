"""The activities' scheduled work: sending the meeting reminders whose time has come.

The schedule itself is in ``voronka.core.jobs.SCHEDULE``.
"""

from __future__ import annotations

import logging

from django_tasks import task

from .reminders import send_due_reminders

log = logging.getLogger("voronka.reminders")


@task()
def send_meeting_reminders() -> None:
    """Every minute: email the meeting reminders that are due (each once; failures retried)."""
    sent = send_due_reminders()
    if sent:
        log.info("sent %s meeting reminders", sent)
