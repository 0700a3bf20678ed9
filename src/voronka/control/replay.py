"""Replaying the rules over the past: daily snapshots for days before the evaluation ran.

A workspace that arrives with its history (the demo company, an import) has no snapshots of its
past, so the control screen's trend would start today. ``backfill_snapshots`` finds, for each of
the last days, what the evaluation would have found at that day's end, from what the database
keeps of the past:

- a deal's stage at a moment, and since when: its stage changes;
- the tasks open at a moment: made before it and not done by then;
- the communications waiting for a comment: those of the month before whose grace period had
  passed, judged by their comment as it is now (when a comment was written is not kept);
  messages by conversation, as the evaluation judges them;
- the snoozes in force then.

Two things are today's, not the day's: the typical stay per stage (the next-contact gap) and the
owners of deals and tasks (a hand-over is not replayed). It reads the workspace's history into
memory: it is meant for a workspace of the demo's size, once, before the nightly runs take over.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from voronka.activities.models import Task
from voronka.core.models import Workspace
from voronka.inbox.models import CommKind, Communication, Direction
from voronka.sales.models import Deal, StageChange, StageKind

from .evaluate import BATCH, FULL_COMMENT_WINDOW, Context
from .models import DailySnapshot, Snooze
from .rules import (
    DealFacts,
    MessageFacts,
    ViolationKind,
    comment_counts,
    comment_is_due,
    deal_violations,
    owed_conversation_comments,
)


def backfill_snapshots(workspace: Workspace, *, days: int = 30, now: datetime | None = None):
    """Snapshots for the ``days - 1`` days before today that have none; the number of days made.

    Today's snapshot is the live evaluation's (``take_snapshot``).
    """
    now = now or timezone.now()
    tz = ZoneInfo(workspace.timezone)
    today = now.astimezone(tz).date()
    wanted = [today - timedelta(days=n) for n in range(days - 1, 0, -1)]
    have = set(
        DailySnapshot.objects.filter(workspace_id=workspace.id, day__in=wanted)
        .values_list("day", flat=True)
        .distinct()
    )
    wanted = [d for d in wanted if d not in have]
    if not wanted:
        return 0
    ends = {d: datetime.combine(d + timedelta(days=1), time.min, tzinfo=tz) for d in wanted}
    ctx = Context(workspace.id, now)
    earliest = min(ends.values()) - timedelta(days=1)

    owner = dict(Deal.objects.filter(workspace_id=workspace.id).values_list("id", "owner_id"))
    path: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for deal_id, stage_id, at in (
        StageChange.objects.filter(workspace_id=workspace.id)
        .order_by("deal_id", "changed_at", "id")
        .values_list("deal_id", "to_stage_id", "changed_at")
    ):
        path[deal_id].append((at, stage_id))
    tasks = list(
        Task.objects.filter(workspace_id=workspace.id, created_at__lt=max(ends.values()))
        .exclude(done_at__lt=earliest)
        .values_list("owner_id", "deal_id", "created_at", "due_at", "done_at")
    )
    deal_tasks = defaultdict(list)
    for t in tasks:
        if t[1] is not None:
            deal_tasks[t[1]].append(t)
    comms = list(
        Communication.objects.filter(
            workspace_id=workspace.id,
            kind__in=[CommKind.CALL, CommKind.MEETING],
            author_id__isnull=False,
            occurred_at__gte=earliest - FULL_COMMENT_WINDOW,
        ).values_list("author_id", "kind", "occurred_at", "duration_seconds", "comment")
    )
    minimum = ctx.settings.min_comment_length
    # Messages are judged by conversation, so every message counts (the client's too: they
    # mark where an exchange goes on), with its author or not.
    conversations: dict[object, list[tuple]] = defaultdict(list)
    for cid, conv, author_id, direction, at, comment in (
        Communication.objects.filter(
            workspace_id=workspace.id,
            kind=CommKind.MESSAGE,
            occurred_at__gte=earliest - FULL_COMMENT_WINDOW,
        )
        .order_by("occurred_at", "id")
        .values_list("id", "conversation_id", "author_id", "direction", "occurred_at", "comment")
    ):
        facts = MessageFacts(
            cid, at, direction != Direction.INCOMING, author_id, comment_counts(comment, minimum)
        )
        conversations[conv if conv is not None else ("alone", cid)].append(facts)
    snoozes = defaultdict(list)
    for deal_id, made, until, ended in Snooze.objects.filter(workspace_id=workspace.id).values_list(
        "deal_id", "created_at", "until", "ended_at"
    ):
        snoozes[deal_id].append((made, min(until, ended) if ended else until))

    rows = []
    for day, end in ends.items():
        counts: Counter = Counter()
        for deal_id, steps in path.items():
            i = bisect.bisect_right(steps, (end, float("inf"))) - 1
            if i < 0:
                continue  # not made yet
            entered, stage_id = steps[i]
            stage = ctx.stages.get(stage_id)
            if stage is None or stage.kind != StageKind.OPEN:
                continue
            open_dues = [
                due
                for _o, _d, made, due, done in deal_tasks.get(deal_id, ())
                if made <= end and (done is None or done > end)
            ]
            next_due = min(open_dues) if open_dues else None
            paused = [until for made, until in snoozes.get(deal_id, ()) if made <= end < until]
            snoozed_until = max(paused) if paused else None
            gap = None
            if next_due is not None and next_due > end and snoozed_until is None:
                gap = ctx.allowed_gap_days(stage_id)
            facts = DealFacts(entered, stage.normal_days, next_due, gap, snoozed_until)
            for kind in deal_violations(facts, end):
                counts[(owner[deal_id], kind)] += 1
        for owner_id, _deal, made, due, done in tasks:
            if made <= end and (done is None or done > end) and due < end:
                counts[(owner_id, ViolationKind.OVERDUE_TASK)] += 1
        for messages in conversations.values():
            seen = [m for m in messages if end - FULL_COMMENT_WINDOW <= m.at <= end]
            for owed in owed_conversation_comments(seen, ctx.grace[CommKind.MESSAGE]):
                if not owed.commented and owed.due_at <= end:
                    counts[(owed.author_id, ViolationKind.MISSING_COMMENT)] += 1
        for author_id, kind, at, seconds, comment in comms:
            if not end - FULL_COMMENT_WINDOW <= at <= end:
                continue
            ended = at + timedelta(seconds=seconds or 0)
            if comment_is_due(ended, ctx.grace[kind], end) and not comment_counts(comment, minimum):
                counts[(author_id, ViolationKind.MISSING_COMMENT)] += 1
        rows += [
            DailySnapshot(workspace_id=workspace.id, day=day, manager_id=m, kind=k, count=n)
            for (m, k), n in counts.items()
        ]
    with transaction.atomic():
        DailySnapshot.objects.bulk_create(rows, batch_size=BATCH)
    return len(wanted)
