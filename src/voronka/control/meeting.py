"""The planning meeting's agenda (планёрка): what the head walks the team through in the morning.

Five sections, each read through the viewer's visibility and narrowed to the managers in view:
plan versus fact by manager (``planning.plans.plan_fact``, the same numbers as the plan-fact
page), hot deals close to payment, deals stalled or without a next step (the open violations
the control screen counts), the deals won and lost since the previous working day, and the
calls flagged for review. No HTTP here: the page and the API both render what ``agenda`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from voronka.accounts.models import User
from voronka.activities.access import visible_review_flags
from voronka.activities.models import ReviewFlag, Task
from voronka.planning import rules as plan_rules
from voronka.planning.plans import PlanFact, plan_fact, weekdays
from voronka.sales.access import visible_deals
from voronka.sales.models import Deal, Stage, StageKind
from voronka.sales.rules import NextStepState, days_in_stage, next_step_state

from .models import Violation
from .rules import ViolationKind

#: The periods the plan-fact section shows.
PERIODS = ("week", "month")
#: The kinds of violation the meeting goes through, in the order it reads them.
STUCK_KINDS = (ViolationKind.STALLED, ViolationKind.NO_NEXT_STEP)
#: A required field that marks a stage as «invoice issued» whatever its name.
INVOICE_FIELDS = frozenset({"invoice_no", "invoice_amount"})
HOT_LIMIT = 15
STUCK_PER_LIST = 5
CLOSED_LIMIT = 30
FLAG_LIMIT = 10
#: Counts beyond this are shown as «N+»: nobody reads a longer list at a meeting.
COUNT_CAP = 999


# -- Who is in view ------------------------------------------------------------------------------


def team_members(workspace_id: int, team_id: int) -> frozenset[int]:
    return frozenset(
        User.objects.filter(workspace_id=workspace_id, team_id=team_id).values_list("id", flat=True)
    )


def narrow(scope: frozenset[int] | None, members: frozenset[int] | None):
    """The managers in view: the viewer's scope (None: everyone), cut to a team's members."""
    if members is None:
        return scope
    return members if scope is None else scope & members


def _owned_by(qs, managers, field_name: str = "owner_id"):
    return qs if managers is None else qs.filter(**{f"{field_name}__in": managers})


def _capped(qs) -> tuple[int, bool]:
    n = qs.order_by()[: COUNT_CAP + 1].count()
    return (COUNT_CAP, True) if n > COUNT_CAP else (n, False)


# -- Plan versus fact ----------------------------------------------------------------------------


@dataclass
class PlanFactRow:
    """A manager's plan and fact of the period, and how far calls and meetings lag the plan
    to date (the plan × working days passed ÷ working days in the period, less the fact)."""

    manager: User
    paces: dict  # metric → planning.rules.Pace
    planned: dict  # metric → whether the manager has a plan for it
    behind: dict  # "calls", "meetings" → Decimal (0 when on pace or without a plan)


@dataclass
class PlanFactSection:
    kind: str
    report: PlanFact
    rows: list[PlanFactRow]


def _behind(pace: plan_rules.Pace) -> Decimal:
    if pace.plan <= 0 or pace.total_days <= 0:
        return Decimal(0)
    due = pace.plan * pace.elapsed_days / pace.total_days
    return max(Decimal(0), (due - pace.fact).quantize(Decimal(1)))


def plan_fact_section(workspace, kind: str, today: date, managers) -> PlanFactSection:
    report = plan_fact(workspace, kind, today, today, managers)
    rows = [
        PlanFactRow(
            r.manager,
            r.paces,
            {m: r.plan[m] is not None for m in r.plan},
            {m: _behind(r.paces[m]) for m in ("calls", "meetings")},
        )
        for r in report.rows
    ]
    return PlanFactSection(kind, report, rows)


# -- Hot deals close to payment ------------------------------------------------------------------


def hot_stages(workspace_id: int) -> list[Stage]:
    """The stages of «close to payment»: in each pipeline the last open stage before the won
    one, and any open stage that requires the invoice (invoice issued, whatever its name)."""
    stages = Stage.objects.filter(
        workspace_id=workspace_id, is_archived=False, pipeline__is_archived=False
    ).order_by("pipeline_id", "position", "id")
    by_pipeline: dict[int, list[Stage]] = {}
    for s in stages.select_related("pipeline"):
        by_pipeline.setdefault(s.pipeline_id, []).append(s)
    hot = []
    for chain in by_pipeline.values():
        won = next((s for s in chain if s.kind == StageKind.WON), None)
        opened = [s for s in chain if s.kind == StageKind.OPEN]
        before_won = [s for s in opened if won is None or s.position < won.position]
        last = before_won[-1] if before_won else None
        for s in opened:
            required = {str(f) for f in (s.required_fields or [])}
            if s == last or required & INVOICE_FIELDS:
                hot.append(s)
    return hot


@dataclass
class HotDeal:
    deal: Deal
    days_in_stage: int
    next_task: Task | None
    next_state: NextStepState


@dataclass
class HotSection:
    stages: list[Stage]
    deals: list[HotDeal]
    total: int
    capped: bool

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.deals))


def next_tasks(deal_ids) -> dict[int, Task]:
    """Each deal's next step: its open task due first."""
    out: dict[int, Task] = {}
    tasks = Task.objects.filter(deal_id__in=list(deal_ids), done_at__isnull=True).order_by(
        "deal_id", "due_at", "id"
    )
    for t in tasks:
        out.setdefault(t.deal_id, t)
    return out


