"""A target's plan, per manager, and plan versus fact for a period: the rules fed with the
history the workspace has and the overrides the head set."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from voronka.accounts.models import Role, User
from voronka.control.models import RuleSettings
from voronka.sales.models import Stage, StageKind

from . import rules
from .actions import participants, plan_pipeline_id
from .models import Scope, SplitEntry, SplitMethod, Target
from .observed import History, LevelHistory, period_facts

#: Fewer won deals than this behind an average deal and the next level's average is used.
MIN_WON = 5
#: The activities a plan counts, in the order the pages show them.
METRICS = ("revenue", "won", "leads", "meetings", "calls")


def weekdays(workspace) -> frozenset[int]:
    """The workspace's working days of the week (0 = Monday) from its rules of work."""
    raw = RuleSettings.for_workspace(workspace.id).work_days or ""
    days = frozenset(int(d) for d in raw.split(",") if d.strip().isdigit() and int(d) < 7)
    return days or rules.WEEKDAYS


def chain(pipeline_id: int | None) -> list[Stage]:
    """The pipeline's open stages in order, then its won stage: the steps a plan walks back."""
    if pipeline_id is None:
        return []
    stages = list(
        Stage.objects.filter(pipeline_id=pipeline_id, is_archived=False).order_by("position", "id")
    )
    won = next((s for s in stages if s.kind == StageKind.WON), None)
    opened = [s for s in stages if s.kind == StageKind.OPEN]
    return opened + [won] if won and opened else []


def _ratio(part, whole) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def assumptions_for(levels: list[tuple[str, LevelHistory]], stages: list[Stage], overrides):
    """The plan's assumptions from the most specific level with history enough, then the
    head's overrides on top."""
    conversions = []
    for stage in stages[:-1]:
        conversions.append(
            rules.choose(
                [
                    (lvl, _ratio(h.reached[stage.id], h.entered[stage.id]), h.entered[stage.id])
                    for lvl, h in levels
                ]
            )
        )
    average = rules.choose(
        [(lvl, _ratio(h.won_amount, h.won), h.won) for lvl, h in levels], MIN_WON
    )
    calls = rules.choose([(lvl, _ratio(h.calls, h.leads), h.leads) for lvl, h in levels])
    meetings = rules.choose([(lvl, _ratio(h.meetings, h.leads), h.leads) for lvl, h in levels])
    base = rules.Assumptions(
        average_deal=average,
        stages=tuple(rules.StageRef(str(s.id), s.name) for s in stages),
        conversions=tuple(conversions),
        calls_per_lead=calls,
        meetings_per_lead=meetings,
    )
    return rules.apply_overrides(base, overrides)


@dataclass
class ManagerPlan:
    manager: User
    amount: Decimal
    basis: Decimal | None
    plan: rules.Plan
    assumptions: rules.Assumptions


@dataclass
class TargetPlan:
    """A target decomposed: the whole and each manager's part, with the arithmetic."""

    target: Target
    period_end: date
    working_days: int
    window_start: date
    window_end: date
    stages: list[Stage]
    assumptions: rules.Assumptions | None
    overall: rules.Plan | None
    split: rules.Split | None
    managers: list[ManagerPlan] = field(default_factory=list)
    overrides: dict = field(default_factory=dict)


class Histories:
    """The workspace's histories per (pipeline, window), read once per request."""

    def __init__(self, workspace):
        self.workspace = workspace
        self._cache = {}

    def get(self, pipeline_id, start, end) -> History:
        key = (pipeline_id, start, end)
        if key not in self._cache:
            self._cache[key] = History(self.workspace, pipeline_id, start, end)
        return self._cache[key]


def past_results(target: Target, manager_ids: list[int], today: date | None = None) -> dict:
    """Each manager's revenue won over the target's window: the basis of a split by results."""
    today = today or date.today()
    start = today - timedelta(days=target.window_days)
    won = History(target.workspace, plan_pipeline_id(target), start, today).won_amounts()
    return {m: won.get(m, Decimal(0)) for m in manager_ids}


def split_of(target: Target, people: list[User], histories: Histories, today: date) -> rules.Split:
    ids = [p.id for p in people]
    method = target.split_method
    if method in (SplitMethod.SHARE, SplitMethod.CAPACITY):
        stored = dict(
            SplitEntry.objects.filter(target=target, manager_id__in=ids).values_list(
                "manager_id", "basis"
            )
        )
        if not stored:
            method = SplitMethod.EQUAL
        values = {i: stored.get(i) or Decimal(0) for i in ids}
    elif method == SplitMethod.PAST:
        start = today - timedelta(days=target.window_days)
        won = histories.get(plan_pipeline_id(target), start, today).won_amounts()
        values = {i: won.get(i, Decimal(0)) for i in ids}
    else:
        values = {i: Decimal(1) for i in ids}
    return rules.split_target(target.amount, method, values)


