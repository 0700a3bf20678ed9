from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voronka.planning.rules import (
    AT_RISK_STATUS,
    IMPOSSIBLE,
    MISSING,
    NO_PLAN,
    OFF_TRACK_STATUS,
    OK,
    ON_TRACK_STATUS,
    SPLIT_METHODS,
    Assumptions,
    Observed,
    StageRef,
    apply_overrides,
    choose,
    decompose,
    elapsed_working_days,
    pace,
    pace_check,
    period_end,
    period_start,
    split_target,
    working_days,
)

D = Decimal
STAGES = (
    StageRef("1", "Новый лид"),
    StageRef("2", "Встреча назначена"),
    StageRef("3", "КП отправлено"),
    StageRef("4", "Успешно"),
)


def assumptions(avg=45000, convs=("0.5", "0.5", "0.4"), calls="2", meetings="0.5"):
    return Assumptions(
        average_deal=Observed(D(avg), "company", 40),
        stages=STAGES,
        conversions=tuple(Observed(D(c), "company", 40) for c in convs),
        calls_per_lead=Observed(D(calls), "company", 40),
        meetings_per_lead=Observed(D(meetings), "company", 40),
    )


def test_a_target_is_decomposed_into_won_deals_stages_leads_meetings_and_calls():
    plan = decompose(D(500000), assumptions(), 21)
    assert plan.status == OK
    # 500 000 ÷ 45 000 = 11.1 → 12 won; 12 ÷ 40% = 30 proposals; 30 ÷ 50% = 60; 60 ÷ 50% = 120
    assert plan.won == 12
    assert [n for _s, n in plan.stages] == [120, 60, 30, 12]
    assert plan.leads == 120
    assert plan.meetings == 60
    assert plan.calls == 240
    first = plan.steps[0]
    assert (first.what, first.left, first.right, first.result) == ("won", 500000, 45000, 12)
    assert round(first.exact, 1) == D("11.1")
    proposals = plan.steps[1]
    assert (proposals.left, proposals.right, proposals.result) == (12, D("0.4"), 30)
    assert proposals.stage == "КП отправлено"


def test_rates_per_day_and_per_week_follow_the_working_days():
    plan = decompose(D(500000), assumptions(), 20)
    calls = plan.rate("calls")
    assert calls.total == 240
    assert calls.per_day == 12
    assert calls.per_week == 60


def test_a_zero_conversion_makes_the_plan_impossible_and_names_the_step():
    plan = decompose(D(500000), assumptions(convs=("0.5", "0", "0.4")), 21)
    assert plan.status == IMPOSSIBLE
    assert plan.blocked_stage == "Встреча назначена"
    assert plan.blocked_by == "conversion:2"
    assert plan.won == 12
    assert plan.leads is None


def test_a_zero_average_deal_is_impossible_and_an_unknown_one_missing():
    assert decompose(D(100), assumptions(avg=0), 21).status == IMPOSSIBLE
    a = assumptions()
    unknown = Assumptions(Observed(None), a.stages, a.conversions)
    plan = decompose(D(100), unknown, 21)
    assert (plan.status, plan.blocked_by) == (MISSING, "average_deal")


def test_an_override_replaces_the_observed_conversion_and_says_so():
    a = apply_overrides(assumptions(), {"conversion:3": D("0.2"), "average_deal": D(50000)})
    plan = decompose(D(500000), a, 21)
    assert plan.won == 10
    assert plan.stages[2][1] == 50
    assert plan.steps[1].assumption.level == "override"
    assert plan.steps[0].assumption.level == "override"


def test_fallback_goes_from_manager_to_team_to_company_by_sample_size():
    assert choose([("manager", D("0.5"), 12), ("team", D("0.4"), 50)]).level == "manager"
    chosen = choose([("manager", D("0.9"), 3), ("team", D("0.4"), 5), ("company", D("0.3"), 2)])
    assert (chosen.level, chosen.value) == ("company", D("0.3"))
    assert choose([("manager", None, 0), ("company", None, 0)]).level == "none"


def test_periods_and_working_days():
    assert period_start("quarter", date(2025, 5, 17)) == date(2025, 4, 1)
    assert period_start("week", date(2025, 5, 17)) == date(2025, 5, 12)
    assert period_end("month", date(2025, 12, 1)) == date(2026, 1, 1)
    assert period_end("year", date(2025, 1, 1)) == date(2026, 1, 1)
    assert working_days(date(2025, 6, 1), date(2025, 7, 1)) == 21
    assert (
        working_days(date(2025, 6, 2), date(2025, 6, 9), days_off=frozenset({date(2025, 6, 3)}))
        == 4
    )
    assert working_days(date(2025, 6, 1), date(2025, 7, 1), frozenset(range(6))) == 25
    assert elapsed_working_days(date(2025, 6, 1), date(2025, 7, 1), date(2025, 6, 4)) == 3


