"""The activities' background work: sending the meeting reminders whose time has come, and
planning them anew when the rules they follow change.

The schedule itself is in ``voronka.core.jobs.SCHEDULE``.
"""

from __future__ import annotations

import logging

from django_tasks import task

from .reminders import replan_for_workspace, send_due_reminders

log = logging.getLogger("voronka.reminders")


@task()
def send_meeting_reminders() -> None:
    """Every minute: email the meeting reminders that are due (each once; failures retried)."""
    sent = send_due_reminders()
    if sent:
        log.info("sent %s meeting reminders", sent)


@task()
def replan_meeting_reminders(workspace_id: int) -> None:
    """The reminder lead time or working hours changed: every coming meeting's unsent reminders
    are planned anew."""
    count = replan_for_workspace(workspace_id)
    log.debug("re-planned the reminders of %s meetings in workspace %s", count, workspace_id)
