"""Housekeeping the worker runs on a schedule, and the schedule itself."""

from __future__ import annotations

import logging

from django.core.management import call_command
from django_tasks import task

log = logging.getLogger("voronka.jobs")


@task()
def clear_expired_sessions() -> None:
    """Remove expired sign-in sessions so the session table does not grow forever."""
    call_command("clearsessions")


@task()
def clear_old_sign_in_attempts() -> None:
    """Forget failed sign-in attempts whose lock-out has expired."""
    call_command("axes_reset_failure_logs", age=30)


#: (task, cron fields) pairs the worker enqueues; other apps append theirs in their jobs.py.
SCHEDULE = [
    (clear_expired_sessions, {"hour": 3, "minute": 10}),
    (clear_old_sign_in_attempts, {"hour": 3, "minute": 20}),
]
