"""The daily report page and its API: what each role sees, in Russian and English."""

import pytest
from django.test import Client

from voronka.api.tests.caller import Caller
from voronka.control.actions import do_update_rule_settings
from voronka.control.models import RuleSettings
from voronka.core.errors import Invalid
from voronka.testing.fixtures import ROLES

from .daily_history import DAY, known_week, plan_week

#: Who has no daily report: they sell nothing and lead nobody who does.
NO_REPORT = ("assistant", "qc")


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def page(user, **params):
    return client_for(user).get("/control/daily/", {"date": DAY.isoformat(), **params})


def rows(html: str) -> int:
    return html.count('data-manager="')


def expected_people(org, role) -> set:
    team1 = {org.manager1.id, org.manager2.id}
    team2 = {org.manager3.id, org.manager4.id}
    return {
        "owner": team1 | team2,
        "head": team1 | team2,
        "senior1": team1,
        "senior2": team2,
        "manager1": {org.manager1.id},
        "manager2": {org.manager2.id},
        "manager3": {org.manager3.id},
        "manager4": {org.manager4.id},
    }[role]


def test_the_head_reads_every_managers_day_against_plan_in_russian(org):
    known_week(org)
    plan_week(org, org.manager1)
    response = page(org.head)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ежедневный отчёт" in html
    assert "среда, 18 ноября 2026" in html
    assert rows(html) == 4
    mine = html.split(f'data-manager="{org.manager1.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-metric="calls"' in mine and "3</span>" in mine and "/ 64" in mine
    assert "Дорого" in mine
    assert 'id="daily-total"' in html
    assert "Пропал" in html  # manager3's loss, in team 2's block
    assert "Team 1" in html and "Team 2" in html


def test_the_page_speaks_english_to_a_person_who_reads_english(org):
    known_week(org)
    org.head.language = "en"
    org.head.save(update_fields=["language"])
    html = page(org.head).content.decode()
    assert "Daily report" in html
    assert "Wednesday, 18 November 2026" in html
    assert "Everyone, total" in html


@pytest.mark.parametrize("role", [role for role in ROLES if role not in NO_REPORT])
def test_each_role_sees_its_own_rows_on_the_page_and_over_the_api(org, role):
    known_week(org)
    user = getattr(org, role)
    html = page(user).content.decode()
    shown = {int(part.split('"', 1)[0]) for part in html.split('data-manager="')[1:]}
    assert shown == expected_people(org, role)
    body = Caller(user).get("/control/daily-report", date=DAY.isoformat()).json()
    assert {r["manager_id"] for r in body["rows"]} == expected_people(org, role)
    lost = sum(r["lost"] for r in body["rows"])
    assert body["total"]["lost"] == lost


@pytest.mark.parametrize("role", NO_REPORT)
def test_the_assistant_and_the_quality_controller_have_no_daily_report(org, role):
    user = getattr(org, role)
    assert page(user).status_code == 404
    assert Caller(user).get("/control/daily-report").status_code == 404


def test_a_manager_cannot_open_a_colleagues_report(org, other_org):
    for colleague in (org.manager2, org.manager3, other_org.manager1):
        assert page(org.manager1, manager=colleague.id).status_code == 404
        response = Caller(org.manager1).get("/control/daily-report", manager=colleague.id)
        assert response.status_code == 404
    assert page(org.senior1, manager=org.manager3.id).status_code == 404
    assert page(org.senior1, manager=org.manager2.id).status_code == 200


def test_the_head_narrows_the_report_to_one_manager(org):
    known_week(org)
    html = page(org.head, manager=org.manager3.id).content.decode()
    assert rows(html) == 1 and f'data-manager="{org.manager3.id}"' in html
    body = (
        Caller(org.head)
        .get("/control/daily-report", date=DAY.isoformat(), manager=org.manager1.id)
        .json()
    )
    (row,) = body["rows"]
    calls = next(f for f in row["figures"] if f["metric"] == "calls")
    assert (calls["day_fact"], calls["week_fact"]) == ("3", "5")
    assert row["lost_reasons"] == [{"reason": "Дорого", "count": 1}]
    assert row["won_amount"] == "120000.00"


def test_the_api_gives_the_plan_and_where_it_comes_from(org):
    known_week(org)
    plan_week(org, org.manager1)
    body = Caller(org.manager1).get("/control/daily-report", date=DAY.isoformat()).json()
    (row,) = body["rows"]
    assert (row["plan_period"], row["plan_period_start"]) == ("week", "2026-11-16")
    calls = next(f for f in row["figures"] if f["metric"] == "calls")
    assert (calls["day_plan"], calls["week_plan_to_date"], calls["week_plan"]) == (
        "64.0",
        "192.0",
        "320.0",
    )
    assert calls["day_status"] == "off_track"
    assert body["has_plan"] is True


def test_without_a_plan_the_page_says_to_set_a_target_on_the_planning_page(org):
    html = page(org.head).content.decode()
    assert 'id="daily-no-plan"' in html
    assert "Поставить план на странице планирования" in html
    assert 'href="/plan/"' in html
    manager = page(org.manager1).content.decode()
    assert 'id="daily-no-plan"' in manager and 'href="/plan/"' not in manager


def test_the_day_defaults_to_the_last_working_day_and_moves_by_a_day(org):
    response = client_for(org.head).get("/control/daily/")
    assert response.status_code == 200
    html = page(org.head).content.decode()
    assert "?date=2026-11-17" in html and "?date=2026-11-19" in html
    # A day after today is today; nonsense is the default.
    assert client_for(org.head).get("/control/daily/", {"date": "2999-01-01"}).status_code == 200
    assert client_for(org.head).get("/control/daily/", {"date": "понедельник"}).status_code == 200


def test_the_control_screen_and_the_navigation_lead_to_the_report(org):
    html = client_for(org.head).get("/control/").content.decode()
    assert 'id="daily-report-link"' in html and 'href="/control/daily/"' in html
    nav = client_for(org.manager1).get("/control/daily/").content.decode()
    assert nav.count('href="/control/daily/"') >= 1


def test_the_head_sets_the_reports_time_and_recipients_on_the_rules_page(org):
    c = client_for(org.head)
    form = c.get("/settings/rules/").content.decode()
    assert 'id="daily-report-settings"' in form and "Ежедневный отчёт" in form
    data = {
        "call_comment_grace_minutes": 30,
        "meeting_comment_grace_minutes": 30,
        "message_comment_grace_minutes": 30,
        "min_comment_length": 20,
        "next_contact_gap_days": "",
        "reminder_lead_minutes": 120,
        "work_start": "09:00",
        "work_end": "19:00",
        "work_days": ["0", "1", "2", "3", "4"],
        "digest_time": "08:00",
        "daily_report_on": "on",
        "daily_report_time": "10:30",
        "daily_report_to": ["head", "senior"],
    }
    assert c.post("/settings/rules/", data).status_code == 302
    rules = RuleSettings.for_workspace(org.workspace.id)
    assert (rules.daily_report_on, str(rules.daily_report_time)) == (True, "10:30:00")
    assert rules.daily_report_to == "senior,head"
    del data["daily_report_on"]
    assert c.post("/settings/rules/", {**data, "daily_report_to": ["owner"]}).status_code == 302
    rules.refresh_from_db()
    assert (rules.daily_report_on, rules.daily_report_to) == (False, "owner")


def test_recipients_outside_the_known_roles_are_refused(org):
    with pytest.raises(Invalid):
        do_update_rule_settings(org.head, daily_report_to=["assistant"])
    with pytest.raises(Invalid):
        do_update_rule_settings(org.head, daily_report_on="yes")
