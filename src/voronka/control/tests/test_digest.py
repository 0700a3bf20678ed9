"""The daily digest: each manager their own day, the head everyone's, once a day at its time."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.control.actions import do_update_rule_settings
from voronka.control.digest import build_digests, send_due_digests
from voronka.control.evaluate import evaluate_workspace
from voronka.testing.factories import make_deal

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def day(org):
    """manager1: a deal without a next step, an overdue task and one due later today;
    manager3: a stalled deal. Everyone has an email address."""
    for person in org.people:
        person.email = f"{person.username}@example.test"
        person.save(update_fields=["email"])
    now = timezone.now()
    make_deal(org.manager1, org.pipeline, title="Оснащение склада")
    planned = make_deal(org.manager1, org.pipeline, title="Сервер для бухгалтерии")
    do_create_task(
        org.manager1, goal="Отправить счёт", due_at=now - timedelta(hours=5), deal=planned
    )
    end_of_day = datetime.combine(now.astimezone(MSK).date(), time(23, 59), tzinfo=MSK)
    later = min(now + timedelta(minutes=30), end_of_day)
    do_create_task(org.manager1, goal="Позвонить главбуху", due_at=later, deal=planned)
    stalled = make_deal(org.manager3, org.pipeline, title="Видеонаблюдение", days_ago=12)
    do_create_task(
        org.manager3, goal="Согласовать смету", due_at=now + timedelta(days=1), deal=stalled
    )
    evaluate_workspace(org.workspace.id)
    return org


def message_to(messages, user):
    found = [m for m in messages if m.to == [user.email]]
    assert len(found) == 1, f"{len(found)} messages to {user.username}"
    return found[0]


def test_a_manager_gets_their_own_violations_overdue_and_todays_tasks(day):
    org = day
    msg = message_to(build_digests(org.workspace), org.manager1)
    text = msg.body
    assert msg.subject.startswith("Воронка: ваш день")
    assert "Оснащение склада" in text  # the deal without a next step
    assert "Отправить счёт" in text  # overdue
    assert "Позвонить главбуху" in text  # later today
    assert "Видеонаблюдение" not in text  # someone else's
    html, mime = msg.alternatives[0]
    assert mime == "text/html"
    assert "Оснащение склада" in html and "/my-day/" in html


def test_the_head_gets_everyones_counts_and_the_longest_waiting_items(day):
    org = day
    msg = message_to(build_digests(org.workspace), org.head)
    text = msg.body
    assert "Воронка: соблюдение регламента в отделе" in msg.subject
    assert str(org.manager1) in text and str(org.manager3) in text
    assert "Застряли на этапе: 1" in text
    assert "Видеонаблюдение" in text and "Оснащение склада" in text
    assert "/control/" in msg.alternatives[0][0]


def test_a_manager_who_reads_english_gets_the_digest_in_english(day):
    org = day
    org.manager3.language = "en"
    org.manager3.save(update_fields=["language"])
    msg = message_to(build_digests(org.workspace), org.manager3)
    assert msg.subject.startswith("Voronka: your day")
    assert "Stalled in a stage: 1" in msg.body


def test_people_without_an_email_or_outside_sales_get_no_digest(day):
    org = day
    org.manager2.email = ""
    org.manager2.save(update_fields=["email"])
    recipients = {m.to[0] for m in build_digests(org.workspace)}
    assert org.manager2.email not in recipients
    for person in (org.owner, org.assistant, org.qc):
        assert person.email not in recipients


def at(day_, hh, mm):
    return datetime.combine(day_, time(hh, mm), tzinfo=MSK)


def next_weekday(weekday: int):
    d = timezone.now().astimezone(MSK).date() + timedelta(days=1)
    while d.weekday() != weekday:
        d += timedelta(days=1)
    return d


def test_digests_go_out_once_a_day_when_their_time_comes_on_working_days(day):
    org = day
    do_update_rule_settings(org.head, digest_time=time(8, 30))
    tuesday = next_weekday(1)
    assert send_due_digests(now=at(tuesday, 8, 29)) == 0
    sent = send_due_digests(now=at(tuesday, 8, 31))
    assert sent == len(mail.outbox) > 0
    assert send_due_digests(now=at(tuesday, 12, 0)) == 0  # once a day
    assert send_due_digests(now=at(tuesday + timedelta(days=1), 8, 45)) == sent
    saturday = next_weekday(5)
    assert send_due_digests(now=at(saturday, 9, 0)) == 0


def test_the_digest_follows_the_working_days_the_head_sets(day):
    org = day
    do_update_rule_settings(org.head, work_days=[5, 6])
    assert send_due_digests(now=at(next_weekday(1), 9, 0)) == 0
    assert send_due_digests(now=at(next_weekday(5), 9, 0)) > 0
