"""Evaluating the rules of work: which deals, tasks and communications break them now.

The facts come from a few queries over indexes — the open deals with their next task's due time
and their snooze, the overdue tasks, the communications waiting for a comment — and the
decisions are the pure functions of ``rules.py``. The result is compared with the open
``Violation`` rows: new ones are inserted in bulk, those that no longer hold are closed
(``resolved_at``) in bulk, and those whose manager changed are handed over.

``evaluate_workspace`` runs over a whole workspace (the scheduled jobs); ``evaluate_objects``
over a few deals, tasks and communications: the actions call it through ``after_commit`` once
their transaction commits, so a violation disappears as soon as the manager fixes it.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Length, Substr
from django.utils import timezone

from voronka.accounts.models import User
from voronka.activities.models import Task
from voronka.core.models import Workspace
from voronka.inbox.models import CommKind, Communication, Direction
from voronka.sales.models import Deal, Stage, StageChange, StageKind

from .models import DailySnapshot, RuleSettings, Snooze, Violation
from .rules import (
    DealFacts,
    MessageFacts,
    OwedComment,
    ViolationKind,
    comment_counts,
    comment_is_due,
    deal_violations,
    owed_conversation_comments,
    typical_days,
)

log = logging.getLogger("voronka.control")

#: The kinds a deal carries (subject "deal:<id>").
DEAL_KINDS = (ViolationKind.NO_NEXT_STEP, ViolationKind.STALLED, ViolationKind.NEXT_CONTACT_GAP)
#: The communications that need a comment, and the setting holding each one's grace period.
#: Calls and meetings are judged one by one; messages by conversation (``_message_findings``).
COMMENTED = {
    CommKind.CALL: "call_comment_grace_minutes",
    CommKind.MEETING: "meeting_comment_grace_minutes",
    CommKind.MESSAGE: "message_comment_grace_minutes",
}
#: How far back a scheduled run looks for communications left without a comment. Older ones
#: already flagged stay flagged (they are checked again by id) until the comment is written.
FULL_COMMENT_WINDOW = timedelta(days=30)
QUICK_COMMENT_WINDOW = timedelta(days=2)
#: How far before a message its conversation is read, to find where its exchange began.
MESSAGE_CONTEXT = timedelta(days=2)
#: The typical stay in a stage is the median of this many of its latest finished stays.
TYPICAL_SAMPLE = 1000
#: Rows written per statement (and per transaction: SQLite's writers wait for each other).
BATCH = 2000
#: Rows per multi-row INSERT on PostgreSQL (its limit is 65,535 parameters a statement).
PG_ROWS = 1000
#: Ids per ``IN (...)`` list, well below SQLite's limit on a statement's parameters.
ID_CHUNK = 5000


def subject_of(kind: str, obj_id: int) -> str:
    if kind == ViolationKind.OVERDUE_TASK:
        return f"task:{obj_id}"
    if kind == ViolationKind.MISSING_COMMENT:
        return f"communication:{obj_id}"
    return f"deal:{obj_id}"


@dataclass(frozen=True)
class Found:
    """A rule broken now, as the evaluation found it."""

    kind: str
    subject: str
    manager_id: int
    since: datetime
    deal_id: int | None = None
    task_id: int | None = None
    communication_id: int | None = None


@dataclass
class Outcome:
    """What one evaluation changed, and how long it took."""

    opened: int = 0
    resolved: int = 0
    handed_over: int = 0
    still_open: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"opened {self.opened}, resolved {self.resolved}, handed over {self.handed_over}, "
            f"open {self.still_open} ({self.seconds:.2f} s)"
        )


@dataclass(frozen=True)
class StageRow:
    pipeline_id: int
    kind: str
    normal_days: int | None


class Context:
    """The settings and the stages of a workspace, read once per evaluation."""

    def __init__(self, workspace_id: int, now: datetime):
        self.workspace_id = workspace_id
        self.now = now
        self.settings = RuleSettings.for_workspace(workspace_id)
        self.stages = {
            sid: StageRow(pid, kind, days)
            for sid, pid, kind, days in Stage.objects.filter(workspace_id=workspace_id).values_list(
                "id", "pipeline_id", "kind", "normal_days"
            )
        }
        self.open_stage_ids = sorted(
            sid for sid, s in self.stages.items() if s.kind == StageKind.OPEN
        )
        self.grace = {
            kind: timedelta(minutes=getattr(self.settings, name))
            for kind, name in COMMENTED.items()
        }
        self._typical: dict[int, float | None] = {}

    def allowed_gap_days(self, stage_id: int) -> float | None:
        """How far ahead a deal's next task may be: the head's setting, or the typical stay."""
        if self.settings.next_contact_gap_days is not None:
            return float(self.settings.next_contact_gap_days)
        if stage_id not in self._typical:
            self._typical[stage_id] = typical_stay_days(stage_id)
        return self._typical[stage_id]


def typical_stay_days(stage_id: int, sample: int = TYPICAL_SAMPLE) -> float | None:
    """The median days a deal spent in the stage, over its latest finished stays.

    A finished stay ends with a change *from* the stage; it began with the deal's latest change
    *to* the stage before that. The sample keeps the query to an index range however long the
    history is, and follows how the funnel works lately.
    """
    entered = (
        StageChange.objects.filter(
            deal_id=OuterRef("deal_id"),
            to_stage_id=stage_id,
            changed_at__lte=OuterRef("changed_at"),
        )
        .order_by("-changed_at")
        .values("changed_at")[:1]
    )
    rows = (
        StageChange.objects.filter(from_stage_id=stage_id)
        .order_by("-id")
        .annotate(entered_at=Subquery(entered))
        .values_list("changed_at", "entered_at")[:sample]
    )
    return typical_days(
        (left - came) / timedelta(days=1) for left, came in rows if came is not None
    )


# -- Facts -> findings ---------------------------------------------------------------------------


def _moment(value):
    """A timestamp as the database driver gives it, as an aware datetime.

    PostgreSQL gives aware datetimes; SQLite gives naive UTC ones for a column, text for a
    subquery's value.
    """
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _raw_rows(values_qs, moments: tuple[int, ...] = ()) -> Iterator[tuple]:
    """The rows of a ``values_list`` queryset straight from the cursor, in batches.

    Django's per-value converters cost more than the query itself over a hundred thousand rows;
    only the timestamps need converting here, and ``fromisoformat`` does it fast.
    """
    sql, params = values_qs.query.sql_with_params()
    # A server-side cursor on PostgreSQL: a million rows are not held in memory at once.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(5000):
            for row in batch:
                if moments:
                    row = list(row)
                    for i in moments:
                        row[i] = _moment(row[i])
                yield row


def _chunks(ids: Iterable[int], size: int = ID_CHUNK) -> Iterator[list[int]]:
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _deal_findings(ctx: Context, deal_ids: list[int] | None) -> Iterator[Found]:
    """No next step, stalled, next contact too far: one query over the open deals.

    The next step's due time is the deal's own ``next_step_due`` (its earliest open task's, kept
    by ``sales.next_steps.sync_next_step_due`` in the transaction that changes the tasks; this
    evaluation runs after that commits), not a look-up of every open deal's tasks.
    """
    if not ctx.open_stage_ids:
        return
    now = ctx.now
    snoozed = (
        Snooze.objects.filter(deal_id=OuterRef("pk"), ended_at__isnull=True, until__gt=now)
        .order_by("-until")
        .values("until")[:1]
    )
    base = Deal.objects.filter(workspace_id=ctx.workspace_id, stage_id__in=ctx.open_stage_ids)
    batches = [base] if deal_ids is None else [base.filter(id__in=c) for c in _chunks(deal_ids)]
    for qs in batches:
        rows = (
            qs.annotate(snoozed_until=Subquery(snoozed))
            .order_by()
            .values_list(
                "id", "owner_id", "stage_id", "stage_entered_at", "next_step_due", "snoozed_until"
            )
        )
        for deal_id, owner_id, stage_id, entered, due, snoozed_until in _raw_rows(
            rows, moments=(3, 4, 5)
        ):
            stage = ctx.stages.get(stage_id)
            if stage is None:  # a stage made after the evaluation began: the next run sees it
                continue
            # The allowed gap matters only for a task ahead of now on a deal not snoozed.
            gap = None
            if due is not None and due > now and snoozed_until is None:
                gap = ctx.allowed_gap_days(stage_id)
            facts = DealFacts(entered, stage.normal_days, due, gap, snoozed_until)
            for kind in deal_violations(facts, now):
                if kind == ViolationKind.STALLED:
                    since = entered + timedelta(days=stage.normal_days)
                else:
                    since = now
                yield Found(kind, f"deal:{deal_id}", owner_id, since, deal_id=deal_id)


def _task_findings(ctx: Context, task_ids: list[int] | None, owner_ids) -> Iterator[Found]:
    """Every open task due before now, for its owner."""
    base = Task.objects.filter(workspace_id=ctx.workspace_id, done_at__isnull=True)
    if task_ids is None:
        # Naming the owners lets the databases seek the (workspace, owner, done, due) index.
        batches = [base.filter(owner_id__in=owner_ids, due_at__lt=ctx.now)]
    else:
        batches = [base.filter(id__in=c, due_at__lt=ctx.now) for c in _chunks(task_ids)]
    for qs in batches:
        for task_id, owner_id, deal_id, due in _raw_rows(
            qs.order_by().values_list("id", "owner_id", "deal_id", "due_at"), moments=(3,)
        ):
            yield Found(
                ViolationKind.OVERDUE_TASK,
                f"task:{task_id}",
                owner_id,
                due,
                deal_id=deal_id,
                task_id=task_id,
            )


class _Message(NamedTuple):
    """A message as the conversation rule reads it."""

    id: int
    conversation_id: int | None
    author_id: int | None
    deal_id: int | None
    ours: bool
    at: datetime
    commented: bool


def _comment_findings(ctx: Context, querysets, messages: dict[int, _Message]) -> Iterator[Found]:
    """Calls and meetings whose grace period passed without a real comment.

    Messages are not judged one by one: each is put in ``messages`` for
    ``_message_findings``, which judges their conversations.

    Only the first characters of each comment travel: enough to tell whether it counts, which
    is checked first since most comments do. A comment whose beginning is nothing but blanks
    is read whole.
    """
    minimum = ctx.settings.min_comment_length
    prefix = max(64, 3 * minimum)
    unsure: dict[int, Found] = {}
    unsure_messages: dict[int, _Message] = {}
    for qs in querysets:
        rows = (
            # No "author is not null" here: SQLite would read it as a range on the author index
            # and prefer it to the ids or the authors the caller names; nulls are skipped below.
            qs.filter(kind__in=list(COMMENTED))
            .annotate(head=Substr("comment", 1, prefix), length=Length("comment"))
            .order_by()
            .values_list(
                "id",
                "author_id",
                "deal_id",
                "kind",
                "occurred_at",
                "duration_seconds",
                "head",
                "length",
                "direction",
                "conversation_id",
            )
        )
        for cid, author_id, deal_id, kind, at, seconds, head, length, direction, conv in _raw_rows(
            rows
        ):
            counts = comment_counts(head, minimum)
            if kind == CommKind.MESSAGE:
                message = _Message(
                    cid,
                    conv,
                    author_id,
                    deal_id,
                    direction != Direction.INCOMING,
                    _moment(at),
                    counts,
                )
                messages[cid] = message
                if not counts and (length or 0) > len(head or ""):
                    unsure_messages[cid] = message
                continue
            if counts or author_id is None:
                continue
            ended = _moment(at) + timedelta(seconds=seconds or 0)
            if not comment_is_due(ended, ctx.grace[kind], ctx.now):
                continue
            found = Found(
                ViolationKind.MISSING_COMMENT,
                f"communication:{cid}",
                author_id,
                ended + ctx.grace[kind],
                deal_id=deal_id,
                communication_id=cid,
            )
            if (length or 0) > len(head or ""):
                unsure[cid] = found
            else:
                yield found
    for chunk in _chunks(unsure):
        for cid, comment in Communication.objects.filter(id__in=chunk).values_list("id", "comment"):
            if not comment_counts(comment, minimum):
                yield unsure[cid]
    for chunk in _chunks(unsure_messages):
        for cid, comment in Communication.objects.filter(id__in=chunk).values_list("id", "comment"):
            if comment_counts(comment, minimum):
                messages[cid] = messages[cid]._replace(commented=True)


def _conversation_context(
    ctx: Context, messages: dict[int, _Message], *, before: datetime | None = None
) -> None:
    """Add to ``messages`` the rest of the conversations they belong to, around them.

    An exchange is judged whole, so a message needs its neighbours: from ``MESSAGE_CONTEXT``
    before the earliest of them up to now. ``before`` limits the conversations looked up to
    those with a message older than it (the rest are known whole already).
    """
    seeds: dict[int, datetime] = {}
    for m in messages.values():
        if m.conversation_id is None or (before is not None and m.at >= before):
            continue
        if m.conversation_id not in seeds or m.at < seeds[m.conversation_id]:
            seeds[m.conversation_id] = m.at
    if not seeds:
        return
    comms = Communication.objects.filter(workspace_id=ctx.workspace_id)
    querysets = [
        comms.filter(
            conversation_id__in=chunk,
            occurred_at__gte=min(seeds[c] for c in chunk) - MESSAGE_CONTEXT,
        )
        for chunk in _chunks(sorted(seeds))
    ]
    for _found in _comment_findings(
        ctx, [qs.filter(kind=CommKind.MESSAGE) for qs in querysets], messages
    ):
        pass  # only messages come back from these querysets


def _owed(ctx: Context, messages: dict[int, _Message]) -> list[OwedComment]:
    """The comments owed for the conversations of ``messages`` (``rules.owed_conversation_
    comments``); a message logged by hand, outside any conversation, is an exchange of its own."""
    grace = ctx.grace[CommKind.MESSAGE]
    groups: dict[object, list[MessageFacts]] = defaultdict(list)
    for m in messages.values():
        key = m.conversation_id if m.conversation_id is not None else ("alone", m.id)
        groups[key].append(MessageFacts(m.id, m.at, m.ours, m.author_id, m.commented))
    return [owed for group in groups.values() for owed in owed_conversation_comments(group, grace)]


def _message_findings(ctx: Context, messages: dict[int, _Message]) -> Iterator[Found]:
    """Conversations in a messenger whose exchange ended a grace period ago without a comment,
    flagged on the message of the manager who wrote last in it."""
    grace = ctx.grace[CommKind.MESSAGE]
    for owed in _owed(ctx, messages):
        if owed.commented or not comment_is_due(owed.ended_at, grace, ctx.now):
            continue
        yield Found(
            ViolationKind.MISSING_COMMENT,
            f"communication:{owed.message_id}",
            owed.author_id,
            owed.due_at,
            deal_id=messages[owed.message_id].deal_id,
            communication_id=owed.message_id,
        )


def conversation_comments_owed(workspace_id: int, querysets, now: datetime) -> list[OwedComment]:
    """The comments owed (due yet or not) for the conversations of the messages in
    ``querysets``, commented or not (My day lists the person's open ones)."""
    ctx = Context(workspace_id, now)
    messages: dict[int, _Message] = {}
    querysets = [qs.filter(kind=CommKind.MESSAGE) for qs in querysets]
    for _found in _comment_findings(ctx, querysets, messages):
        pass  # only messages come back from these querysets
    _conversation_context(ctx, messages)
    return _owed(ctx, messages)


# -- Findings -> rows ----------------------------------------------------------------------------


#: The columns ``_insert`` writes: every column of the table (a test holds it to that).
INSERT_COLUMNS = (
    "workspace_id",
    "created_at",
    "updated_at",
    "kind",
    "subject",
    "manager_id",
    "deal_id",
    "task_id",
    "communication_id",
    "since",
    "resolved_at",
)


def _insert(ctx: Context, rows: list[Found]) -> None:
    """Open violations: many rows per statement, not one model at a time.

    ``bulk_create`` spends several times longer than the database here. SQLite takes the rows
    through ``executemany``; PostgreSQL one multi-row ``VALUES`` (a round trip per row costs
    more there). A row a concurrent evaluation opened meanwhile is left as it is (the unique
    open row stands).
    """
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    head = (
        f"INSERT INTO {quote(Violation._meta.db_table)} "
        f"({', '.join(quote(c) for c in INSERT_COLUMNS)}) VALUES "
    )
    one = f"({', '.join(['%s'] * len(INSERT_COLUMNS))})"
    now = adapt(ctx.now)
    params = [
        (
            ctx.workspace_id,
            now,
            now,
            str(f.kind),
            f.subject,
            f.manager_id,
            f.deal_id,
            f.task_id,
            f.communication_id,
            adapt(min(f.since, ctx.now)),
            None,
        )
        for f in rows
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.executemany(head + one + " ON CONFLICT DO NOTHING", params)
            return
        for i in range(0, len(params), PG_ROWS):
            part = params[i : i + PG_ROWS]
            values = ", ".join([one] * len(part))
            flat = [value for row in part for value in row]
            cursor.execute(head + values + " ON CONFLICT DO NOTHING", flat)


def _apply(ctx: Context, found: dict[tuple[str, str], Found], existing_qs, outcome: Outcome):
    """Insert what is new, close what no longer holds, hand over what changed hands."""
    now = ctx.now
    existing = {
        (kind, subject): (vid, manager_id, deal_id)
        for vid, kind, subject, manager_id, deal_id in _raw_rows(
            existing_qs.order_by().values_list("id", "kind", "subject", "manager_id", "deal_id")
        )
    }
    new = [f for key, f in found.items() if key not in existing]
    gone = [vid for key, (vid, _m, _d) in existing.items() if key not in found]
    moved = [
        Violation(id=vid, manager_id=found[key].manager_id, deal_id=found[key].deal_id)
        for key, (vid, manager_id, deal_id) in existing.items()
        if key in found and (found[key].manager_id, found[key].deal_id) != (manager_id, deal_id)
    ]
    for i in range(0, len(new), BATCH):
        _insert(ctx, new[i : i + BATCH])
    for chunk in _chunks(gone, BATCH):
        with transaction.atomic():
            Violation.objects.filter(id__in=chunk, resolved_at__isnull=True).update(
                resolved_at=now, updated_at=now
            )
    for i in range(0, len(moved), BATCH):
        part = moved[i : i + BATCH]
        for v in part:
            v.updated_at = now
        with transaction.atomic():
            Violation.objects.bulk_update(part, ["manager", "deal", "updated_at"])
    outcome.opened += len(new)
    outcome.resolved += len(gone)
    outcome.handed_over += len(moved)
    outcome.still_open += len(found)


def _collect(found: dict, items: Iterable[Found]) -> None:
    for f in items:
        found[(f.kind, f.subject)] = f


def evaluate_workspace(
    workspace_id: int, *, now: datetime | None = None, full: bool = True
) -> Outcome:
    """Evaluate every rule over a whole workspace and bring its open violations up to date.

    ``full`` looks 30 days back for communications without a comment (the nightly run); a
    quick run looks two days back. Violations flagged earlier are checked again either way.
    """
    started = time.monotonic()
    ctx = Context(workspace_id, now or timezone.now())
    outcome = Outcome()
    open_rows = Violation.objects.filter(workspace_id=workspace_id, resolved_at__isnull=True)
    user_ids = list(User.objects.filter(workspace_id=workspace_id).values_list("id", flat=True))

    def timed(name, fn):
        t = time.monotonic()
        result = fn()
        outcome.timings[name] = round(time.monotonic() - t, 3)
        return result

    found: dict[tuple[str, str], Found] = {}
    timed("deals", lambda: _collect(found, _deal_findings(ctx, None)))
    timed("tasks", lambda: _collect(found, _task_findings(ctx, None, user_ids)))
    window = FULL_COMMENT_WINDOW if full else QUICK_COMMENT_WINDOW
    comms = Communication.objects.filter(workspace_id=workspace_id)
    # Up to now, not only to a grace period ago: a message of the last minutes keeps its
    # conversation's exchange open.
    recent = comms.filter(author_id__in=user_ids, occurred_at__gte=ctx.now - window)
    flagged = comms.filter(
        id__in=open_rows.filter(kind=ViolationKind.MISSING_COMMENT).values("communication_id")
    )
    messages: dict[int, _Message] = {}

    def comments():
        _collect(found, _comment_findings(ctx, [recent, flagged], messages))
        # Messages near the window's start (or flagged before it) need the rest of their
        # conversation; those well inside it have it already.
        _conversation_context(ctx, messages, before=ctx.now - window + MESSAGE_CONTEXT)
        _collect(found, _message_findings(ctx, messages))

    timed("communications", comments)
    timed("write", lambda: _apply(ctx, found, open_rows, outcome))
    outcome.seconds = time.monotonic() - started
    return outcome


def evaluate_objects(
    workspace_id: int,
    *,
    deals: Iterable[int] = (),
    tasks: Iterable[int] = (),
    communications: Iterable[int] = (),
    now: datetime | None = None,
) -> Outcome:
    """Evaluate the rules for a few deals, tasks and communications only."""
    started = time.monotonic()
    deal_ids = sorted({d for d in deals if d})
    task_ids = sorted({t for t in tasks if t})
    comm_ids = sorted({c for c in communications if c})
    outcome = Outcome()
    if not (deal_ids or task_ids or comm_ids):
        return outcome
    ctx = Context(workspace_id, now or timezone.now())
    found: dict[tuple[str, str], Found] = {}
    open_rows = Violation.objects.filter(workspace_id=workspace_id, resolved_at__isnull=True)
    scopes = []
    if deal_ids:
        _collect(found, _deal_findings(ctx, deal_ids))
        scopes.append(("deal", DEAL_KINDS, deal_ids))
    if task_ids:
        _collect(found, _task_findings(ctx, task_ids, None))
        scopes.append(("task", (ViolationKind.OVERDUE_TASK,), task_ids))
    if comm_ids:
        comms = Communication.objects.filter(workspace_id=workspace_id)
        messages: dict[int, _Message] = {}
        querysets = [comms.filter(id__in=c) for c in _chunks(comm_ids)]
        _collect(found, _comment_findings(ctx, querysets, messages))
        # A message is judged with its conversation, and a comment on one message may settle
        # what another of the same exchange owed: the whole neighbourhood is in scope.
        _conversation_context(ctx, messages)
        _collect(found, _message_findings(ctx, messages))
        comm_ids = sorted(set(comm_ids) | set(messages))
        scopes.append(("communication", (ViolationKind.MISSING_COMMENT,), comm_ids))
    for name, kinds, ids in scopes:
        for chunk in _chunks(ids):
            wanted = set(chunk)
            subset = {k: f for k, f in found.items() if k[0] in kinds and _id_of(k[1]) in wanted}
            existing = open_rows.filter(kind__in=list(kinds), **{f"{name}_id__in": chunk})
            _apply(ctx, subset, existing, outcome)
    outcome.seconds = time.monotonic() - started
    return outcome


def _id_of(subject: str) -> int:
    return int(subject.rsplit(":", 1)[1])


#: The objects ``after_commit`` was given while ``gathered`` is on, by workspace.
_gathering: ContextVar[dict | None] = ContextVar("control_gathering", default=None)


@contextmanager
def gathered():
    """Within it, ``after_commit`` gathers its objects instead of scheduling an evaluation each;
    on leaving, one evaluation per workspace is scheduled for all of them (inside the caller's
    transaction, so it runs once that commits). The worker's batch of hundreds of ingested
    events is evaluated once, not once per new deal, task and message. An object a rolled-back
    savepoint made is evaluated all the same: it is not found, which changes nothing."""
    if _gathering.get() is not None:
        yield
        return
    gathering: dict[int, tuple[list, list, list]] = {}
    token = _gathering.set(gathering)
    try:
        yield
    finally:
        _gathering.reset(token)
    for workspace_id, (deals, tasks, communications) in gathering.items():
        after_commit(workspace_id, deals=deals, tasks=tasks, communications=communications)


def after_commit(
    workspace_id: int,
    *,
    deals: Iterable[int | None] = (),
    tasks: Iterable[int | None] = (),
    communications: Iterable[int | None] = (),
) -> None:
    """Re-evaluate these objects once the current transaction commits (the actions call this).

    A failure here is logged and never undoes the change the person made.
    """
    deals, tasks, communications = list(deals), list(tasks), list(communications)
    gathering = _gathering.get()
    if gathering is not None:
        bucket = gathering.setdefault(workspace_id, ([], [], []))
        for ids, more in zip(bucket, (deals, tasks, communications), strict=True):
            ids.extend(more)
        return

    def run():
        try:
            evaluate_objects(workspace_id, deals=deals, tasks=tasks, communications=communications)
        except Exception:
            log.exception("re-evaluating the rules failed (workspace %s)", workspace_id)

    transaction.on_commit(run)


# -- Daily snapshots -----------------------------------------------------------------------------


def local_today(workspace: Workspace, now: datetime | None = None):
    return (now or timezone.now()).astimezone(ZoneInfo(workspace.timezone)).date()


def take_snapshot(workspace: Workspace, *, now: datetime | None = None) -> int:
    """Store today's open violations per manager and kind (the trend reads these).

    Taken after every scheduled evaluation, so a day's snapshot ends as the day ended.
    """
    day = local_today(workspace, now)
    counts = (
        Violation.objects.filter(workspace_id=workspace.id, resolved_at__isnull=True)
        .values_list("manager_id", "kind")
        .annotate(n=Count("*"))
        .order_by()
    )
    rows = [
        DailySnapshot(workspace_id=workspace.id, day=day, manager_id=m, kind=k, count=n)
        for m, k, n in counts
    ]
    with transaction.atomic():
        DailySnapshot.objects.filter(workspace_id=workspace.id, day=day).delete()
        DailySnapshot.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)