def target_plan(
    target: Target,
    *,
    today: date,
    histories: Histories | None = None,
    only: frozenset[int] | None = None,
) -> TargetPlan:
    """Decompose ``target`` for the whole and for each manager (``only``: those whose rows the
    viewer may see; the split is still computed over everyone so the parts stay the same)."""
    workspace = target.workspace
    histories = histories or Histories(workspace)
    days_of_week = weekdays(workspace)
    end = rules.period_end(target.period_kind, target.period_start)
    days = rules.working_days(target.period_start, end, days_of_week)
    window_start = today - timedelta(days=target.window_days)
    pipeline_id = plan_pipeline_id(target)
    stages = chain(pipeline_id)
    overrides = dict(target.overrides.values_list("key", "value"))
    result = TargetPlan(
        target, end, days, window_start, today, stages, None, None, None, overrides=overrides
    )
    if not stages:
        return result
    history = histories.get(pipeline_id, window_start, today)
    team_of = dict(User.objects.filter(workspace_id=workspace.id).values_list("id", "team_id"))

    def team_history(team_id):
        members = frozenset(o for o, t in team_of.items() if t == team_id and team_id)
        return history.level(members)

    company = history.level(None)
    top = [("company", company)]
    if target.scope == Scope.TEAM:
        top = [("team", team_history(target.team_id)), ("company", company)]
    elif target.scope == Scope.MANAGER:
        m = target.manager_id
        top = [
            ("manager", history.level(frozenset({m}))),
            ("team", team_history(team_of.get(m))),
            ("company", company),
        ]
    result.assumptions = assumptions_for(top, stages, overrides)
    result.overall = rules.decompose(target.amount, result.assumptions, days)
    if target.scope == Scope.MANAGER:
        people = [target.manager]
        result.split = rules.split_target(target.amount, SplitMethod.EQUAL, {target.manager_id: 1})
    else:
        people = list(participants(target))
        result.split = split_of(target, people, histories, today)
    for person in people:
        if only is not None and person.id not in only:
            continue
        levels = [
            ("manager", history.level(frozenset({person.id}))),
            ("team", team_history(team_of.get(person.id))),
            ("company", company),
        ]
        a = assumptions_for(levels, stages, overrides)
        amount = result.split.amounts.get(person.id, Decimal(0))
        result.managers.append(
            ManagerPlan(
                person,
                amount,
                result.split.basis.get(person.id),
                rules.decompose(amount, a, days),
                a,
            )
        )
    return result


# -- Plan versus fact ----------------------------------------------------------------------------


@dataclass
class FactRow:
    manager: User
    target: Target | None
    plan: dict  # metric → planned number (Decimal) or None
    paces: dict  # metric → rules.Pace


@dataclass
class PlanFact:
    kind: str
    start: date
    end: date
    today: date
    working_days: int
    elapsed_days: int
    rows: list[FactRow]

    @property
    def leaderboard(self) -> list[FactRow]:
        def key(row):
            p = row.paces["revenue"]
            share = p.done_share if p.done_share is not None else Decimal(-1)
            return (-share, -p.fact, row.manager.username)

        return sorted(self.rows, key=key)


def resolve_targets(workspace, kind: str, start: date) -> dict[int, Target]:
    """The target each manager's plan of the period comes from: their own, else their team's,
    else the company's (targets for all pipelines only)."""
    targets = list(
        Target.objects.filter(
            workspace_id=workspace.id, period_kind=kind, period_start=start, pipeline__isnull=True
        )
        .select_related("workspace", "manager", "team")
        .order_by("id")
    )
    people = User.objects.filter(
        workspace_id=workspace.id, is_active=True, role__in=[Role.MANAGER, Role.SENIOR]
    )
    company = next((t for t in targets if t.scope == Scope.COMPANY), None)
    teams = {t.team_id: t for t in targets if t.scope == Scope.TEAM}
    own = {t.manager_id: t for t in targets if t.scope == Scope.MANAGER}
    out = {}
    for person in people:
        chosen = own.get(person.id)
        if chosen is None and person.role == Role.MANAGER:
            chosen = teams.get(person.team_id) or company
        if chosen is not None:
            out[person.id] = chosen
    return out


def plan_fact(workspace, kind: str, start: date, today: date, scope) -> PlanFact:
    """Each manager in ``scope`` (None: everyone): plan, fact, run rate and projection."""
    start = rules.period_start(kind, start)
    end = rules.period_end(kind, start)
    days_of_week = weekdays(workspace)
    total_days = rules.working_days(start, end, days_of_week)
    elapsed = rules.elapsed_working_days(start, end, today, days_of_week)
    chosen = resolve_targets(workspace, kind, start)
    histories = Histories(workspace)
    plans: dict[int, ManagerPlan] = {}
    for target in {t.id: t for t in chosen.values()}.values():
        tp = target_plan(target, today=today, histories=histories, only=scope)
        for mp in tp.managers:
            if chosen.get(mp.manager.id) == target:
                plans[mp.manager.id] = mp
    facts = period_facts(workspace, start, end)
    people = User.objects.filter(
        workspace_id=workspace.id, is_active=True, role__in=[Role.MANAGER, Role.SENIOR]
    ).select_related("team")
    rows = []
    for person in people.order_by("last_name", "first_name", "username", "id"):
        if scope is not None and person.id not in scope:
            continue
        mp = plans.get(person.id)
        if mp is None and person.role == Role.SENIOR and not facts.get(person.id):
            continue
        plan = {m: None for m in METRICS}
        if mp is not None:
            p = mp.plan
            plan = {
                "revenue": mp.amount,
                "won": p.won,
                "leads": p.leads,
                "meetings": p.meetings,
                "calls": p.calls,
            }
        fact = facts.get(person.id) or {m: Decimal(0) for m in METRICS}
        paces = {
            m: rules.pace(Decimal(plan[m] or 0), fact[m], elapsed, total_days) for m in METRICS
        }
        rows.append(FactRow(person, mp and chosen.get(person.id), plan, paces))
    return PlanFact(kind, start, end, today, total_days, elapsed, rows)
