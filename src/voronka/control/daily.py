"""The daily report: a day's and its week's activity per manager against plan, and the team's.

What it reads, and from where (nothing here is typed in by hand):

- the facts are the analytics' KPIs (``analytics.queries.kpi_values``, counted from the
  rollups of the timeline; their definitions are in ``analytics.kpis.KPIS``): outgoing calls,
  meetings held, proposals sent, invoices issued, payments (a won deal is a paid deal), deals
  moved forward, won and lost; the loss reasons come from the same rollup;
- the plan is the planning app's decomposition of the target that covers the day for the
  manager (their own, else their team's, else the company's; a week's target before a month's,
  a month's before a quarter's, a quarter's before a year's), spread evenly over the period's
  working days: a working day's plan is the period's count divided by its working days, a week's
  the sum over its working days.

Days are calendar days in the workspace's time zone, as everywhere in the analytics. Visibility
is the caller's job: ``report_scope`` says whose rows a person sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from voronka.accounts.access import access_user, owner_scope
from voronka.accounts.models import Role, User
from voronka.analytics import rules as analytics_rules
from voronka.analytics.kpis import KPIS
from voronka.analytics.models import StageEntryDay
from voronka.analytics.queries import kpi_values
from voronka.planning import rules as plan_rules
from voronka.planning.plans import Histories, resolve_targets, target_plan, weekdays
from voronka.sales.models import Stage, StageKind

#: Who opens a daily report: a manager their own, a senior their team's, the head and the owner
#: everyone's. The quality controller and the assistant have none (404).
REPORT_ROLES = frozenset({Role.OWNER, Role.HEAD, Role.SENIOR, Role.MANAGER})

#: The activities a report sets against the plan, in the order it shows them, and the KPI that
#: counts each.
METRICS = ("calls", "meetings", "proposals", "invoices", "payments", "revenue")
FACT_KPIS = {
    "calls": "calls_out",
    "meetings": "meetings_held",
    "proposals": "proposals_sent",
    "invoices": "invoices_issued",
    "payments": "payments_count",
    "revenue": "payments_amount",
}
LABELS = {
    "calls": pgettext_lazy("daily report", "Calls"),
    "meetings": pgettext_lazy("daily report", "Meetings"),
    "proposals": pgettext_lazy("daily report", "Proposals"),
    "invoices": pgettext_lazy("daily report", "Invoices"),
    "payments": pgettext_lazy("daily report", "Payments"),
    "revenue": pgettext_lazy("daily report", "Paid, amount"),
    "moved_forward": pgettext_lazy("daily report", "Moved forward"),
    "won": pgettext_lazy("daily report", "Won"),
    "lost": pgettext_lazy("daily report", "Lost"),
}
#: What happened to the deals, beside the activities.
OUTCOME_KPIS = ("moved_forward", "won", "lost", "new_deals")
#: Plans are tried from the most specific period to the widest.
PLAN_KINDS = ("week", "month", "quarter", "year")
#: Loss reasons listed per manager; the rest are counted as "other".
REASONS_SHOWN = 5

ON_TRACK = "on_track"
AT_RISK = "at_risk"
OFF_TRACK = "off_track"
NO_PLAN = "no_plan"


def report_scope(user) -> frozenset[int] | None:
    """The people whose daily report ``user`` sees, or None for everyone; 404 for anyone the
    report is not for."""
    if not user.is_authenticated or user.role not in REPORT_ROLES:
        raise Http404
    if user.role in (Role.OWNER, Role.HEAD):
        return None
    return owner_scope(user)


def definitions() -> dict[str, str]:
    """What each figure of the report counts, as the analytics define it."""
    out = {m: str(KPIS[code].definition) for m, code in FACT_KPIS.items()}
    out.update({code: str(KPIS[code].definition) for code in OUTCOME_KPIS})
    return out


def previous_working_day(today: date, days_of_week: frozenset[int]) -> date:
    """The last working day before ``today`` (yesterday on an ordinary weekday)."""
    day = today - timedelta(days=1)
    for _step in range(7):
        if day.weekday() in days_of_week:
            return day
        day -= timedelta(days=1)
    return today - timedelta(days=1)


def status(fact, plan) -> str:
    """On track at the plan or above, at risk from 80 % of it, off track below."""
    if plan is None or plan <= 0:
        return NO_PLAN
    ratio = Decimal(fact) / Decimal(plan)
    if ratio >= plan_rules.ON_TRACK:
        return ON_TRACK
    if ratio >= plan_rules.AT_RISK:
        return AT_RISK
    return OFF_TRACK


@dataclass
class Cell:
    """A figure against its plan (None: no plan covers it)."""

    fact: Decimal
    plan: Decimal | None = None

    @property
    def status(self) -> str:
        return status(self.fact, self.plan)

    def add(self, other: Cell) -> None:
        self.fact += other.fact
        if other.plan is not None:
            self.plan = (self.plan or Decimal(0)) + other.plan


class Figure(NamedTuple):
    code: str
    label: str
    day: Cell
    week: Cell
    whole: Decimal | None


@dataclass
class Row:
    """One manager's report (``person`` None: a total)."""

    person: User | None
    label: str
    #: The day's facts against the day's plan.
    day: dict[str, Cell]
    #: The week so far (Monday to the day) against the plan up to the day.
    week: dict[str, Cell]
    #: The whole week's plan.
    week_plan: dict[str, Decimal | None]
    moved_forward: int = 0
    won: int = 0
    won_amount: Decimal = Decimal(0)
    lost: int = 0
    new_deals: int = 0
    #: (reason, count), most frequent first; an empty reason is ""
    lost_reasons: list[tuple[str, int]] = field(default_factory=list)
    #: Where the plan comes from: (period kind, period start), or None.
    plan_source: tuple[str, date] | None = None

    @property
    def has_plan(self) -> bool:
        return self.plan_source is not None or any(c.plan is not None for c in self.day.values())

    @property
    def cells(self) -> list[Figure]:
        """Each activity's day, week so far and whole week's plan, in the report's order."""
        return [Figure(m, LABELS[m], self.day[m], self.week[m], self.week_plan[m]) for m in METRICS]

    @property
    def is_quiet(self) -> bool:
        return not any(c.fact for c in self.week.values()) and not (
            self.moved_forward or self.won or self.lost or self.new_deals
        )