def test_a_split_by_share_that_misses_100_percent_says_by_how_much():
    split = split_target(D(1000000), "share", {"a": D(50), "b": D(40)})
    assert split.amounts == {"a": D(500000), "b": D(400000)}
    assert split.difference == D(100000)
    assert not split.adds_up


def test_capacity_and_past_results_without_data_fall_back_to_an_even_split():
    split = split_target(D(900), "past", {"a": 0, "b": 0, "c": 0})
    assert split.fell_back
    assert set(split.amounts.values()) == {D(300)}


def test_pace_projects_linearly_and_colours_by_threshold():
    p = pace(D(100), D(40), 10, 20)
    assert (p.run_rate, p.projection, p.status) == (D(4), D(80), AT_RISK_STATUS)
    assert pace(D(100), D(60), 10, 20).status == ON_TRACK_STATUS
    assert pace(D(100), D(30), 10, 20).status == OFF_TRACK_STATUS
    assert pace(D(0), D(30), 10, 20).status == NO_PLAN
    assert pace(D(100), D(0), 0, 20).projection == 0


# -- Properties ------------------------------------------------------------------------------

rates = st.decimals(min_value=D("0.01"), max_value=D(1), places=2)
targets = st.decimals(min_value=D(1), max_value=D(10**9), places=2)
averages = st.decimals(min_value=D(100), max_value=D(10**7), places=0)


@given(targets, averages, st.lists(rates, min_size=3, max_size=3), st.integers(1, 260))
def test_the_plan_never_asks_for_fewer_leads_than_won_deals(target, avg, convs, days):
    plan = decompose(target, assumptions(avg=avg, convs=convs), days)
    assert plan.status == OK
    counts = [n for _s, n in plan.stages]
    assert counts == sorted(counts, reverse=True)
    assert plan.leads >= plan.won >= 1


@given(targets, targets, averages, st.lists(rates, min_size=3, max_size=3))
def test_the_plan_is_monotonic_in_the_target(t1, t2, avg, convs):
    low, high = sorted((t1, t2))
    a = assumptions(avg=avg, convs=convs)
    p_low, p_high = decompose(low, a, 21), decompose(high, a, 21)
    assert p_low.won <= p_high.won
    assert p_low.leads <= p_high.leads
    assert p_low.calls <= p_high.calls


@given(targets, st.lists(st.sampled_from(["0", "0.3", "1"]), min_size=3, max_size=3))
def test_zero_conversion_is_reported_never_raised(target, convs):
    plan = decompose(target, assumptions(convs=convs), 21)
    assert plan.status == (IMPOSSIBLE if "0" in convs else OK)


@given(
    targets,
    st.sampled_from([m for m in SPLIT_METHODS if m != "share"]),
    st.lists(st.decimals(min_value=0, max_value=10**6, places=2), min_size=1, max_size=9),
)
def test_computed_splits_sum_exactly_to_the_target(total, method, values):
    split = split_target(total, method, dict(enumerate(values)))
    assert sum(split.amounts.values()) == total.quantize(D("0.01"))
    assert split.adds_up


@given(targets, st.lists(st.integers(0, 100), min_size=1, max_size=6))
def test_a_share_split_reports_exactly_what_is_missing(total, shares):
    split = split_target(total, "share", {i: D(s) for i, s in enumerate(shares)})
    assert split.difference == total.quantize(D("0.01")) - sum(split.amounts.values())
    if sum(shares) == 100:
        assert split.adds_up


def test_a_negative_target_is_refused():
    with pytest.raises(ValueError):
        decompose(D(-1), assumptions(), 21)


def test_a_plan_asking_for_far_more_calls_a_day_than_were_made_is_a_stretch():
    usual = pace_check(Decimal("99.9"), 1472, 64)  # 23 calls a day made over 64 working days
    assert (usual.usual_per_day, usual.times, usual.is_stretch) == (
        Decimal("23.0"),
        Decimal("4.3"),
        True,
    )
    kept = pace_check(Decimal("30"), 1472, 64)
    assert (kept.times, kept.is_stretch) == (Decimal("1.3"), False)
    # Calls asked of someone who made none: a stretch whatever the number.
    none_made = pace_check(Decimal("2"), 0, 64)
    assert (none_made.times, none_made.is_stretch) == (None, True)
    # Nothing asked, or no working day to compare with: nothing to flag.
    assert not pace_check(Decimal("0"), 0, 64).is_stretch
    assert not pace_check(Decimal("5"), 10, 0).is_stretch
