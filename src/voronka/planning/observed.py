"""What a plan reads from the past, per owner: stage entries and how many went further, won
deals and their amounts, calls, meetings and new leads; and the facts of a period.

Read straight from the raw tables (``sales.StageChange``, ``sales.Deal``,
``inbox.Communication``) until the analytics' rollups answer the same questions; the counts are
per owner so that one read serves a manager, their team and the company.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Sum

from voronka.inbox.models import CommKind, Communication
from voronka.sales.models import Deal, Stage, StageChange, StageKind


@dataclass
class OwnerHistory:
    """One owner's history in a window."""

    entered: dict = field(default_factory=lambda: defaultdict(int))  # stage id → deals entering
    reached: dict = field(default_factory=lambda: defaultdict(int))  # … that went further
    won_amount: Decimal = Decimal(0)
    won: int = 0
    calls: int = 0
    meetings: int = 0
    leads: int = 0


def bounds(workspace, start: date, end: date) -> tuple[datetime, datetime]:
    """The moments the local days ``[start, end)`` begin and end, in the workspace's zone."""
    tz = ZoneInfo(workspace.timezone)
    return datetime.combine(start, time(), tz), datetime.combine(end, time(), tz)


def observed_history_from_stage_changes(
    workspace, pipeline_id: int, start: date, end: date
) -> dict[int, OwnerHistory]:
    """Per owner: deals entering each stage of the pipeline in ``[start, end)`` and how many of
    them later reached a stage further on (not lost); won deals closed in the window; calls and
    meetings made in it; deals created in it (new leads)."""
    since, until = bounds(workspace, start, end)
    stages = {
        s.id: s
        for s in Stage.objects.filter(pipeline_id=pipeline_id).only("id", "position", "kind")
    }
    out: dict[int, OwnerHistory] = defaultdict(OwnerHistory)
    changes = (
        StageChange.objects.filter(
            workspace_id=workspace.id,
            deal__pipeline_id=pipeline_id,
            deal__stage_changes__changed_at__gte=since,
            deal__stage_changes__changed_at__lt=until,
        )
        .distinct()
        .order_by("deal_id", "changed_at", "id")
        .values_list("deal_id", "deal__owner_id", "to_stage_id", "changed_at", "from_stage_id")
    )
    by_deal = defaultdict(list)
    for deal_id, owner_id, stage_id, at, from_id in changes:
        by_deal[deal_id].append((owner_id, stage_id, at, from_id))
    for moves in by_deal.values():
        for i, (owner_id, stage_id, at, from_id) in enumerate(moves):
            stage = stages.get(stage_id)
            if stage is None or not (since <= at < until):
                continue
            if from_id is None:
                out[owner_id].leads += 1
            if stage.kind != StageKind.OPEN:
                continue
            out[owner_id].entered[stage_id] += 1
            for _o, later_id, _at, _f in moves[i + 1 :]:
                later = stages.get(later_id)
                if later is not None and later.kind != StageKind.LOST:
                    if later.kind == StageKind.WON or later.position > stage.position:
                        out[owner_id].reached[stage_id] += 1
                        break
    won = (
        Deal.objects.filter(
            workspace_id=workspace.id,
            pipeline_id=pipeline_id,
            stage__kind=StageKind.WON,
            closed_at__gte=since,
            closed_at__lt=until,
        )
        .values("owner_id")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    for row in won:
        out[row["owner_id"]].won = row["n"]
        out[row["owner_id"]].won_amount = row["total"] or Decimal(0)
    _count_activity(workspace, since, until, out)
    return out


def _count_activity(workspace, since, until, out) -> None:
    rows = (
        Communication.objects.filter(
            workspace_id=workspace.id,
            kind__in=[CommKind.CALL, CommKind.MEETING],
            occurred_at__gte=since,
            occurred_at__lt=until,
            author_id__isnull=False,
        )
        .values("author_id", "kind")
        .annotate(n=Count("id"))
    )
    for row in rows:
        h = out[row["author_id"]]
        if row["kind"] == CommKind.CALL:
            h.calls = row["n"]
        else:
            h.meetings = row["n"]


def period_facts(workspace, start: date, end: date) -> dict[int, dict[str, Decimal]]:
    """Per owner, what happened in ``[start, end)`` in every pipeline: revenue won, deals won,
    new leads, meetings and calls."""
    since, until = bounds(workspace, start, end)
    out: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {k: Decimal(0) for k in ("revenue", "won", "leads", "meetings", "calls")}
    )
    won = (
        Deal.objects.filter(
            workspace_id=workspace.id,
            stage__kind=StageKind.WON,
            closed_at__gte=since,
            closed_at__lt=until,
        )
        .values("owner_id")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    for row in won:
        out[row["owner_id"]]["won"] = Decimal(row["n"])
        out[row["owner_id"]]["revenue"] = row["total"] or Decimal(0)
    leads = (
        StageChange.objects.filter(
            workspace_id=workspace.id,
            from_stage__isnull=True,
            changed_at__gte=since,
            changed_at__lt=until,
        )
        .values("deal__owner_id")
        .annotate(n=Count("id"))
    )
    for row in leads:
        out[row["deal__owner_id"]]["leads"] = Decimal(row["n"])
    activity: dict[int, OwnerHistory] = defaultdict(OwnerHistory)
    _count_activity(workspace, since, until, activity)
    for owner_id, h in activity.items():
        out[owner_id]["calls"] = Decimal(h.calls)
        out[owner_id]["meetings"] = Decimal(h.meetings)
    return out
