"""My day opens with the person's communications waiting for a comment."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from voronka.control.evaluate import evaluate_workspace
from voronka.inbox.actions import do_log_communication
from voronka.testing.factories import make_deal


def my_day(user) -> str:
    c = Client()
    c.force_login(user)
    response = c.get("/my-day/")
    assert response.status_code == 200
    return response.content.decode()


def log(user, deal, kind="call", minutes_ago=90, comment=""):
    return do_log_communication(
        user,
        kind=kind,
        deal=deal,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        comment=comment,
    )


def waiting_rows(html: str) -> list[str]:
    return html.split('data-testid="waiting-comment"')[1:]


def test_my_calls_without_a_comment_come_first_on_my_day(org):
    deal = make_deal(org.manager1, org.pipeline, title="Оснащение склада")
    log(org.manager1, deal)
    html = my_day(org.manager1)
    assert html.index('id="waiting-comment"') < html.index('id="overdue"')
    rows = waiting_rows(html)
    assert len(rows) == 1
    assert "Оснащение склада" in rows[0]
    assert "просрочен" in rows[0]  # the 30-minute grace period has passed
    assert f'action="/communications/{deal.communications.get().id}/comment/"' in rows[0]


def test_a_call_still_in_its_grace_period_says_by_when_to_comment(org):
    deal = make_deal(org.manager1, org.pipeline)
    log(org.manager1, deal, minutes_ago=5)
    rows = waiting_rows(my_day(org.manager1))
    assert len(rows) == 1 and "комментарий до" in rows[0]


def test_a_real_comment_takes_a_call_off_the_list_and_a_short_one_does_not(org):
    deal = make_deal(org.manager1, org.pipeline)
    log(org.manager1, deal, comment="Договорились о встрече во вторник в 10:00")
    log(org.manager1, deal, comment="Ок")
    rows = waiting_rows(my_day(org.manager1))
    assert len(rows) == 1
    assert "Слишком коротко" in rows[0]


def test_emails_notes_and_colleagues_calls_are_not_waiting_for_my_comment(org):
    mine = make_deal(org.manager1, org.pipeline)
    theirs = make_deal(org.manager2, org.pipeline)
    log(org.manager1, mine, kind="email")
    log(org.manager1, mine, kind="note")
    log(org.manager2, theirs)
    html = my_day(org.manager1)
    assert waiting_rows(html) == []
    assert "У каждого звонка, встречи и переписки есть комментарий." in html


def test_a_call_flagged_long_ago_stays_until_it_is_commented(org):
    deal = make_deal(org.manager1, org.pipeline)
    log(org.manager1, deal, minutes_ago=60 * 24 * 40)
    evaluate_workspace(org.workspace.id, now=timezone.now() - timedelta(days=20))  # flagged then
    evaluate_workspace(org.workspace.id)  # a month back from now: the call is older, and kept
    assert len(waiting_rows(my_day(org.manager1))) == 1


def test_my_stalled_deals_are_on_my_day_until_a_snooze_pauses_them(
    org, django_capture_on_commit_callbacks
):
    from voronka.activities.actions import do_create_task
    from voronka.control.actions import do_snooze_deal

    deal = make_deal(org.manager1, org.pipeline, title="Монтаж СКС", days_ago=9)
    do_create_task(
        org.manager1, goal="Согласовать смету", due_at=timezone.now() + timedelta(days=1), deal=deal
    )
    make_deal(org.manager2, org.pipeline, title="Чужая сделка", days_ago=9)
    evaluate_workspace(org.workspace.id)
    html = my_day(org.manager1)
    rows = html.split('data-testid="stalled-deal"')[1:]
    assert len(rows) == 1
    assert "Монтаж СКС" in rows[0] and "норма — 2 дня" in rows[0]
    with django_capture_on_commit_callbacks(execute=True):
        do_snooze_deal(
            org.manager1, deal, until=timezone.now() + timedelta(days=3), reason="Ждём смету"
        )
    html = my_day(org.manager1)
    assert 'data-testid="stalled-deal"' not in html
    assert "Ни одна сделка не задержалась на этапе дольше нормы." in html
