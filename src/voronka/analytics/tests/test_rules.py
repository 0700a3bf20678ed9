"""The analytics' rules as plain Python: buckets, percentiles, the funnel and the bottleneck."""

import ast
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from voronka.analytics import rules

A = rules.StageInfo(1, "Встреча", "open", 1, normal_days=3)
B = rules.StageInfo(2, "КП", "open", 2)
WON = rules.StageInfo(3, "Успешно", "won", 3)
LOST = rules.StageInfo(4, "Проиграно", "lost", 4)
STAGES = [A, B, WON, LOST]


def test_rules_import_only_the_standard_library():
    tree = ast.parse(Path(rules.__file__).read_text())
    names = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert names <= {
        "__future__",
        "bisect",
        "math",
        "collections",
        "dataclasses",
        "datetime",
        "zoneinfo",
    }


def test_durations_keep_hours_for_three_days_then_whole_days_then_whole_weeks():
    assert rules.duration_bucket(3599) == 0
    assert rules.duration_bucket(71 * 3600 + 59) == 71
    assert rules.duration_bucket(73 * 3600) == 72
    assert rules.duration_bucket(9 * 86400 + 5 * 3600) == 9 * 24
    assert rules.duration_bucket(27 * 86400 + 86399) == 27 * 24
    assert rules.duration_bucket(28 * 86400) == 28 * 24
    assert rules.duration_bucket(34 * 86400 + 86399) == 28 * 24  # the fifth week
    assert rules.duration_bucket(100 * 86400) == 98 * 24


def test_percentiles_are_nearest_rank():
    histogram = {1: 1, 2: 1, 3: 1, 10: 1}
    assert rules.percentile(histogram, 50) == 2
    assert rules.percentile(histogram, 75) == 3
    assert rules.percentile(histogram, 90) == 10
    assert rules.percentile({}, 50) is None
    assert rules.percentiles(histogram, (50, 75, 90)) == [2, 3, 10]
    assert rules.percentiles({}, (50, 90)) == [None, None]


@given(
    st.dictionaries(st.integers(0, 500), st.integers(-3, 40), max_size=30),
    st.lists(st.integers(1, 100), min_size=1, max_size=4),
)
def test_percentiles_at_once_equal_the_values_laid_out_one_by_one(histogram, ps):
    ps = sorted(ps)
    values = sorted(v for v, c in histogram.items() for _ in range(max(c, 0)))
    expected = [values[math.ceil(p / 100 * len(values)) - 1] if values else None for p in ps]
    assert rules.percentiles(histogram, ps) == expected


@given(
    st.dictionaries(st.integers(0, 500), st.integers(0, 40), max_size=30),
    st.data(),
    st.integers(1, 100),
)
def test_a_percentile_of_the_others_equals_that_of_everyone_less_one(everyone, data, p):
    # One manager's stays are a part of everyone's: at most everyone's count at each value.
    part = {v: data.draw(st.integers(0, c)) for v, c in everyone.items()}
    others = {v: c - part[v] for v, c in everyone.items()}
    expected = rules.percentile(others, p)
    assert rules.Cumulative(everyone).percentile_without(part, p) == expected


def test_a_deal_entering_after_midnight_belongs_to_the_next_local_day():
    moscow = ZoneInfo("Europe/Moscow")
    at = datetime(2025, 1, 1, 21, 30, tzinfo=UTC)  # 00:30 in Moscow
    fp = rules.deal_footprint(
        [(at, None, 1)],
        {1: "open"},
        tz=moscow,
        pipeline_id=1,
        owner_id=7,
        source="",
        amount_cents=100,
        loss_reason="",
    )
    assert fp["e"] == [["2025-01-02", 1, 0, "", 1, 100, 0]]


def _facts(entered_a, moved, wait_hours):
    facts = rules.Facts()
    facts.add_entry(A.id, 0, "", entered_a, 0, 0)
    facts.add_exit(A.id, B.id, moved)
    facts.add_duration("stage", A.id, wait_hours, moved)
    return facts


def test_the_funnel_counts_moving_on_to_a_later_stage_and_not_to_lost():
    facts = _facts(10, 4, 24)
    facts.add_exit(A.id, LOST.id, 3)
    rows = {r.stage.id: r for r in rules.funnel_rows(STAGES, facts)}
    assert rows[A.id].moved_on == 4
    assert rows[A.id].to_next == 0.4
    assert rows[A.id].next_stage == B


def test_the_bottleneck_names_the_manager_whose_step_is_worst_against_the_others():
    by_owner = {1: _facts(10, 8, 24), 2: _facts(10, 8, 24), 4: _facts(10, 2, 9 * 24)}
    found = rules.find_bottlenecks(STAGES, by_owner)
    assert found[0].owner_id == 4
    assert found[0].stage == A
    assert (found[0].rate, found[0].norm_rate) == (0.2, 0.8)
    assert (found[0].median_hours, found[0].norm_hours) == (216, 24)


