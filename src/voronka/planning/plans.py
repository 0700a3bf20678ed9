"""A target's plan, per manager, and plan versus fact for a period: the rules fed with the
history the workspace has and the overrides the head set."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from voronka.accounts.models import Role, User
from voronka.control.models import RuleSettings
from voronka.sales.models import Pipeline, Product, Stage, StageKind

from . import rules
from .actions import active_managers, plan_pipeline_id
from .models import Scope, SplitEntry, SplitMethod, Target
from .observed import History, LevelHistory, period_facts

#: Fewer won deals than this behind an average deal and the next level's average is used.
MIN_WON = 5
#: The activities a plan counts, in the order the pages show them.
METRICS = ("revenue", "won", "leads", "meetings", "calls")
#: What a product's or a pipeline's plan versus fact counts: calls and meetings are a person's,
#: not a deal's, and are counted once, against the person's plan over all deals.
DEAL_METRICS = ("revenue", "won", "leads")


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


def assumptions_for(
    levels: list[tuple[str, LevelHistory]],
    stages: list[Stage],
    overrides,
    activity_levels: list[tuple[str, LevelHistory]] | None = None,
):
    """The plan's assumptions from the most specific level with history enough, then the
    head's overrides on top.

    ``activity_levels`` (a product's plan: the levels over every product) give the calls and
    meetings per lead, which are a person's and not a product's; by default ``levels`` do."""
    activity_levels = activity_levels or levels
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
    calls = rules.choose([(lvl, _ratio(h.calls, h.leads), h.leads) for lvl, h in activity_levels])
    meetings = rules.choose(
        [(lvl, _ratio(h.meetings, h.leads), h.leads) for lvl, h in activity_levels]
    )
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
    #: The plan's calls a day against the person's own over the window (None: no plan).
    pace: rules.PaceCheck | None = None


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
    """What the plans of one request read from the workspace, read once for all its targets:
    the histories per (pipeline, window), the working days, each pipeline's chain of stages,
    the people's teams and the active managers."""

    def __init__(self, workspace):
        self.workspace = workspace
        self._cache = {}
        self._chains: dict = {}
        self._pipelines: dict = {}

    def get(self, pipeline_id, start, end, product_id=None) -> History:
        key = (pipeline_id, start, end, product_id)
        if key not in self._cache:
            self._cache[key] = History(self.workspace, pipeline_id, start, end, product_id)
        return self._cache[key]

    @cached_property
    def weekdays(self) -> frozenset[int]:
        return weekdays(self.workspace)

    @cached_property
    def team_of(self) -> dict[int, int | None]:
        """Every person's team id (None: none)."""
        return dict(
            User.objects.filter(workspace_id=self.workspace.id).values_list("id", "team_id")
        )

    @cached_property
    def managers(self) -> list[User]:
        return list(active_managers(self.workspace.id))

    def pipeline_id(self, target: Target) -> int | None:
        if target.pipeline_id not in self._pipelines:
            self._pipelines[target.pipeline_id] = plan_pipeline_id(target)
        return self._pipelines[target.pipeline_id]

    def chain(self, pipeline_id: int | None) -> list[Stage]:
        if pipeline_id not in self._chains:
            self._chains[pipeline_id] = chain(pipeline_id)
        return self._chains[pipeline_id]

    def participants(self, target: Target) -> list[User]:
        """``actions.participants`` of the target, picked from the managers read once."""
        if target.scope == Scope.TEAM:
            return [m for m in self.managers if m.team_id == target.team_id]
        if target.scope == Scope.MANAGER:
            return [m for m in self.managers if m.id == target.manager_id]
        return list(self.managers)


def past_results(target: Target, manager_ids: list[int], today: date | None = None) -> dict:
    """Each manager's revenue won over the target's window (a product's target: of that
    product): the basis of a split by results."""
    today = today or date.today()
    start = today - timedelta(days=target.window_days)
    won = History(
        target.workspace, plan_pipeline_id(target), start, today, target.product_id
    ).won_amounts()
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
        pipeline_id = histories.pipeline_id(target)
        won = histories.get(pipeline_id, start, today, target.product_id).won_amounts()
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
    days_of_week = histories.weekdays
    end = rules.period_end(target.period_kind, target.period_start)
    days = rules.working_days(target.period_start, end, days_of_week)
    window_start = today - timedelta(days=target.window_days)
    pipeline_id = histories.pipeline_id(target)
    stages = histories.chain(pipeline_id)
    overrides = {o.key: o.value for o in target.overrides.all()}  # prefetched by a caller
    result = TargetPlan(
        target, end, days, window_start, today, stages, None, None, None, overrides=overrides
    )
    if not stages:
        return result
    # A product's target: its deals' history, then every product's; calls and meetings per
    # lead are always read over every product (they are a person's, not a product's).
    everything = histories.get(pipeline_id, window_start, today)
    history = everything
    if target.product_id:
        history = histories.get(pipeline_id, window_start, today, target.product_id)
    team_of = histories.team_of

    def chain_of(source: History, manager_id=None, team_id=None):
        """(level, history) from the most specific to the company."""
        out = []
        if manager_id is not None:
            out.append(("manager", source.level(frozenset({manager_id}))))
        if team_id is not None or manager_id is not None:
            members = frozenset(o for o, t in team_of.items() if t == team_id and team_id)
            out.append(("team", source.level(members)))
        out.append(("company", source.level(None)))
        return out

    def levels_for(manager_id=None, team_id=None):
        deals = chain_of(history, manager_id, team_id)
        activity = chain_of(everything, manager_id, team_id)
        if target.product_id:
            deals.append((rules.ALL_PRODUCTS, everything.level(None)))
        return deals, activity

    if target.scope == Scope.TEAM:
        deals, activity = levels_for(team_id=target.team_id)
    elif target.scope == Scope.MANAGER:
        m = target.manager_id
        deals, activity = levels_for(m, team_of.get(m))
    else:
        deals, activity = levels_for()
    result.assumptions = assumptions_for(deals, stages, overrides, activity)
    result.overall = rules.decompose(target.amount, result.assumptions, days)
    if target.scope == Scope.MANAGER:
        people = [target.manager]
        result.split = rules.split_target(target.amount, SplitMethod.EQUAL, {target.manager_id: 1})
    else:
        people = histories.participants(target)
        result.split = split_of(target, people, histories, today)
    window_days = rules.working_days(window_start, today, days_of_week)
    for person in people:
        if only is not None and person.id not in only:
            continue
        deals, activity = levels_for(person.id, team_of.get(person.id))
        a = assumptions_for(deals, stages, overrides, activity)
        amount = result.split.amounts.get(person.id, Decimal(0))
        plan = rules.decompose(amount, a, days)
        calls = plan.rate("calls")
        pace = None
        if plan.is_possible and calls is not None:
            made = everything.level(frozenset({person.id})).calls
            pace = rules.pace_check(calls.per_day, made, window_days)
        result.managers.append(
            ManagerPlan(person, amount, result.split.basis.get(person.id), plan, a, pace)
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
class DealsFact:
    """Plan versus fact of some deals: a product's (over every pipeline), a pipeline's, or a
    product's in a pipeline; the managers with a plan for them."""

    pipeline: Pipeline | None
    product: Product | None
    rows: list[FactRow]


@dataclass
class PlanFact:
    kind: str
    start: date
    end: date
    today: date
    working_days: int
    elapsed_days: int
    rows: list[FactRow]
    products: list[DealsFact] = field(default_factory=list)  # a product over every pipeline
    pipelines: list[DealsFact] = field(default_factory=list)  # a pipeline, or a product in one

    @property
    def leaderboard(self) -> list[FactRow]:
        def key(row):
            p = row.paces["revenue"]
            share = p.done_share if p.done_share is not None else Decimal(-1)
            return (-share, -p.fact, row.manager.username)

        return sorted(self.rows, key=key)


def resolve_targets(
    workspace, kind: str, start: date, product_id: int | None = None, pipeline_id=None
) -> dict[int, Target]:
    """The target each manager's plan of the period comes from: their own, else their team's,
    else the company's (targets for all pipelines and all products, or for the given
    ``product_id`` and ``pipeline_id``)."""
    targets = list(
        Target.objects.filter(
            workspace_id=workspace.id,
            period_kind=kind,
            period_start=start,
            pipeline_id=pipeline_id,
            product_id=product_id,
        )
        .select_related("workspace", "manager", "team", "product")
        .prefetch_related("overrides")
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


def _manager_plans(chosen: dict[int, Target], today, histories, scope) -> dict[int, ManagerPlan]:
    plans: dict[int, ManagerPlan] = {}
    for target in {t.id: t for t in chosen.values()}.values():
        tp = target_plan(target, today=today, histories=histories, only=scope)
        for mp in tp.managers:
            if chosen.get(mp.manager.id) == target:
                plans[mp.manager.id] = mp
    return plans


def _row(person, mp: ManagerPlan | None, target, fact, metrics, elapsed, total_days) -> FactRow:
    plan = {m: None for m in metrics}
    if mp is not None:
        p = mp.plan
        whole = {
            "revenue": mp.amount,
            "won": p.won,
            "leads": p.leads,
            "meetings": p.meetings,
            "calls": p.calls,
        }
        plan = {m: whole[m] for m in metrics}
    fact = fact or {m: Decimal(0) for m in metrics}
    paces = {m: rules.pace(Decimal(plan[m] or 0), fact[m], elapsed, total_days) for m in metrics}
    return FactRow(person, target, plan, paces)


def plan_fact(workspace, kind: str, start: date, today: date, scope) -> PlanFact:
    """Each manager in ``scope`` (None: everyone): plan, fact, run rate and projection; then,
    for each product and each pipeline with a target of the period, the same for its deals."""
    start = rules.period_start(kind, start)
    end = rules.period_end(kind, start)
    histories = Histories(workspace)
    days_of_week = histories.weekdays
    total_days = rules.working_days(start, end, days_of_week)
    elapsed = rules.elapsed_working_days(start, end, today, days_of_week)
    chosen = resolve_targets(workspace, kind, start)
    plans = _manager_plans(chosen, today, histories, scope)
    facts = period_facts(workspace, start, end)
    people = list(
        User.objects.filter(
            workspace_id=workspace.id, is_active=True, role__in=[Role.MANAGER, Role.SENIOR]
        )
        .select_related("team")
        .order_by("last_name", "first_name", "username", "id")
    )
    rows = []
    for person in people:
        if scope is not None and person.id not in scope:
            continue
        mp = plans.get(person.id)
        if mp is None and person.role == Role.SENIOR and not facts.get(person.id):
            continue
        target = mp and chosen.get(person.id)
        rows.append(_row(person, mp, target, facts.get(person.id), METRICS, elapsed, total_days))
    report = PlanFact(kind, start, end, today, total_days, elapsed, rows)
    # Then a section for each product and each pipeline with a target of the period.
    keys = set(
        Target.objects.filter(workspace_id=workspace.id, period_kind=kind, period_start=start)
        .exclude(pipeline__isnull=True, product__isnull=True)
        .values_list("pipeline_id", "product_id")
    )
    products = Product.objects.in_bulk({product for _pipeline, product in keys if product})
    pipelines = Pipeline.objects.in_bulk({pipeline for pipeline, _product in keys if pipeline})

    def order(key):
        pipeline, product = pipelines.get(key[0]), products.get(key[1])
        return (
            pipeline is not None,
            (pipeline.position, pipeline.id) if pipeline else (0, 0),
            product is not None,
            (product.position, product.id) if product else (0, 0),
        )

    for pipeline_id, product_id in sorted(keys, key=order):
        chosen = resolve_targets(workspace, kind, start, product_id, pipeline_id)
        plans = _manager_plans(chosen, today, histories, scope)
        facts = period_facts(workspace, start, end, product_id, pipeline_id)
        section_rows = [
            _row(
                person,
                plans[person.id],
                chosen[person.id],
                facts.get(person.id),
                DEAL_METRICS,
                elapsed,
                total_days,
            )
            for person in people
            if person.id in plans
        ]
        if not section_rows:
            continue
        section = DealsFact(pipelines.get(pipeline_id), products.get(product_id), section_rows)
        (report.products if pipeline_id is None else report.pipelines).append(section)
    return report
