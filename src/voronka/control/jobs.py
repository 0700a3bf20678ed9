"""The rules' scheduled work: evaluation every few minutes, the nightly full run, the digests
and the daily reports.

The schedule itself is in ``voronka.core.jobs.SCHEDULE``.
"""

from __future__ import annotations

import logging

from django_tasks import task

from voronka.core.models import Workspace

from .daily_mail import send_due_daily_reports
from .digest import send_due_digests
from .evaluate import evaluate_workspace, take_snapshot
from .workspaces import for_each_workspace

log = logging.getLogger("voronka.control")


def _evaluate_all(*, full: bool) -> None:
    def evaluate(workspace: Workspace) -> None:
        outcome = evaluate_workspace(workspace.id, full=full)
        take_snapshot(workspace)
        log.debug("rules of workspace %s: %s", workspace.id, outcome)

    for_each_workspace(evaluate, "evaluating the rules")


@task()
def evaluate_rules() -> None:
    """Every few minutes: the violations of every workspace, and today's snapshot of them."""
    _evaluate_all(full=False)


@task()
def evaluate_rules_nightly() -> None:
    """Once a night: the same, looking a month back for communications without a comment."""
    _evaluate_all(full=True)


@task()
def evaluate_workspace_rules(workspace_id: int) -> None:
    """One workspace at once, e.g. after the head changed its rules."""
    workspace = Workspace.objects.filter(id=workspace_id).first()
    if workspace is not None:
        evaluate_workspace(workspace.id, full=True)
        take_snapshot(workspace)


@task()
def send_digests() -> None:
    """Send the daily digests of the workspaces whose digest time has come today."""
    sent = send_due_digests()
    if sent:
        log.debug("sent %s digest emails", sent)


@task()
def send_daily_reports() -> None:
    """Send the daily reports of the people whose report time has come today."""
    sent = send_due_daily_reports()
    if sent:
        log.debug("sent %s daily reports", sent)
