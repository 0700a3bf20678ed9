"""The daily report by email: at the time the head set, once a day per person, in each
recipient's language and time zone, with the report of the working day before."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from voronka.control.actions import do_update_rule_settings
from voronka.control.daily_mail import send_due_daily_reports
from voronka.control.jobs import send_daily_reports
from voronka.control.models import DailyReportSent
from voronka.core.jobs import SCHEDULE

from .daily_history import known_week, plan_week

MSK = ZoneInfo("Europe/Moscow")


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 in Moscow (the 19th is the Thursday after the known week's
    Wednesday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=MSK)


@pytest.fixture
def week(org):
    known_week(org)
    plan_week(org, org.manager1)
    for person in org.people:
        person.email = f"{person.username}@example.test"
        person.save(update_fields=["email"])
    do_update_rule_settings(org.head, daily_report_time=time(9, 0))
    return org


def to(person) -> list:
    return [m for m in mail.outbox if m.to == [person.email]]


def test_the_reports_go_at_the_set_time_once_a_day(week):
    assert send_due_daily_reports(now=msk(19, 8, 55)) == 0
    assert mail.outbox == []
    sent = send_due_daily_reports(now=msk(19, 9, 0))
    # The four managers, the two seniors and the head; not the owner, the assistant or the QC.
    assert sent == 7
    assert {m.to[0] for m in mail.outbox} == {
        p.email
        for p in (week.head, week.senior1, week.senior2)
        + (week.manager1, week.manager2, week.manager3, week.manager4)
    }
    # A worker that runs again, or restarts, sends nobody a second one that day.
    assert send_due_daily_reports(now=msk(19, 9, 5)) == 0
    assert send_due_daily_reports(now=msk(19, 18, 0)) == 0
    assert len(mail.outbox) == 7
    assert DailyReportSent.objects.filter(recipient=week.manager1).get().report_day.day == 18
    # The next working day brings the next report.
    assert send_due_daily_reports(now=msk(20, 9, 1)) == 7


def test_a_manager_gets_their_own_day_against_plan_in_russian(week):
    send_due_daily_reports(now=msk(19, 9, 0))
    (message,) = to(week.manager1)
    assert message.subject == "Воронка: ежедневный отчёт за 18.11.2026"
    text = message.body
    assert "Звонки: 3 / 64 · неделя 5 / 192" in text
    assert "Выиграно: 1 (120\xa0000\xa0₽)" in text
    assert "Дорого" in text
    assert str(week.manager2) not in text
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    assert "/control/daily/?date=2026-11-18" in html


def test_the_head_gets_everyone_and_the_total_in_their_own_language(week):
    week.head.language = "en"
    week.head.save(update_fields=["language"])
    send_due_daily_reports(now=msk(19, 9, 0))
    (message,) = to(week.head)
    assert message.subject == "Voronka: the daily report of 18.11.2026"
    for manager in (week.manager1, week.manager2, week.manager3, week.manager4):
        assert str(manager) in message.body
    assert "Everyone, total" in message.body
    assert "Пропал" in message.body
    (senior,) = to(week.senior2)
    assert str(week.manager3) in senior.body and str(week.manager1) not in senior.body


def test_the_time_is_each_recipients_own(week):
    week.manager3.timezone = "Asia/Vladivostok"  # seven hours ahead of Moscow
    week.manager3.save(update_fields=["timezone"])
    # 02:30 in Moscow is 09:30 in Vladivostok: only manager3's morning has come.
    assert send_due_daily_reports(now=msk(19, 2, 30)) == 1
    assert [m.to for m in mail.outbox] == [[week.manager3.email]]


def test_a_day_off_brings_no_report_and_monday_brings_fridays(week):
    assert send_due_daily_reports(now=msk(21, 10)) == 0
    send_due_daily_reports(now=msk(23, 9, 30))
    assert to(week.manager1)[0].subject.endswith("20.11.2026")


def test_the_head_chooses_who_gets_it_or_switches_it_off(week):
    do_update_rule_settings(week.head, daily_report_to=["head", "owner"])
    assert send_due_daily_reports(now=msk(19, 9, 0)) == 2
    assert {m.to[0] for m in mail.outbox} == {week.head.email, week.owner.email}
    do_update_rule_settings(week.head, daily_report_on=False)
    assert send_due_daily_reports(now=msk(20, 9, 0)) == 0


def test_the_worker_schedules_the_daily_reports():
    assert any(job is send_daily_reports for job, _cron in SCHEDULE)