def _blank_row(person: User | None, label: str) -> Row:
    return Row(
        person=person,
        label=label,
        day={m: Cell(Decimal(0)) for m in METRICS},
        week={m: Cell(Decimal(0)) for m in METRICS},
        week_plan={m: None for m in METRICS},
    )


def _add_rows(total: Row, rows: list[Row]) -> Row:
    reasons: dict[str, int] = {}
    for row in rows:
        for m in METRICS:
            total.day[m].add(row.day[m])
            total.week[m].add(row.week[m])
            if row.week_plan[m] is not None:
                total.week_plan[m] = (total.week_plan[m] or Decimal(0)) + row.week_plan[m]
        total.moved_forward += row.moved_forward
        total.won += row.won
        total.won_amount += row.won_amount
        total.lost += row.lost
        total.new_deals += row.new_deals
        for reason, n in row.lost_reasons:
            reasons[reason] = reasons.get(reason, 0) + n
    total.lost_reasons = _top_reasons(reasons)
    return total


def _top_reasons(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass
class TeamBlock:
    name: str
    rows: list[Row]
    total: Row


@dataclass
class DailyReport:
    day: date
    week_start: date
    week_end: date
    is_working_day: bool
    rows: list[Row]
    teams: list[TeamBlock]
    total: Row

    @property
    def has_plan(self) -> bool:
        return any(r.has_plan for r in self.rows)

    def row_of(self, person_id: int) -> Row | None:
        return next((r for r in self.rows if r.person and r.person.id == person_id), None)


# -- The plan of a day ---------------------------------------------------------------------------


class DayPlans:
    """Each manager's plan per working day, from the target covering a day; read once per
    period and reused for every day of the week."""

    def __init__(self, workspace, scope, today: date):
        self.workspace = workspace
        self.scope = scope
        self.today = today
        self.days_of_week = weekdays(workspace)
        self.histories = Histories(workspace)
        self._periods: dict[tuple[str, date], dict[int, dict]] = {}
        self._stages = self._document_stages()

    def _document_stages(self) -> tuple[set[str], set[str]]:
        stages = Stage.objects.filter(workspace_id=self.workspace.id).values_list(
            "id", "pipeline_id", "kind", "position", "required_fields"
        )
        proposals, invoices = analytics_rules.document_stages(list(stages))
        return {str(i) for i in proposals}, {str(i) for i in invoices}

    def _period(self, kind: str, start: date) -> dict[int, dict]:
        """{manager id: {"per_day": {metric: Decimal}, "source": (kind, start)}} for a period."""
        key = (kind, start)
        if key in self._periods:
            return self._periods[key]
        chosen = resolve_targets(self.workspace, kind, start)
        if self.scope is not None:
            chosen = {m: t for m, t in chosen.items() if m in self.scope}
        out: dict[int, dict] = {}
        proposals, invoices = self._stages
        for target in {t.id: t for t in chosen.values()}.values():
            tp = target_plan(
                target,
                today=self.today,
                histories=self.histories,
                only=frozenset(m for m, t in chosen.items() if t.id == target.id),
            )
            for mp in tp.managers:
                if chosen.get(mp.manager.id) != target:
                    continue
                plan = mp.plan
                days = plan.working_days or tp.working_days
                counts = {
                    "calls": plan.calls,
                    "meetings": plan.meetings,
                    "proposals": None,
                    "invoices": None,
                    "payments": plan.won,
                    "revenue": mp.amount,
                }
                for ref, n in plan.stages:
                    if ref.key in proposals and n is not None:
                        counts["proposals"] = (counts["proposals"] or 0) + n
                    if ref.key in invoices and n is not None:
                        counts["invoices"] = (counts["invoices"] or 0) + n
                per_day = {
                    m: (None if v is None or days <= 0 else Decimal(v) / days)
                    for m, v in counts.items()
                }
                out[mp.manager.id] = {"per_day": per_day, "source": (kind, target.period_start)}
        self._periods[key] = out
        return out

    def on(self, manager_id: int, day: date) -> tuple[dict[str, Decimal | None], tuple | None]:
        """A manager's plan for ``day`` (zero on a day off) and where it comes from."""
        for kind in PLAN_KINDS:
            found = self._period(kind, plan_rules.period_start(kind, day)).get(manager_id)
            if found is None:
                continue
            if day.weekday() not in self.days_of_week:
                off = {m: (None if v is None else Decimal(0)) for m, v in found["per_day"].items()}
                return off, found["source"]
            return dict(found["per_day"]), found["source"]
        return {m: None for m in METRICS}, None


def _plus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if b is None:
        return a
    return (a or Decimal(0)) + b


def _round(value: Decimal | None, metric: str) -> Decimal | None:
    if value is None:
        return None
    if metric == "revenue":
        return value.quantize(Decimal("0.01"))
    return plan_rules.tenth(value)


# -- The report ----------------------------------------------------------------------------------


def report_people(workspace, scope, active_ids: set[int]) -> list[User]:
    """Whom a report may have rows for: the active managers and seniors in the scope, and
    anyone else in it who did something in the week (a switched-off manager, the head)."""
    qs = User.objects.filter(workspace_id=workspace.id).filter(
        Q(is_active=True, role__in=[Role.MANAGER, Role.SENIOR]) | Q(id__in=active_ids)
    )
    if scope is not None:
        qs = qs.filter(id__in=scope)
    return list(qs.select_related("team").order_by("last_name", "first_name", "username", "id"))


def daily_report(workspace, day: date, scope, *, today: date | None = None) -> DailyReport:
    """The report of ``day`` for the people in ``scope`` (None: everyone)."""
    today = today or day
    days_of_week = weekdays(workspace)
    monday = analytics_rules.bucket_start(day, "week")
    sunday = monday + timedelta(days=6)
    owners = list(scope) if scope is not None else None
    codes = sorted(set(FACT_KPIS.values()) | set(OUTCOME_KPIS))
    of_day = kpi_values(workspace, codes, owners=owners, since=day, until=day, granularity="total")
    of_week = kpi_values(
        workspace, codes, owners=owners, since=monday, until=day, granularity="total"
    )
    reasons = _loss_reasons(workspace, day, owners)
    active = {who for who, _b, _c in of_week} | {who for who, _b, _c in of_day}
    plans = DayPlans(workspace, scope, today)
    rows = []
    for person in report_people(workspace, scope, active):
        row = _blank_row(person, str(person))
        for m, code in FACT_KPIS.items():
            row.day[m].fact = Decimal(of_day.get((person.id, date.min, code)) or 0)
            row.week[m].fact = Decimal(of_week.get((person.id, date.min, code)) or 0)
        row.moved_forward = of_day.get((person.id, date.min, "moved_forward")) or 0
        row.won = of_day.get((person.id, date.min, "won")) or 0
        row.won_amount = of_day.get((person.id, date.min, "payments_amount")) or Decimal(0)
        row.lost = of_day.get((person.id, date.min, "lost")) or 0
        row.new_deals = of_day.get((person.id, date.min, "new_deals")) or 0
        row.lost_reasons = _top_reasons(reasons.get(person.id, {}))
        so_far: dict[str, Decimal | None] = {m: None for m in METRICS}
        whole: dict[str, Decimal | None] = {m: None for m in METRICS}
        for offset in range(7):
            d = monday + timedelta(days=offset)
            per_day, source = plans.on(person.id, d)
            if d == day:
                row.plan_source = source
                for m in METRICS:
                    row.day[m].plan = _round(per_day[m], m)
            for m in METRICS:
                whole[m] = _plus(whole[m], per_day[m])
                if d <= day:
                    so_far[m] = _plus(so_far[m], per_day[m])
        for m in METRICS:
            row.week[m].plan = _round(so_far[m], m)
            row.week_plan[m] = _round(whole[m], m)
        if person.role != Role.MANAGER and not row.has_plan and person.id not in active:
            continue
        rows.append(row)
    teams = _team_blocks(rows)
    total = _add_rows(_blank_row(None, ""), rows)
    return DailyReport(
        day=day,
        week_start=monday,
        week_end=sunday,
        is_working_day=day.weekday() in days_of_week,
        rows=rows,
        teams=teams,
        total=total,
    )


def _loss_reasons(workspace, day: date, owners) -> dict[int, dict[str, int]]:
    lost_stages = set(
        Stage.objects.filter(workspace_id=workspace.id, kind=StageKind.LOST).values_list(
            "id", flat=True
        )
    )
    qs = StageEntryDay.objects.filter(workspace_id=workspace.id, day=day, stage_id__in=lost_stages)
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    out: dict[int, dict[str, int]] = {}
    for owner_id, reason, n in qs.values_list("owner_id", "loss_reason", "entered"):
        if n:
            per = out.setdefault(owner_id, {})
            per[reason] = per.get(reason, 0) + n
    return out


def _team_blocks(rows: list[Row]) -> list[TeamBlock]:
    """The rows by team (people without a team last), each with its subtotal."""
    by_team: dict[int | None, list[Row]] = {}
    names: dict[int | None, str] = {None: ""}
    for row in rows:
        team = row.person.team if row.person else None
        key = team.id if team else None
        by_team.setdefault(key, []).append(row)
        if team:
            names[key] = team.name
    order = sorted((k for k in by_team if k is not None), key=lambda k: (names[k], k))
    if None in by_team:
        order.append(None)
    return [
        TeamBlock(names[k], by_team[k], _add_rows(_blank_row(None, names[k]), by_team[k]))
        for k in order
    ]


# -- A person asking ------------------------------------------------------------------------------

#: How far back the report goes: the rollups keep everything, but a date typed by hand that
#: is decades off is a typo.
OLDEST = date(2000, 1, 1)


def parse_day(value: str | None, default: date, today: date) -> date:
    """The asked day (ISO), never after today; the default for anything unreadable."""
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return min(max(day, OLDEST), today)


def report_for(user, day_param: str | None, manager_param: str | None):
    """(report, the person's today, the manager it is narrowed to) of the asked day, by
    default the last working day before today in the person's time zone.

    404 for a person the report is not for, or a manager outside their scope."""
    scope = report_scope(user)
    workspace = user.workspace
    today = timezone.now().astimezone(ZoneInfo(user.timezone)).date()
    day = parse_day(day_param, previous_working_day(today, weekdays(workspace)), today)
    manager = None
    if manager_param:
        manager = access_user(user, manager_param)
        if scope is not None and manager.id not in scope:
            raise Http404
        scope = frozenset({manager.id})
    return daily_report(workspace, day, scope, today=today), today, manager
