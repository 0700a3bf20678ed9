"""Plan decomposition as plain arithmetic: from a revenue target to today's calls.

A target is divided by the average deal into won deals; each stage-to-stage conversion, read
backwards from won to the first stage, turns the deals needed at one stage into those needed at
the stage before it; the first stage's count is the new leads; calls and meetings follow from
the leads by the calls and meetings a lead takes. Every step is returned as data (the operands,
the exact quotient and the rounded result) so a page can show the arithmetic, and every
assumption says where it came from (the manager's own history, the team's, the company's, or an
override). A zero conversion gives an explicit "impossible" plan, never a division error.

Standard library only (a test holds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

# -- Periods and working days ------------------------------------------------------------------

PERIOD_KINDS = ("year", "quarter", "month", "week")


def period_start(kind: str, day: date) -> date:
    """The first day of the period of ``kind`` that holds ``day`` (weeks start on Monday)."""
    if kind == "year":
        return date(day.year, 1, 1)
    if kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if kind == "month":
        return date(day.year, day.month, 1)
    if kind == "week":
        return day - timedelta(days=day.weekday())
    raise ValueError(f"unknown period kind: {kind}")


def period_end(kind: str, start: date) -> date:
    """The day after the period of ``kind`` beginning on ``start`` (exclusive end)."""
    start = period_start(kind, start)
    if kind == "week":
        return start + timedelta(days=7)
    months = {"year": 12, "quarter": 3, "month": 1}[kind]
    month0 = start.month - 1 + months
    return date(start.year + month0 // 12, month0 % 12 + 1, 1)


WEEKDAYS = frozenset(range(5))


def working_days(
    start: date,
    end: date,
    weekdays: frozenset[int] = WEEKDAYS,
    days_off: frozenset[date] = frozenset(),
) -> int:
    """Working days in ``[start, end)``: Monday to Friday unless the workspace's settings name
    other days of the week (0 = Monday), less its days off if it has any."""
    if end <= start:
        return 0
    total = (end - start).days
    weeks, rest = divmod(total, 7)
    count = weeks * len(weekdays)
    for i in range(rest):
        if (start + timedelta(days=weeks * 7 + i)).weekday() in weekdays:
            count += 1
    return count - sum(1 for d in days_off if start <= d < end and d.weekday() in weekdays)


def elapsed_working_days(
    start: date, end: date, today: date, weekdays: frozenset[int] = WEEKDAYS
) -> int:
    """Working days of ``[start, end)`` up to and including ``today``."""
    return working_days(start, min(end, today + timedelta(days=1)), weekdays)


# -- Assumptions ---------------------------------------------------------------------------------

#: Where an assumption comes from, most specific first; "override" is the head's own number and
#: "none" means nothing was observed and nothing was set.
LEVELS = ("manager", "team", "company")
#: A product's target plans from that product's deals at each level; with too little of them
#: it falls back to the company's history over every product ("all_products").
ALL_PRODUCTS = "all_products"
OVERRIDE = "override"
NONE = "none"

#: Below this many deals behind a conversion (or won deals behind an average), a manager's or a
#: team's own history is too thin to plan with and the next level up is used.
MIN_SAMPLE = 10


@dataclass(frozen=True)
class Observed:
    """A rate or an amount, the level it was taken at, and how many deals it rests on."""

    value: Decimal | None
    level: str = NONE
    sample: int = 0


def choose(candidates: list[tuple[str, Decimal | None, int]], min_sample: int = MIN_SAMPLE):
    """The first level whose history is long enough: manager, then team, then company.

    ``candidates`` are (level, value, sample) from the most specific level to the company. The
    company's is used with any history at all; with none anywhere the result's level is "none".
    """
    for i, (level, value, sample) in enumerate(candidates):
        last = i == len(candidates) - 1
        if value is not None and sample > 0 and (sample >= min_sample or last):
            return Observed(Decimal(value), level, sample)
    return Observed(None, NONE, 0)


@dataclass(frozen=True)
class StageRef:
    key: str
    name: str


@dataclass(frozen=True)
class Assumptions:
    """What a plan is computed from.

    ``stages`` runs from the stage new leads land in to the won stage; ``conversions[i]`` is the
    share of deals at ``stages[i]`` that reach ``stages[i + 1]``.
    """

    average_deal: Observed
    stages: tuple[StageRef, ...]
    conversions: tuple[Observed, ...]
    calls_per_lead: Observed = Observed(None)
    meetings_per_lead: Observed = Observed(None)

    def __post_init__(self):
        if len(self.stages) < 1 or len(self.conversions) != len(self.stages) - 1:
            raise ValueError("one conversion between each pair of consecutive stages")


#: Keys of the assumptions an override may replace (conversions: "conversion:<stage key>").
AVERAGE_DEAL = "average_deal"
CALLS_PER_LEAD = "calls_per_lead"
MEETINGS_PER_LEAD = "meetings_per_lead"
CONVERSION = "conversion:"


def conversion_key(stage_key: str) -> str:
    return CONVERSION + stage_key


def apply_overrides(assumptions: Assumptions, overrides: dict[str, Decimal]) -> Assumptions:
    """The assumptions with the head's numbers in place of the observed ones.

    Conversions are fractions (0.4 for 40%); keys that name nothing here are ignored.
    """

    def over(key, current):
        if key in overrides and overrides[key] is not None:
            return Observed(Decimal(overrides[key]), OVERRIDE, current.sample)
        return current

    conversions = tuple(
        over(conversion_key(stage.key), conv)
        for stage, conv in zip(assumptions.stages, assumptions.conversions, strict=False)
    )
    return replace(
        assumptions,
        average_deal=over(AVERAGE_DEAL, assumptions.average_deal),
        conversions=conversions,
        calls_per_lead=over(CALLS_PER_LEAD, assumptions.calls_per_lead),
        meetings_per_lead=over(MEETINGS_PER_LEAD, assumptions.meetings_per_lead),
    )


# -- The decomposition ---------------------------------------------------------------------------

OK = "ok"
#: A conversion or the average deal is zero: no number of leads reaches the target.
IMPOSSIBLE = "impossible"
#: A conversion or the average deal was never observed and never set.
MISSING = "missing"

TENTH = Decimal("0.1")


def ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def tenth(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Step:
    """One line of the arithmetic: ``left op right = exact → result``.

    ``what`` names the result ("won", "stage", "calls", "meetings"); ``stage`` the stage whose
    count it is (for "stage"); ``assumption`` the right operand's origin.
    """

    what: str
    op: str  # "÷" or "×"
    left: Decimal
    right: Decimal
    exact: Decimal
    result: int
    stage: str = ""
    assumption: Observed = Observed(None)


@dataclass(frozen=True)
class Rate:
    """A count spread over the period: per week and per working day."""

    what: str
    total: int
    per_week: Decimal
    per_day: Decimal


@dataclass(frozen=True)
class Plan:
    """The decomposition of a target under some assumptions."""

    target: Decimal
    status: str
    #: The assumption that makes the plan impossible or incomplete: "average_deal" or a
    #: conversion's key ("conversion:<stage key>").
    blocked_by: str = ""
    blocked_stage: str = ""
    won: int | None = None
    #: (stage, deals needed there), from the first stage to won; None above a blocked step.
    stages: tuple[tuple[StageRef, int | None], ...] = ()
    leads: int | None = None
    meetings: int | None = None
    calls: int | None = None
    working_days: int = 0
    steps: tuple[Step, ...] = ()
    rates: tuple[Rate, ...] = field(default=())

    @property
    def is_possible(self) -> bool:
        return self.status == OK

    def rate(self, what: str) -> Rate | None:
        return next((r for r in self.rates if r.what == what), None)


def spread(what: str, total: int, days: int) -> Rate:
    """``total`` over ``days`` working days: per day, and per five-day week."""
    if days <= 0:
        return Rate(what, total, Decimal(total), Decimal(total))
    per_day = Decimal(total) / days
    return Rate(what, total, tenth(per_day * 5), tenth(per_day))


def decompose(target: Decimal, assumptions: Assumptions, days: int) -> Plan:
    """Won deals, deals at each stage, leads, meetings and calls that ``target`` needs.

    Counts are rounded up at every step (a plan of 11.1 deals needs 12). ``days`` is the number
    of working days in the period, for the per-day and per-week rates.
    """
    target = Decimal(target)
    if target < 0:
        raise ValueError("a target is never negative")
    a = assumptions
    stages = a.stages
    blank = tuple((s, None) for s in stages)
    avg = a.average_deal
    if target == 0:
        counts = [0] * len(stages)
        return _finish(target, a, counts, [], days)
    if avg.value is None:
        return Plan(target, MISSING, AVERAGE_DEAL, "", stages=blank, working_days=days)
    if avg.value <= 0:
        return Plan(target, IMPOSSIBLE, AVERAGE_DEAL, "", stages=blank, working_days=days)
    exact = target / avg.value
    won = ceil(exact)
    steps = [Step("won", "÷", target, avg.value, exact, won, stages[-1].name, avg)]
    counts: list[int | None] = [None] * len(stages)
    counts[-1] = won
    for i in range(len(stages) - 2, -1, -1):
        conv = a.conversions[i]
        need = counts[i + 1]
        if need == 0:
            counts[i] = 0
            continue
        status = MISSING if conv.value is None else IMPOSSIBLE if conv.value <= 0 else OK
        if status != OK:
            return Plan(
                target,
                status,
                conversion_key(stages[i].key),
                stages[i].name,
                won=won,
                stages=tuple(zip(stages, counts, strict=True)),
                working_days=days,
                steps=tuple(steps),
            )
        rate = min(conv.value, Decimal(1))
        exact = Decimal(need) / rate
        counts[i] = ceil(exact)
        steps.append(
            Step("stage", "÷", Decimal(need), rate, exact, counts[i], stages[i].name, conv)
        )
    return _finish(target, a, counts, steps, days)


def _finish(target, a: Assumptions, counts, steps, days) -> Plan:
    leads = counts[0]
    activity = {}
    for what, ratio in (("meetings", a.meetings_per_lead), ("calls", a.calls_per_lead)):
        if ratio.value is None:
            activity[what] = None
            continue
        exact = Decimal(leads) * max(ratio.value, Decimal(0))
        activity[what] = ceil(exact)
        steps.append(Step(what, "×", Decimal(leads), ratio.value, exact, activity[what], "", ratio))
    won = counts[-1]
    rates = [spread("won", won, days), spread("leads", leads, days)]
    rates += [spread(w, n, days) for w, n in activity.items() if n is not None]
    return Plan(
        target,
        OK,
        won=won,
        stages=tuple(zip(a.stages, counts, strict=True)),
        leads=leads,
        meetings=activity["meetings"],
        calls=activity["calls"],
        working_days=days,
        steps=tuple(steps),
        rates=tuple(rates),
    )


# -- Is the plan's pace one a person keeps? ------------------------------------------------------

#: A plan asking for more than this many times a person's usual calls a day is flagged.
PACE_WARNING = Decimal("1.5")


@dataclass(frozen=True)
class PaceCheck:
    """A plan's calls a day against the person's own in the window the plan was read from."""

    planned_per_day: Decimal
    usual_per_day: Decimal | None  # None: no working day in the window
    #: How many times the usual pace the plan asks for (None: no calls to compare with).
    times: Decimal | None

    @property
    def is_stretch(self) -> bool:
        """More than ``PACE_WARNING`` times the usual pace, or calls asked of someone who made
        none in the window."""
        if self.planned_per_day <= 0 or self.usual_per_day is None:
            return False
        return self.times is None or self.times > PACE_WARNING


def pace_check(planned_per_day: Decimal, calls_made: int, window_working_days: int) -> PaceCheck:
    """Compare the calls a day a plan asks for with those made over the window's working
    days (a manager who needs 99.9 a day and made 23 is asked for 4.3 times their pace)."""
    if window_working_days <= 0:
        return PaceCheck(planned_per_day, None, None)
    usual = Decimal(calls_made) / window_working_days
    times = tenth(planned_per_day / usual) if usual > 0 else None
    return PaceCheck(planned_per_day, tenth(usual), times)


# -- Splitting a team's target among its managers -----------------------------------------------

EQUAL = "equal"
SHARE = "share"
CAPACITY = "capacity"
PAST = "past"
SPLIT_METHODS = (EQUAL, SHARE, CAPACITY, PAST)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Split:
    """Amounts per manager, and by how much they miss the total (0 when they add up).

    ``fell_back`` says the method had nothing to go on (no capacity given, no past results) and
    the target was split evenly instead.
    """

    method: str
    total: Decimal
    amounts: dict
    basis: dict
    difference: Decimal
    fell_back: bool = False

    @property
    def adds_up(self) -> bool:
        return self.difference == 0


def split_by_weights(total: Decimal, weights: dict) -> dict:
    """``total`` in proportion to ``weights``, to the kopeck, summing exactly to ``total``.

    The kopecks lost to rounding go to the largest remainders (ties: the order given).
    """
    total = Decimal(total).quantize(CENT, rounding=ROUND_HALF_UP)
    keys = list(weights)
    if not keys:
        return {}
    weight_sum = sum((Decimal(w) for w in weights.values()), Decimal(0))
    cents = int(total / CENT)
    raw = {k: Decimal(cents) * Decimal(weights[k]) / weight_sum for k in keys}
    floors = {k: int(raw[k].to_integral_value(rounding=ROUND_DOWN)) for k in keys}
    left = cents - sum(floors.values())
    by_remainder = sorted(keys, key=lambda k: (-(raw[k] - floors[k]), keys.index(k)))
    for k in by_remainder[:left]:
        floors[k] += 1
    return {k: Decimal(floors[k]) * CENT for k in keys}


def split_target(total: Decimal, method: str, values: dict) -> Split:
    """Split ``total`` among the keys of ``values``.

    equal: the same to each; share: ``values`` are percents the head typed (they may not add up
    to 100 — then neither do the amounts, and the difference says by how much); capacity: in
    proportion to each manager's capacity; past: in proportion to each one's past results.
    Capacity and past results with nothing to go on fall back to an even split.
    """
    total = Decimal(total).quantize(CENT, rounding=ROUND_HALF_UP)
    if method not in SPLIT_METHODS:
        raise ValueError(f"unknown split method: {method}")
    keys = list(values)
    if not keys:
        return Split(method, total, {}, {}, total)
    fell_back = False
    if method == SHARE:
        shares = {k: Decimal(values[k] or 0) for k in keys}
        if sum(shares.values()) == HUNDRED:
            amounts = split_by_weights(total, shares)
        else:
            amounts = {
                k: (total * shares[k] / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
                for k in keys
            }
        basis = shares
    else:
        if method == EQUAL:
            basis = {k: Decimal(1) for k in keys}
        else:
            basis = {k: max(Decimal(values[k] or 0), Decimal(0)) for k in keys}
        if sum(basis.values()) <= 0:
            basis = {k: Decimal(1) for k in keys}
            fell_back = True
        amounts = split_by_weights(total, basis)
    difference = total - sum(amounts.values(), Decimal(0))
    return Split(method, total, amounts, basis, difference, fell_back)


# -- Plan versus fact ----------------------------------------------------------------------------

#: Projection ÷ plan at or above which a manager is on track, and above which at risk.
ON_TRACK = Decimal("1.00")
AT_RISK = Decimal("0.80")
ON_TRACK_STATUS = "on_track"
AT_RISK_STATUS = "at_risk"
OFF_TRACK_STATUS = "off_track"
NO_PLAN = "no_plan"


@dataclass(frozen=True)
class Pace:
    """A fact against its plan: the run rate per working day and the projection to the end.

    The projection is linear: the fact so far ÷ working days elapsed × working days in the
    period. Before the first working day has passed there is nothing to extrapolate and the
    projection is the fact itself.
    """

    plan: Decimal
    fact: Decimal
    elapsed_days: int
    total_days: int
    run_rate: Decimal
    projection: Decimal
    status: str

    @property
    def done_share(self) -> Decimal | None:
        return None if self.plan <= 0 else self.fact / self.plan

    @property
    def projected_share(self) -> Decimal | None:
        return None if self.plan <= 0 else self.projection / self.plan


def pace(plan: Decimal, fact: Decimal, elapsed_days: int, total_days: int) -> Pace:
    plan, fact = Decimal(plan), Decimal(fact)
    elapsed = max(0, min(elapsed_days, total_days))
    if elapsed == 0:
        run_rate = Decimal(0)
        projection = fact
    else:
        run_rate = fact / elapsed
        projection = run_rate * total_days
    return Pace(
        plan, fact, elapsed, total_days, run_rate, projection, pace_status(plan, projection)
    )


def pace_status(plan: Decimal, projection: Decimal) -> str:
    if plan <= 0:
        return NO_PLAN
    ratio = Decimal(projection) / Decimal(plan)
    if ratio >= ON_TRACK:
        return ON_TRACK_STATUS
    if ratio >= AT_RISK:
        return AT_RISK_STATUS
    return OFF_TRACK_STATUS