def test_the_company_keeps_a_line_of_its_own_among_the_managers_bottlenecks():
    """Three managers far worse than their peers fill the list; the last place still goes to
    the company's weakest step, so the head reads both who and where."""
    by_owner = {i: _facts(10, 9, 24) for i in range(1, 7)}
    by_owner.update({7: _facts(10, 1, 24), 8: _facts(10, 1, 24), 9: _facts(10, 2, 24)})
    found = rules.find_bottlenecks(STAGES, by_owner, limit=3)
    assert [b.owner_id for b in found] == [7, 8, None]
    assert found[-1].stage == A
    assert found[-1].rate == rules.rate(9 * 6 + 1 + 1 + 2, 90)


def test_without_peers_the_slowest_stage_against_its_normal_duration_is_named():
    found = rules.find_bottlenecks(STAGES, {1: _facts(10, 8, 10 * 24)})
    assert found[0].owner_id is None
    assert found[0].stage == A
    assert found[0].norm_hours == 72


def test_the_proposal_stage_is_the_one_before_the_invoice_stage():
    stages = [
        (1, 9, "open", 1, []),
        (2, 9, "open", 2, []),
        (3, 9, "open", 3, ["invoice_no", "invoice_amount"]),
        (4, 9, "won", 4, []),
    ]
    assert rules.document_stages(stages) == ({2}, {3})


def test_weeks_start_on_monday_and_months_on_the_first():
    day = datetime(2025, 3, 13).date()  # a Thursday
    assert rules.bucket_start(day, "week") == day - timedelta(days=3)
    assert rules.bucket_start(day, "month").day == 1


@given(
    since=st.dates(date(2023, 1, 1), date(2027, 12, 31)),
    length=st.integers(-3, 900),
    empty_after=st.none() | st.dates(date(2023, 1, 1), date(2028, 12, 31)),
)
def test_a_period_is_covered_exactly_once_by_its_blocks_and_signed_days(since, length, empty_after):
    until = since + timedelta(days=length)
    periods, ranges = rules.cover(since, until, empty_after=empty_after)
    times: dict[date, int] = {}
    for key in periods:
        year = int(key[:4])
        if len(key) == 4:
            first, last = date(year, 1, 1), date(year, 12, 31)
        elif key[5] == "Q":
            q = int(key[6])
            first = date(year, 3 * q - 2, 1)
            last = date(year + (q == 4), (3 * q) % 12 + 1, 1) - timedelta(days=1)
        else:
            month = int(key[5:])
            first = date(year, month, 1)
            last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
        for n in range(first.toordinal(), last.toordinal() + 1):
            times[date.fromordinal(n)] = times.get(date.fromordinal(n), 0) + 1
    for first, last, sign in ranges:
        for n in range(first.toordinal(), last.toordinal() + 1):
            times[date.fromordinal(n)] = times.get(date.fromordinal(n), 0) + sign
    wanted = {date.fromordinal(n): 1 for n in range(since.toordinal(), until.toordinal() + 1)}
    assert {d: t for d, t in times.items() if t} == wanted
    assert len(periods) == len(set(periods))


def test_two_years_ending_today_are_a_handful_of_blocks():
    periods, ranges = rules.cover(date(2024, 11, 27), date(2026, 11, 26))
    assert periods == ["2024-12", "2025", "2026-Q1", "2026-Q2", "2026-Q3", "2026-10", "2026-11"]
    assert ranges == [
        (date(2024, 11, 27), date(2024, 11, 30), 1),
        (date(2026, 11, 27), date(2026, 11, 30), -1),
    ]


def test_a_period_ending_today_reads_its_year_whole_less_the_days_to_come():
    today = date(2026, 11, 26)
    periods, ranges = rules.cover(date(2024, 11, 27), today, empty_after=today)
    assert periods == ["2024-12", "2025", "2026"]
    assert ranges == [
        (date(2024, 11, 27), date(2024, 11, 30), 1),
        (date(2026, 11, 27), date(2026, 12, 31), -1),  # the rest of the month and December
    ]
    # A quarter to date: its last month's days to come cost nothing to leave out.
    periods, ranges = rules.cover(
        date(2026, 10, 1), date(2026, 10, 20), empty_after=date(2026, 10, 20)
    )
    assert periods == ["2026-Q4"]
    assert ranges == [(date(2026, 10, 21), date(2026, 12, 31), -1)]
    # In the past, nothing changes: a month's days are read when they are fewer.
    assert rules.cover(date(2025, 10, 1), date(2025, 10, 10), empty_after=today) == (
        [],
        [(date(2025, 10, 1), date(2025, 10, 10), 1)],
    )
