"""The control screen, its drill-down, snoozes and the rules' settings page, per role."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.control.evaluate import evaluate_workspace, local_today
from voronka.control.models import DailySnapshot, RuleSettings, Snooze, Violation
from voronka.testing.factories import make_deal


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def htmx(user) -> Client:
    c = Client(headers={"HX-Request": "true"})
    c.force_login(user)
    return c


@pytest.fixture
def flagged(org):
    """manager1: two deals without a next step; manager3: a stalled deal and an overdue task."""
    make_deal(org.manager1, org.pipeline, title="Ноутбуки для школы")
    make_deal(org.manager1, org.pipeline, title="Сервер для бухгалтерии")
    stalled = make_deal(org.manager3, org.pipeline, title="Видеонаблюдение", days_ago=10)
    do_create_task(
        org.manager3,
        goal="Получить реквизиты",
        due_at=timezone.now() - timedelta(hours=2),
        deal=stalled,
    )
    evaluate_workspace(org.workspace.id)
    return org


def matrix_row(html: str, user) -> str:
    marker = f'data-manager="{user.username}"'
    assert marker in html, f"no row for {user.username}"
    return html.split(marker, 1)[1].split("</tr>", 1)[0]


# -- who opens it ---------------------------------------------------------------------------------


def test_the_head_sees_every_managers_violations_by_kind(flagged):
    org = flagged
    response = client_for(org.head).get("/control/")
    assert response.status_code == 200
    html = response.content.decode()
    row1 = matrix_row(html, org.manager1)
    assert 'data-kind="no_next_step">2</a>' in row1
    row3 = matrix_row(html, org.manager3)
    assert 'data-kind="stalled">1</a>' in row3
    assert 'data-kind="overdue_task">1</a>' in row3
    assert 'data-testid="count-no_next_step">2<' in html
    assert matrix_row(html, org.manager2)  # a manager with nothing open has a row of zeros


def test_the_owner_sees_everyone_too(flagged):
    html = client_for(flagged.owner).get("/control/").content.decode()
    assert f'data-manager="{flagged.manager3.username}"' in html


def test_a_senior_sees_only_their_team(flagged):
    org = flagged
    html = client_for(org.senior1).get("/control/").content.decode()
    assert f'data-manager="{org.manager1.username}"' in html
    assert f'data-manager="{org.manager3.username}"' not in html
    assert 'data-testid="count-stalled">0<' in html


@pytest.mark.parametrize("role", ["manager1", "manager3", "assistant", "qc"])
def test_the_control_screen_is_absent_for_people_it_is_not_for(flagged, role):
    c = client_for(getattr(flagged, role))
    assert c.get("/control/").status_code == 404
    assert c.get("/control/violations/").status_code == 404


def test_the_navigation_offers_control_to_the_head_and_seniors_only(flagged):
    assert 'href="/control/"' in client_for(flagged.head).get("/my-day/").content.decode()
    assert 'href="/control/"' in client_for(flagged.senior2).get("/my-day/").content.decode()
    assert 'href="/control/"' not in client_for(flagged.manager1).get("/my-day/").content.decode()


def test_a_senior_choosing_a_manager_of_another_team_sees_nobody(flagged):
    org = flagged
    c = client_for(org.senior1)
    html = c.get("/control/", {"manager": org.manager3.id}).content.decode()
    assert f'data-manager="{org.manager3.username}"' not in html
    assert 'data-testid="count-stalled">0<' in html
    drill = c.get("/control/violations/", {"manager": org.manager3.id}).content.decode()
    assert "Видеонаблюдение" not in drill


def test_filters_by_team_and_by_manager_narrow_the_matrix(flagged):
    org = flagged
    c = client_for(org.head)
    team2 = c.get("/control/", {"team": org.team2.id}).content.decode()
    assert f'data-manager="{org.manager3.username}"' in team2
    assert f'data-manager="{org.manager1.username}"' not in team2
    one = c.get("/control/", {"manager": org.manager1.id}).content.decode()
    assert 'data-testid="count-no_next_step">2<' in one
    assert 'data-testid="count-stalled">0<' in one


# -- the drill-down -------------------------------------------------------------------------------


def test_a_count_opens_the_deals_behind_it_with_links(flagged):
    org = flagged
    response = htmx(org.head).get(
        "/control/violations/", {"manager": org.manager1.id, "kind": "no_next_step"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # the fragment only
    for deal in Violation.objects.filter(manager=org.manager1).values_list("deal", flat=True):
        assert f'href="/deals/{deal}/"' in html
    assert "Ноутбуки для школы" in html and "Видеонаблюдение" not in html


def test_the_drill_down_opens_as_a_page_without_htmx(flagged):
    html = client_for(flagged.head).get("/control/violations/", {"kind": "overdue_task"})
    assert "<html" in html.content.decode()
    assert "Получить реквизиты" in html.content.decode()


def test_the_drill_down_comes_in_pages(org):
    for i in range(55):
        make_deal(org.manager2, org.pipeline, title=f"Сделка номер {i:02d}")
    evaluate_workspace(org.workspace.id)
    c = htmx(org.head)
    first = c.get("/control/violations/", {"kind": "no_next_step"}).content.decode()
    assert first.count('data-testid="violation"') == 50
    second = c.get("/control/violations/", {"kind": "no_next_step", "page": 2}).content.decode()
    assert second.count('data-testid="violation"') == 5


def test_the_screen_reads_violations_and_snapshots_never_the_deals(flagged):
    c = client_for(flagged.head)
    with CaptureQueriesContext(connection) as queries:
        assert c.get("/control/").status_code == 200
    scans = [q["sql"] for q in queries if 'FROM "sales_deal"' in q["sql"]]
    assert scans == []


def test_the_trend_holds_past_snapshots_and_today_as_it_is_now(flagged):
    org = flagged
    today = local_today(org.workspace)
    DailySnapshot.objects.create(
        workspace=org.workspace,
        day=today - timedelta(days=1),
        manager=org.manager1,
        kind="no_next_step",
        count=7,
    )
    DailySnapshot.objects.create(
        workspace=org.workspace, day=date(2000, 1, 1), manager=org.manager1, kind="stalled", count=9
    )
    response = client_for(org.head).get("/control/")
    chart = response.context["chart"]
    series = {s["name"]: s["data"] for s in chart["series"]}
    assert len(chart["days"]) == 30
    assert series["Нет следующего шага"][-2:] == [7, 2]
    assert 9 not in series["Застряли на этапе"]
    assert "vendor/echarts/echarts.min.js" in response.content.decode()
    # Today's count compared with the end of yesterday: 2 against 7.
    card = next(c for c in response.context["cards"] if c["kind"] == "no_next_step")
    assert (card["count"], card["delta"]) == (2, -5)


# -- snoozes -------------------------------------------------------------------------------------


def test_a_manager_snoozes_their_stalled_deal_with_a_reason(org):
    deal = make_deal(org.manager1, org.pipeline, days_ago=10)
    c = htmx(org.manager1)
    form = c.get(f"/control/deals/{deal.id}/snooze/")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    until = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = c.post(
        f"/control/deals/{deal.id}/snooze/", {"until": until, "reason": "Директор в отпуске"}
    )
    assert response.status_code == 200
    assert "dealChanged" in response.headers["HX-Trigger"]
    assert "Директор в отпуске" in response.content.decode()
    snooze = Snooze.objects.get(deal=deal)
    assert (snooze.created_by, snooze.reason) == (org.manager1, "Директор в отпуске")


def test_a_snooze_without_a_reason_or_too_far_ahead_is_refused_with_the_reason(org):
    deal = make_deal(org.manager1, org.pipeline)
    c = htmx(org.manager1)
    url = f"/control/deals/{deal.id}/snooze/"
    soon = (timezone.localdate() + timedelta(days=3)).isoformat()
    no_reason = c.post(url, {"until": soon, "reason": "  "})
    assert no_reason.status_code == 422
    assert "Укажите, почему сделка ждёт" in no_reason.content.decode()
    far = (timezone.localdate() + timedelta(days=120)).isoformat()
    too_far = c.post(url, {"until": far, "reason": "Ждём тендер"})
    assert too_far.status_code == 422
    assert "Не дальше чем на 90 дней" in too_far.content.decode()
    past = c.post(url, {"until": "2020-01-01", "reason": "Ждём тендер"})
    assert past.status_code == 422
    assert not Snooze.objects.exists()


def test_a_manager_cannot_snooze_a_colleagues_deal(org):
    deal = make_deal(org.manager2, org.pipeline)
    c = htmx(org.manager1)
    assert c.get(f"/control/deals/{deal.id}/snooze/").status_code == 404
    soon = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = c.post(f"/control/deals/{deal.id}/snooze/", {"until": soon, "reason": "Ждём"})
    assert response.status_code == 404
    assert not Snooze.objects.exists()


def test_the_head_sees_every_snooze_and_may_end_one(org):
    deal = make_deal(org.manager3, org.pipeline, title="Монтаж СКС", days_ago=10)
    soon = (timezone.localdate() + timedelta(days=3)).isoformat()
    htmx(org.manager3).post(
        f"/control/deals/{deal.id}/snooze/", {"until": soon, "reason": "Ждём решения совета"}
    )
    c = client_for(org.head)
    html = c.get("/control/").content.decode()
    row = html.split('data-testid="snooze-row"', 1)[1].split("</tr>", 1)[0]
    assert "Монтаж СКС" in row and "Ждём решения совета" in row and str(org.manager3) in row
    snooze = Snooze.objects.get()
    response = c.post(f"/control/snoozes/{snooze.id}/end/", {"next": "/control/"})
    assert response.status_code == 302 and response.url == "/control/"
    snooze.refresh_from_db()
    assert snooze.ended_at is not None
    assert 'data-testid="snooze-row"' not in c.get("/control/").content.decode()


def test_a_senior_does_not_see_the_snoozes_of_another_team(org):
    deal = make_deal(org.manager3, org.pipeline)
    Snooze.objects.create(
        workspace=org.workspace,
        deal=deal,
        until=timezone.now() + timedelta(days=3),
        reason="Ждём",
        created_by=org.manager3,
    )
    html = client_for(org.senior1).get("/control/").content.decode()
    assert 'data-testid="snooze-row"' not in html
    snooze = Snooze.objects.get()
    assert client_for(org.senior1).post(f"/control/snoozes/{snooze.id}/end/").status_code == 404


# -- the rules' settings --------------------------------------------------------------------------


def test_the_head_changes_the_rules_and_the_change_is_in_the_history(org):
    c = client_for(org.head)
    page = c.get("/settings/rules/")
    assert page.status_code == 200
    assert "Самый короткий комментарий, который засчитывается" in page.content.decode()
    data = {
        "call_comment_grace_minutes": 15,
        "meeting_comment_grace_minutes": 60,
        "message_comment_grace_minutes": 30,
        "min_comment_length": 40,
        "next_contact_gap_days": "",
        "reminder_lead_minutes": 120,
        "work_start": "10:00",
        "work_end": "18:00",
        "work_days": ["0", "1", "2", "3", "4", "5"],
        "digest_time": "08:30",
    }
    response = c.post("/settings/rules/", data)
    assert response.status_code == 302
    rules = RuleSettings.objects.get(workspace=org.workspace)
    assert (rules.min_comment_length, rules.call_comment_grace_minutes) == (40, 15)
    assert rules.work_days == "0,1,2,3,4,5"
    assert str(rules.digest_time) == "08:30:00"
    html = c.get("/settings/rules/").content.decode()
    history = html.split('id="history"', 1)[1]
    assert "20" in history and "40" in history and str(org.head) in history


def test_a_working_day_that_ends_before_it_starts_is_refused(org):
    c = client_for(org.head)
    data = {
        "call_comment_grace_minutes": 30,
        "meeting_comment_grace_minutes": 30,
        "message_comment_grace_minutes": 30,
        "min_comment_length": 20,
        "reminder_lead_minutes": 120,
        "work_start": "18:00",
        "work_end": "09:00",
        "work_days": [],
        "digest_time": "08:00",
    }
    response = c.post("/settings/rules/", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Рабочий день должен заканчиваться позже, чем начинается" in html
    assert "Выберите хотя бы один рабочий день" in html
    assert RuleSettings.for_workspace(org.workspace.id).work_end.hour == 19


@pytest.mark.parametrize("role", ["senior1", "manager1", "assistant", "qc"])
def test_only_the_head_and_the_owner_open_the_rules_settings(org, role):
    assert client_for(getattr(org, role)).get("/settings/rules/").status_code == 404
    assert client_for(org.owner).get("/settings/rules/").status_code == 200
