"""The head's control screen and the nightly evaluation of the rules (issue 3's targets).

The nightly job (``voronka.control.jobs.evaluate_rules_nightly``: per workspace, every rule
evaluated with the month-long look back for comments, then today's snapshot) runs twice, as the
worker runs it: first on a workspace without any violation yet (every one is new: the heaviest
night, e.g. after an import), then again a night later (most are already open). Its figures
are read from the outcome the job logs. The trend's 29 earlier days are snapshots written here
from today's counts with some drift: ``control.replay.backfill_snapshots`` replays history in
memory and is meant for a workspace of the demo's size. Then the control screen is requested
as the head (everyone) and as a senior (their team of ten).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta

from .generate import Dataset
from .measure import Target, probe, signed_in

TARGETS = {
    "control": Target("p95", 300),
    "evaluate_first": Target("seconds", 120),
    "evaluate_nightly": Target("seconds", 120),
}
LABELS = {
    "control": "control screen /control/ (violations by manager and kind, 30-day trend)",
    "evaluate_first": "nightly evaluation of all rules + snapshot, first run (all new)",
    "evaluate_nightly": "nightly evaluation of all rules + snapshot, a night later",
}


class _Outcomes(logging.Handler):
    """Keeps the outcomes the job logs (at debug level) per workspace."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.outcomes = []
        self.failures = []

    def emit(self, record):
        if record.levelno >= logging.ERROR:
            self.failures.append(record.getMessage())
        elif record.msg.startswith("rules of workspace") and len(record.args) == 2:
            self.outcomes.append(record.args[1])


def _nightly(kind: str, log) -> dict:
    from voronka.control.jobs import evaluate_rules_nightly
    from voronka.control.models import Violation

    logger = logging.getLogger("voronka.control")
    handler = _Outcomes()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the job's debug lines are read here, not printed
    try:
        started = time.monotonic()
        evaluate_rules_nightly.call()
        seconds = time.monotonic() - started
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    if handler.failures or not handler.outcomes:
        return {"kind": kind, "who": "worker", "error": "; ".join(handler.failures) or "no outcome"}
    outcome = handler.outcomes[0]
    steps = dict(outcome.timings)
    steps["snapshot"] = round(seconds - outcome.seconds, 3)
    result = {
        "kind": kind,
        "who": "worker",
        "seconds": round(seconds, 1),
        "steps": {k: round(v, 1) for k, v in steps.items()},
        "opened": outcome.opened,
        "resolved": outcome.resolved,
        "open": outcome.still_open,
        "violations_total": Violation.objects.count(),
    }
    log(
        f"  {kind}: {result['seconds']} s ({steps}); opened {outcome.opened}, "
        f"resolved {outcome.resolved}, open {outcome.still_open}"
    )
    return result


def _past_snapshots(data: Dataset) -> int:
    """The 29 days before today: today's snapshot with a drift, as the nights would have left."""
    from voronka.control.evaluate import local_today
    from voronka.control.models import DailySnapshot
    from voronka.core.models import Workspace

    workspace = Workspace.objects.get(id=data.workspace_id)
    today = local_today(workspace)
    rows = list(
        DailySnapshot.objects.filter(workspace_id=workspace.id, day=today).values_list(
            "manager_id", "kind", "count"
        )
    )
    rng = random.Random(3)
    made = [
        DailySnapshot(
            workspace_id=workspace.id,
            day=today - timedelta(days=n),
            manager_id=manager_id,
            kind=kind,
            count=max(0, round(count * rng.uniform(0.8, 1.25))),
        )
        for n in range(1, 30)
        for manager_id, kind, count in rows
    ]
    DailySnapshot.objects.filter(workspace_id=workspace.id, day__lt=today).delete()
    DailySnapshot.objects.bulk_create(made, batch_size=2000)
    return len(made)


def run(data: Dataset, requests: int, log: Callable[[str], None] = print) -> dict:
    from voronka.control.models import DailySnapshot, Violation

    # The first run starts from no violations, also on data an earlier run kept (BENCH_REUSE).
    Violation.objects.filter(workspace_id=data.workspace_id).delete()
    DailySnapshot.objects.filter(workspace_id=data.workspace_id).delete()
    results = {}
    log("  the nightly evaluation, first run …")
    results["evaluate_first:worker"] = _nightly("evaluate_first", log)
    log(f"  {_past_snapshots(data)} snapshots of the 29 days before today")
    log("  the nightly evaluation, a night later …")
    results["evaluate_nightly:worker"] = _nightly("evaluate_nightly", log)
    for who, username in (("head", data.head), ("senior", data.seniors[0])):
        name = f"control:{who}"
        log(f"  measuring {name} ({requests} requests) …")
        result = probe(signed_in(username), lambda i: "/control/", requests)
        result["kind"] = "control"
        result["who"] = who
        results[name] = result
    return results
