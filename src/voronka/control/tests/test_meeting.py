"""The planning meeting's agenda: each section picks the right deals, yesterday is the viewer's
own, and the page is there only for those who run the meeting."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from voronka.activities.actions import do_create_task, do_flag_for_review
from voronka.control import meeting
from voronka.control.evaluate import evaluate_workspace
from voronka.inbox.actions import do_log_communication
from voronka.planning.actions import do_set_target
from voronka.planning.plans import plan_fact
from voronka.planning.rules import period_start
from voronka.sales.actions import do_move_deal
from voronka.testing.factories import make_deal, make_pipeline

#: A Wednesday: the day before is a working day, so «since the previous working day» is
#: exactly yesterday.
WEDNESDAY = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def titles(rows) -> list[str]:
    return [r.deal.title for r in rows]


@pytest.fixture
def hot(org):
    """Deals at «invoice issued» for manager1 (two) and manager3, one earlier in the funnel."""
    invoice = org.stage("Счёт выставлен")
    small = make_deal(
        org.manager1, org.pipeline, title="Бумага", stage=invoice, amount=500_000, days_ago=3
    )
    make_deal(org.manager1, org.pipeline, title="Серверы", stage=invoice, amount=900_000)
    make_deal(org.manager3, org.pipeline, title="Камеры", stage=invoice, amount=300_000)
    make_deal(
        org.manager1, org.pipeline, title="Принтеры", stage=org.stage("КП отправлено"), amount=10**7
    )
    do_create_task(
        org.manager1,
        goal="Получить оплату",
        due_at=timezone.now() - timedelta(hours=1),
        deal=small,
    )
    return org


# -- Hot deals ----------------------------------------------------------------------------------


def test_hot_deals_are_those_before_won_largest_first_with_days_in_stage_and_next_step(hot):
    org = hot
    section = meeting.hot_section(org.head, None, timezone.now())
    assert titles(section.deals) == ["Серверы", "Бумага", "Камеры"]
    paper = section.deals[1]
    assert paper.days_in_stage == 3
    assert paper.next_task.goal == "Получить оплату"
    assert paper.next_state == "overdue"
    assert section.deals[0].next_task is None
    assert [s.name for s in section.stages] == ["Счёт выставлен"]


def test_a_stage_that_requires_the_invoice_is_hot_wherever_it_stands(org):
    proposal = org.stage("КП отправлено")
    proposal.required_fields = ["invoice_no"]
    proposal.save()
    names = [s.name for s in meeting.hot_stages(org.workspace.id)]
    assert names == ["КП отправлено", "Счёт выставлен"]


def test_the_senior_sees_only_their_groups_hot_deals_and_the_head_narrows_to_a_team(hot):
    org = hot
    scope = meeting.narrow(frozenset({org.senior1.id, org.manager1.id, org.manager2.id}), None)
    assert titles(meeting.hot_section(org.senior1, scope, timezone.now()).deals) == [
        "Серверы",
        "Бумага",
    ]
    team2 = meeting.team_members(org.workspace.id, org.team2.id)
    assert titles(meeting.hot_section(org.head, team2, timezone.now()).deals) == ["Камеры"]


def test_beyond_the_list_the_rest_is_counted(hot, monkeypatch):
    monkeypatch.setattr(meeting, "HOT_LIMIT", 2)
    section = meeting.hot_section(hot.head, None, timezone.now())
    assert (len(section.deals), section.total, section.more) == (2, 3, 1)


# -- Stalled or without a next step -------------------------------------------------------------


@pytest.fixture
def stuck(org):
    """manager2: seven deals ten days at «new lead» (normal: two) without a task; manager3: one
    stalled deal with a next step; manager1: a fresh deal with a next step (nothing to say)."""
    for n in range(7):
        make_deal(org.manager2, org.pipeline, title=f"Лид {n}", days_ago=10 + n)
    late = make_deal(org.manager3, org.pipeline, title="Видеонаблюдение", days_ago=10)
    do_create_task(
        org.manager3, goal="Назначить встречу", due_at=timezone.now() + timedelta(days=1), deal=late
    )
    fresh = make_deal(org.manager1, org.pipeline, title="Свежий лид")
    do_create_task(
        org.manager1, goal="Квалифицировать", due_at=timezone.now() + timedelta(hours=3), deal=fresh
    )
    evaluate_workspace(org.workspace.id)
    return org


def test_stalled_deals_and_deals_without_a_next_step_come_by_manager_oldest_first(stuck):
    org = stuck
    groups = meeting.stuck_section(org.head, None, timezone.now())
    assert [g.manager for g in groups] == [org.manager2, org.manager3]
    lists = {lst.kind: lst for lst in groups[0].lists}
    assert set(lists) == {"stalled", "no_next_step"}
    for lst in lists.values():
        assert (len(lst.items), lst.total, lst.more) == (5, 7, 2)
        assert [i.deal.title for i in lst.items] == ["Лид 6", "Лид 5", "Лид 4", "Лид 3", "Лид 2"]
        assert lst.items[0].days_in_stage == 16
    assert [(lst.kind, lst.total) for lst in groups[1].lists] == [("stalled", 1)]


def test_the_page_links_the_rest_to_the_control_screen_filtered(stuck):
    org = stuck
    html = signed_in(org.head).get("/control/meeting/").content.decode()
    assert f'href="/control/violations/?manager={org.manager2.id}&amp;kind=stalled"' in html
    assert f'href="/control/violations/?manager={org.manager2.id}&amp;kind=no_next_step"' in html


def test_a_senior_goes_through_their_own_groups_stalled_deals_only(stuck):
    org = stuck
    scope = frozenset({org.senior2.id, org.manager3.id, org.manager4.id})
    groups = meeting.stuck_section(org.senior2, scope, timezone.now())
    assert [g.manager for g in groups] == [org.manager3]


# -- Won and lost -------------------------------------------------------------------------------


def close(org, owner, title, stage_name, at, **extra):
    deal = make_deal(owner, org.pipeline, title=title, days_ago=20, amount=100_000)
    return do_move_deal(owner, deal, org.stage(stage_name), at=at, **extra)


def test_yesterdays_wins_and_losses_with_reasons(org):
    close(org, org.manager1, "Выиграна вчера", "Успешно", datetime(2026, 11, 24, 9, tzinfo=UTC))
    close(
        org,
        org.manager3,
        "Проиграна вчера",
        "Проиграно",
        datetime(2026, 11, 24, 10, tzinfo=UTC),
        loss_reason="Дорого",
    )
    close(org, org.manager1, "Выиграна позавчера", "Успешно", datetime(2026, 11, 23, 9, tzinfo=UTC))
    section = meeting.closed_section(org.head, None, WEDNESDAY, meeting.ZoneInfo("Europe/Moscow"))
    assert titles(section.won) == ["Выиграна вчера"]
    assert [(r.deal.title, r.reason) for r in section.lost] == [("Проиграна вчера", "Дорого")]
    assert section.won_amount == Decimal(100_000)
    assert section.days == 1


def test_yesterday_is_the_viewers_own_day(org):
    # 16:00 UTC on the 24th: still the 24th in Moscow, already the 25th in Vladivostok.
    close(org, org.manager1, "На границе суток", "Успешно", datetime(2026, 11, 24, 16, tzinfo=UTC))
    org.owner.timezone = "Europe/Moscow"
    org.head.timezone = "Asia/Vladivostok"
    moscow = meeting.agenda(org.owner, None, now=WEDNESDAY)
    vladivostok = meeting.agenda(org.head, None, now=WEDNESDAY)
    assert titles(moscow.closed.won) == ["На границе суток"]
    assert vladivostok.closed.won == []
    assert (vladivostok.closed.start, vladivostok.closed.end) == (
        datetime(2026, 11, 24).date(),
        datetime(2026, 11, 25).date(),
    )


def test_on_monday_the_meeting_goes_back_to_friday(org):
    monday = datetime(2026, 11, 30, 6, tzinfo=UTC)
    close(org, org.manager1, "В субботу", "Успешно", datetime(2026, 11, 28, 9, tzinfo=UTC))
    close(org, org.manager1, "В четверг", "Успешно", datetime(2026, 11, 26, 9, tzinfo=UTC))
    section = meeting.closed_section(org.head, None, monday, meeting.ZoneInfo("Europe/Moscow"))
    assert titles(section.won) == ["В субботу"]
    assert section.start == datetime(2026, 11, 27).date()


# -- Plan versus fact ---------------------------------------------------------------------------


def test_plan_fact_is_the_plan_fact_pages_own(org):
    today = timezone.localdate()
    do_set_target(
        org.head,
        period_kind="month",
        period_start=period_start("month", today),
        scope="company",
        amount=4_000_000,
    )
    section = meeting.plan_fact_section(org.workspace, "month", today, None)
    page = plan_fact(org.workspace, "month", today, today, None)
    assert [r.manager for r in section.rows] == [r.manager for r in page.rows]
    for mine, theirs in zip(section.rows, page.rows, strict=True):
        assert mine.paces["revenue"] == theirs.paces["revenue"]
        assert mine.paces["calls"] == theirs.paces["calls"]
    assert all(r.planned["revenue"] for r in section.rows)


def test_calls_behind_the_plan_to_date_are_counted():
    from voronka.planning.rules import pace

    assert meeting._behind(pace(Decimal(200), Decimal(30), 5, 20)) == Decimal(20)
    assert meeting._behind(pace(Decimal(200), Decimal(80), 5, 20)) == Decimal(0)
    assert meeting._behind(pace(Decimal(0), Decimal(3), 5, 20)) == Decimal(0)


# -- Calls flagged for review -------------------------------------------------------------------


@pytest.fixture
def flagged_calls(org):
    out = {}
    for manager in (org.manager1, org.manager3):
        deal = make_deal(manager, org.pipeline, title=f"Звонок {manager.username}")
        call = do_log_communication(manager, kind="call", deal=deal, comment="x" * 30)
        do_flag_for_review(org.qc, call, note=f"Послушать {manager.username}")
        out[manager.id] = call
    unflagged_deal = make_deal(org.manager2, org.pipeline)
    do_log_communication(org.manager2, kind="call", deal=unflagged_deal, comment="x" * 30)
    return out


def test_flagged_calls_are_listed_newest_first_for_the_people_in_view(org, flagged_calls):
    everyone = meeting.flag_section(org.head, None)
    assert [f.communication for f in everyone.flags] == [
        flagged_calls[org.manager3.id],
        flagged_calls[org.manager1.id],
    ]
    team1 = frozenset({org.senior1.id, org.manager1.id, org.manager2.id})
    assert [f.note for f in meeting.flag_section(org.senior1, team1).flags] == [
        f"Послушать {org.manager1.username}"
    ]


# -- The page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager1", "manager4", "assistant", "qc"])
def test_the_meeting_is_not_there_for_those_who_do_not_run_it(org, role):
    assert signed_in(getattr(org, role)).get("/control/meeting/").status_code == 404


def test_the_head_sees_every_section_with_each_deal_linked(hot, flagged_calls):
    org = hot
    response = signed_in(org.head).get("/control/meeting/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("meeting-plan", "meeting-hot", "meeting-stuck", "meeting-closed"):
        assert f'id="{section}"' in html
    for deal in org.pipeline.deals.filter(stage__name="Счёт выставлен"):
        assert f'href="/deals/{deal.id}/"' in html
    assert f"Послушать {org.manager3.username}" in html
    assert 'href="/control/meeting/"' in html  # in the navigation


def test_a_senior_sees_their_group_and_cannot_pick_another_team(hot, flagged_calls):
    org = hot
    html = signed_in(org.senior2).get("/control/meeting/").content.decode()
    assert "Камеры" in html and "Серверы" not in html
    assert f"Послушать {org.manager3.username}" in html
    assert f"Послушать {org.manager1.username}" not in html
    other = signed_in(org.senior2).get(f"/control/meeting/?team={org.team1.id}")
    assert other.status_code == 200
    assert "Серверы" not in other.content.decode()


def test_the_head_narrows_the_meeting_to_a_team(hot):
    org = hot
    html = signed_in(org.head).get(f"/control/meeting/?team={org.team1.id}").content.decode()
    assert "Серверы" in html and "Камеры" not in html


def test_empty_sections_say_what_to_do(org):
    html = signed_in(org.head).get("/control/meeting/").content.decode()
    assert "Ни одна сделка не ждёт оплаты" in html
    assert "Ни один звонок не отмечен" in html


def test_the_page_speaks_russian_and_english(hot):
    org = hot
    assert "Планёрка" in signed_in(org.head).get("/control/meeting/").content.decode()
    org.head.language = "en"
    org.head.save()
    html = signed_in(org.head).get("/control/meeting/").content.decode()
    assert "Planning meeting" in html and "Hot deals close to payment" in html
    assert "Планёрка" not in html


def test_the_week_plan_is_a_choice(org):
    response = signed_in(org.head).get("/control/meeting/?period=week")
    assert response.status_code == 200
    assert response.context["report"].plan_fact.kind == "week"


def test_stages_of_the_same_name_in_two_pipelines_are_told_apart_by_the_pipeline(hot):
    org = hot
    make_pipeline(org.workspace, name="Проекты", is_inbound=False)
    html = signed_in(org.head).get("/control/meeting/").content.decode()
    header = html.split('data-testid="hot-stages">', 1)[1].split("</div>", 1)[0]
    assert header == (f"Счёт выставлен ({org.pipeline.name}), Счёт выставлен (Проекты)")


def test_a_single_stage_of_its_name_is_named_without_its_pipeline(hot):
    html = signed_in(hot.head).get("/control/meeting/").content.decode()
    header = html.split('data-testid="hot-stages">', 1)[1].split("</div>", 1)[0]
    assert header == "Счёт выставлен"


@pytest.mark.parametrize(
    "total, words",
    [(21, "из 21 рабочего дня"), (22, "из 22 рабочих дней"), (20, "из 20 рабочих дней")],
)
def test_the_working_days_passed_agree_with_their_number_in_russian(total, words):
    from django.template import Context, Template
    from django.utils import translation

    template = Template(
        "{% load i18n %}{% blocktranslate with e=e count t=t %}{{ e }} of {{ t }} working day"
        " passed{% plural %}{{ e }} of {{ t }} working days passed{% endblocktranslate %}"
    )
    with translation.override("ru"):
        assert template.render(Context({"e": 19, "t": total})) == f"прошло 19 {words}"
