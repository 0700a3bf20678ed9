"""The daily report's content: a known week counted right, against a known plan."""

from datetime import date
from decimal import Decimal

import pytest
from django.http import Http404

from voronka.control.daily import daily_report, previous_working_day, report_scope

from .daily_history import DAY, MONDAY, known_week, plan_week


def test_a_managers_day_and_week_are_counted_from_the_timeline(org):
    known_week(org)
    report = daily_report(org.workspace, DAY, None)
    row = report.row_of(org.manager1.id)
    day = {m: c.fact for m, c in row.day.items()}
    assert day == {
        "calls": 3,
        "meetings": 1,
        "proposals": 2,
        "invoices": 1,
        "payments": 1,
        "revenue": Decimal("120000.00"),
    }
    assert row.week["calls"].fact == 5
    assert row.week["meetings"].fact == 1
    assert (row.moved_forward, row.won, row.won_amount, row.lost) == (
        6,
        1,
        Decimal("120000.00"),
        1,
    )
    assert row.lost_reasons == [("Дорого", 1)]
    assert report.week_start == MONDAY


def test_the_day_and_the_week_are_set_against_the_plan_spread_over_working_days(org):
    known_week(org)
    plan_week(org, org.manager1)
    row = daily_report(org.workspace, DAY, None).row_of(org.manager1.id)
    assert {m: c.plan for m, c in row.day.items()} == {
        "calls": Decimal("64.0"),
        "meetings": Decimal("8.0"),
        "proposals": Decimal("4.0"),
        "invoices": Decimal("2.0"),
        "payments": Decimal("1.0"),
        "revenue": Decimal("100000.00"),
    }
    # Monday to Wednesday: three working days of the five.
    assert row.week["calls"].plan == Decimal("192.0")
    assert row.week_plan["calls"] == Decimal("320.0")
    assert row.week_plan["revenue"] == Decimal("500000.00")
    assert row.day["revenue"].status == "on_track"
    assert row.day["calls"].status == "off_track"
    assert row.plan_source == ("week", MONDAY)
    # Nobody else has a plan.
    assert daily_report(org.workspace, DAY, None).row_of(org.manager2.id).day["calls"].plan is None


def test_a_day_off_has_no_plan_to_meet(org):
    plan_week(org, org.manager1)
    saturday = date(2026, 11, 21)
    row = daily_report(org.workspace, saturday, None).row_of(org.manager1.id)
    assert row.day["calls"].plan == 0
    assert row.week["calls"].plan == Decimal("320.0")


def test_team_totals_add_up_the_rows_and_the_teams(org):
    known_week(org)
    plan_week(org, org.manager1)
    report = daily_report(org.workspace, DAY, None)
    assert [t.name for t in report.teams] == ["Team 1", "Team 2"]
    team1, team2 = report.teams
    assert team1.total.day["calls"].fact == 3
    assert team1.total.day["calls"].plan == Decimal("64.0")
    assert team2.total.lost == 1
    assert team2.total.lost_reasons == [("Пропал", 1)]
    assert report.total.lost == 2
    assert report.total.lost_reasons == [("Дорого", 1), ("Пропал", 1)]
    assert report.total.won_amount == Decimal("120000.00")


def test_a_manager_sees_their_own_row_a_senior_their_team_the_head_everyone(org):
    known_week(org)
    people = lambda user: {  # noqa: E731
        r.person for r in daily_report(org.workspace, DAY, report_scope(user)).rows
    }
    assert people(org.manager1) == {org.manager1}
    assert people(org.senior2) == {org.manager3, org.manager4}
    assert {org.manager1, org.manager2, org.manager3, org.manager4} <= people(org.head)
    assert people(org.owner) == people(org.head)
    mine = daily_report(org.workspace, DAY, report_scope(org.manager2))
    assert mine.total.day["calls"].fact == 0
    assert mine.total.lost == 0


@pytest.mark.parametrize("role", ["assistant", "qc"])
def test_the_report_is_not_for_the_assistant_or_the_quality_controller(org, role):
    with pytest.raises(Http404):
        report_scope(getattr(org, role))


def test_the_report_of_a_monday_morning_is_fridays():
    weekdays = frozenset(range(5))
    assert previous_working_day(date(2026, 11, 23), weekdays) == date(2026, 11, 20)
    assert previous_working_day(date(2026, 11, 19), weekdays) == DAY