def hot_section(viewer, managers, now: datetime) -> HotSection:
    stages = hot_stages(viewer.workspace_id)
    qs = _owned_by(visible_deals(viewer).filter(stage__in=stages), managers)
    total, capped = _capped(qs)
    deals = list(
        qs.select_related("owner", "stage", "company").order_by(
            "-amount", "stage_entered_at", "id"
        )[:HOT_LIMIT]
    )
    tasks = next_tasks(d.id for d in deals)
    rows = []
    for d in deals:
        task = tasks.get(d.id)
        rows.append(
            HotDeal(
                d,
                days_in_stage(d.stage_entered_at, now),
                task,
                next_step_state(task.due_at if task else None, now),
            )
        )
    return HotSection(stages, rows, total, capped)


# -- Deals stalled or without a next step --------------------------------------------------------


@dataclass
class StuckItem:
    deal: Deal
    since: datetime
    days_in_stage: int
    linkable: bool


@dataclass
class StuckList:
    kind: str
    items: list[StuckItem]
    total: int

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.items))


@dataclass
class StuckGroup:
    manager: User
    lists: list[StuckList]

    @property
    def total(self) -> int:
        return sum(x.total for x in self.lists)


def stuck_section(viewer, managers, now: datetime) -> list[StuckGroup]:
    """Per manager, the open «stalled» and «no next step» violations, the deals longest in
    their stage first, the first few of each kind with the count of the rest (read from the
    violations, as the control screen does: never from the deals)."""
    open_qs = Violation.objects.filter(
        workspace_id=viewer.workspace_id,
        resolved_at__isnull=True,
        kind__in=[k.value for k in STUCK_KINDS],
        deal__isnull=False,
    )
    open_qs = _owned_by(open_qs, managers, "manager_id")
    # COUNT(*) over the (workspace, resolved, manager, kind) index, as the control screen does.
    counts = {
        (m, k): n
        for m, k, n in open_qs.values_list("manager_id", "kind").annotate(n=Count("*")).order_by()
    }
    if not counts:
        return []
    firsts = (
        open_qs.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("manager_id"), F("kind")],
                order_by=[F("deal__stage_entered_at").asc(), F("id").asc()],
            )
        )
        .filter(rank__lte=STUCK_PER_LIST)
        .select_related("deal", "deal__stage")
        # Only what the agenda shows: a deal's every column (its custom fields among them)
        # costs more to turn into objects than the query itself.
        .only(
            "id",
            "manager_id",
            "kind",
            "since",
            "deal__id",
            "deal__title",
            "deal__stage_entered_at",
            "deal__stage__id",
            "deal__stage__name",
        )
        .order_by("manager_id", "kind", "deal__stage_entered_at", "id")
    )
    rows = list(firsts)
    linkable = set(
        visible_deals(viewer)
        .filter(id__in={v.deal_id for v in rows})
        .order_by()
        .values_list("id", flat=True)
    )
    items: dict[tuple[int, str], list[StuckItem]] = {}
    for v in rows:
        items.setdefault((v.manager_id, v.kind), []).append(
            StuckItem(
                v.deal, v.since, days_in_stage(v.deal.stage_entered_at, now), v.deal_id in linkable
            )
        )
    people = User.objects.filter(id__in={m for m, _k in counts}).select_related("team")
    groups = []
    for person in people:
        lists = [
            StuckList(k.value, items.get((person.id, k.value), []), counts[(person.id, k.value)])
            for k in STUCK_KINDS
            if counts.get((person.id, k.value))
        ]
        groups.append(StuckGroup(person, lists))
    # The managers with the most to answer for first.
    groups.sort(key=lambda g: (-g.total, g.manager.last_name, g.manager.username, g.manager.id))
    return groups


# -- Won and lost since the previous working day -------------------------------------------------


def previous_working_day(today: date, days_of_week: frozenset[int]) -> date:
    """The last working day before ``today`` (yesterday when it was one)."""
    day = today - timedelta(days=1)
    for _step in range(7):
        if day.weekday() in days_of_week:
            return day
        day -= timedelta(days=1)
    return today - timedelta(days=1)


