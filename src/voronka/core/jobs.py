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

# The rules of work (voronka.control): violations every 15 minutes and a full run at night (each
# also takes the day's snapshot); digests go out at each workspace's own time, checked every 5.
from voronka.control import jobs as control_jobs  # noqa: E402

SCHEDULE += [
    (control_jobs.evaluate_rules, {"minute": "*/15"}),
    (control_jobs.evaluate_rules_nightly, {"hour": 2, "minute": 40}),
    (control_jobs.send_digests, {"minute": "*/5"}),
    # The daily reports: each person's at the workspace's report time in their own time zone.
    (control_jobs.send_daily_reports, {"minute": "*/5"}),
]

# Meeting reminders (voronka.activities): due ones go out every minute.
from voronka.activities import jobs as activities_jobs  # noqa: E402

SCHEDULE += [(activities_jobs.send_meeting_reminders, {"minute": "*"})]

# Analytics (voronka.analytics): the rollups follow rows written in bulk, every minute.
from voronka.analytics import jobs as analytics_jobs  # noqa: E402

SCHEDULE += [(analytics_jobs.refresh_rollups, {"minute": "*"})]

# Email (voronka.inbox.mail): the due mailboxes are read every minute, each by a task of its own.
from voronka.inbox.mail import jobs as mail_jobs  # noqa: E402

SCHEDULE += [(mail_jobs.fetch_mailboxes, {"minute": "*"})]

# Inbox (voronka.inbox): events the webhooks only stored under load, swept every minute (the
# webhooks wake the worker for them at once; the sweep finds those a killed server left).
from voronka.inbox import jobs as inbox_jobs  # noqa: E402

SCHEDULE += [(inbox_jobs.process_received_events, {"minute": "*"})]