@dataclass
class ClosedDeal:
    deal: Deal
    at: datetime
    won: bool
    reason: str


@dataclass
class ClosedSection:
    start: date  # the first day of the window, in the viewer's time zone
    end: date  # the day after its last (today)
    won: list[ClosedDeal]
    lost: list[ClosedDeal]
    won_amount: Decimal
    capped: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def closed_section(viewer, managers, now: datetime, tz: ZoneInfo) -> ClosedSection:
    """Deals that entered a won or lost stage from the start of the previous working day to
    the start of today, both in the viewer's time zone (on a Monday: Friday and the weekend).

    Read from the deals at those stages by the moment they entered them (the deal's stage
    index), not by scanning the stage history: the same moves, for the deals still closed.
    """
    today = now.astimezone(tz).date()
    first = previous_working_day(today, weekdays(viewer.workspace))
    since = datetime.combine(first, time.min, tzinfo=tz)
    until = datetime.combine(today, time.min, tzinfo=tz)
    closing = Stage.objects.filter(
        workspace_id=viewer.workspace_id, kind__in=[StageKind.WON, StageKind.LOST]
    )
    kinds = dict(closing.values_list("id", "kind"))
    deals = _owned_by(
        visible_deals(viewer).filter(
            stage_id__in=list(kinds), stage_entered_at__gte=since, stage_entered_at__lt=until
        ),
        managers,
    )
    lists = {}
    for kind in (StageKind.WON, StageKind.LOST):
        ids = [i for i, k in kinds.items() if k == kind]
        rows = list(
            deals.filter(stage_id__in=ids)
            .select_related("owner", "company")
            .order_by("-amount", "id")[: CLOSED_LIMIT + 1]
        )
        lists[kind] = [
            ClosedDeal(
                d,
                d.stage_entered_at,
                kind == StageKind.WON,
                "" if kind == StageKind.WON else d.loss_reason,
            )
            for d in rows
        ]
    won_ids = [i for i, k in kinds.items() if k == StageKind.WON]
    won_amount = deals.filter(stage_id__in=won_ids).order_by().aggregate(s=Sum("amount"))["s"]
    won, lost = lists[StageKind.WON], lists[StageKind.LOST]
    return ClosedSection(
        first,
        today,
        won[:CLOSED_LIMIT],
        lost[:CLOSED_LIMIT],
        won_amount or Decimal(0),
        len(won) > CLOSED_LIMIT or len(lost) > CLOSED_LIMIT,
    )


# -- Calls flagged for review --------------------------------------------------------------------


@dataclass
class FlagSection:
    flags: list[ReviewFlag]
    total: int
    capped: bool

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.flags))


def flag_section(viewer, managers) -> FlagSection:
    qs = visible_review_flags(viewer).filter(cleared_at__isnull=True)
    if managers is not None:
        qs = qs.filter(
            Q(communication__author_id__in=managers) | Q(communication__deal__owner_id__in=managers)
        )
    total, capped = _capped(qs)
    flags = list(
        qs.select_related(
            "flagged_by",
            "communication",
            "communication__author",
            "communication__contact",
            "communication__deal",
        ).order_by("-created_at", "-id")[:FLAG_LIMIT]
    )
    deal_ids = {f.communication.deal_id for f in flags if f.communication.deal_id}
    linkable = set(
        visible_deals(viewer).filter(id__in=deal_ids).order_by().values_list("id", flat=True)
    )
    for f in flags:
        f.deal_linkable = f.communication.deal_id in linkable
    return FlagSection(flags, total, capped)


# -- The agenda ----------------------------------------------------------------------------------


@dataclass
class Agenda:
    now: datetime
    today: date
    managers: frozenset[int] | None
    plan_fact: PlanFactSection
    hot: HotSection
    stuck: list[StuckGroup]
    closed: ClosedSection
    flags: FlagSection


def agenda(viewer, managers, *, period: str = "month", now: datetime | None = None) -> Agenda:
    """The meeting's agenda for ``viewer`` over the managers in view (None: everyone the viewer
    sees); days are the viewer's own, in their time zone."""
    now = now or timezone.now()
    tz = ZoneInfo(viewer.timezone or viewer.workspace.timezone)
    today = now.astimezone(tz).date()
    if period not in PERIODS:
        period = "month"
    return Agenda(
        now=now,
        today=today,
        managers=managers,
        plan_fact=plan_fact_section(viewer.workspace, period, today, managers),
        hot=hot_section(viewer, managers, now),
        stuck=stuck_section(viewer, managers, now),
        closed=closed_section(viewer, managers, now, tz),
        flags=flag_section(viewer, managers),
    )
