"""Meeting reminders: planned with the meeting, sent once in the client's working hours."""

from datetime import datetime, time, timedelta
from smtplib import SMTPException
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from voronka.activities.actions import (
    do_complete_task,
    do_create_task,
    do_reopen_task,
    do_update_task,
)
from voronka.activities.models import Reminder
from voronka.activities.reminders import replan_for_workspace, send_due_reminders
from voronka.clients.actions import do_create_contact, do_update_contact
from voronka.control.actions import do_update_rule_settings
from voronka.control.rules import WorkingHours
from voronka.core.errors import Invalid
from voronka.inbox.models import Communication
from voronka.sales.actions import do_move_deal
from voronka.testing.factories import make_deal

VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")
MOSCOW = ZoneInfo("Europe/Moscow")


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message (the send is retried later)."""

    def send_messages(self, email_messages):
        raise SMTPException("451 try again later")


def next_weekday(weekday: int, zone: ZoneInfo, at: time, *, days_ahead: int = 3) -> datetime:
    """The first ``weekday`` (0 = Monday) at least ``days_ahead`` days from now, at ``at``."""
    day = timezone.now().astimezone(zone).date() + timedelta(days=days_ahead)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, at, zone)


@pytest.fixture
def meeting_deal(org):
    org.manager1.email = "manager1@example.com"
    org.manager1.save()
    contact = do_create_contact(
        org.manager1, first_name="Иван", last_name="Петров", email="ivan@example.com"
    )
    return make_deal(org.manager1, org.pipeline, title="Поставка", contact=contact)


def in_vladivostok(contact):
    contact.timezone = "Asia/Vladivostok"
    contact.save(update_fields=["timezone"])


def reminders_of(task):
    return {r.recipient: r for r in Reminder.objects.filter(task=task, sent_at__isnull=True)}


def test_a_meeting_gets_a_reminder_for_the_client_and_one_for_the_manager(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))  # a Wednesday afternoon in Moscow
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Показать образцы", due_at=due, type="meeting"
    )
    planned = reminders_of(task)
    assert set(planned) == {"client", "manager"}
    assert planned["client"].address == "ivan@example.com"
    assert planned["client"].send_at == due - timedelta(hours=2)
    assert planned["manager"].address == "manager1@example.com"
    assert planned["manager"].for_due_at == due


def test_a_client_in_vladivostok_is_reminded_in_their_own_working_hours(org, meeting_deal):
    in_vladivostok(meeting_deal.contact)
    due = next_weekday(1, VLADIVOSTOK, time(10, 0))  # Tuesday 10:00 in Vladivostok
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Подписать договор", due_at=due, type="meeting"
    )
    client = reminders_of(task)["client"]
    local = client.send_at.astimezone(VLADIVOSTOK)
    # Two hours ahead is 8:00 there, before their day starts: the evening before instead.
    assert (local.weekday(), local.time()) == (0, time(18, 59))
    assert WorkingHours(tz="Asia/Vladivostok").contains(client.send_at)
    # The same evening is 11:59 in Moscow: the workspace's hours would have been wrong for them.
    assert client.send_at.astimezone(MOSCOW).time() == time(11, 59)


def test_due_reminders_are_sent_once_by_email_and_the_clients_goes_on_the_timeline(
    org, meeting_deal
):
    in_vladivostok(meeting_deal.contact)
    due = next_weekday(1, VLADIVOSTOK, time(10, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Подписать договор", due_at=due, type="meeting"
    )
    planned = reminders_of(task)
    at = planned["client"].send_at

    assert send_due_reminders(now=at - timedelta(minutes=1)) == 0
    assert send_due_reminders(now=at) == 1
    assert send_due_reminders(now=at + timedelta(minutes=1)) == 0  # never twice
    [message] = mail.outbox
    assert message.to == ["ivan@example.com"]
    assert message.reply_to == ["manager1@example.com"]
    with translation.override("ru"):
        local = due.astimezone(VLADIVOSTOK)
        assert f"{local:%H:%M}" in message.body and "Иван" in message.body
    assert Reminder.objects.get(pk=planned["client"].pk).sent_at == at

    entry = Communication.objects.get(deal=meeting_deal)
    assert (entry.kind, entry.direction, entry.channel) == ("email", "out", "email")
    with translation.override("ru"):
        expected = _("Meeting reminder sent to the client (%(address)s).") % {
            "address": "ivan@example.com"
        }
    assert entry.comment == expected

    manager_at = planned["manager"].send_at
    assert send_due_reminders(now=manager_at) == 1
    assert mail.outbox[1].to == ["manager1@example.com"]
    assert "Подписать договор" in mail.outbox[1].subject
    assert Communication.objects.filter(deal=meeting_deal).count() == 1


def test_the_manager_is_reminded_in_their_own_language(org, meeting_deal):
    org.manager1.language = "en"
    org.manager1.save()
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(org.manager1, deal=meeting_deal, goal="Demo", due_at=due, type="meeting")
    send_due_reminders(now=reminders_of(task)["manager"].send_at)
    manager_mail = next(m for m in mail.outbox if m.to == ["manager1@example.com"])
    with translation.override("en"):
        assert manager_mail.subject.startswith(_("Meeting at %(when)s: %(goal)s").split("%")[0])
    assert "Demo" in manager_mail.subject


def test_a_refused_send_is_kept_with_its_error_and_retried_later_once(org, meeting_deal, settings):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Показать образцы", due_at=due, type="meeting"
    )
    at = reminders_of(task)["client"].send_at
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    assert send_due_reminders(now=at) == 0
    failed = Reminder.objects.get(task=task, recipient="client")
    assert failed.sent_at is None and "451" in failed.error
    assert failed.send_at == at + timedelta(minutes=5)
    assert not Communication.objects.filter(deal=meeting_deal).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_due_reminders(now=at + timedelta(minutes=1)) == 0  # not before the retry
    assert send_due_reminders(now=at + timedelta(minutes=5)) == 2  # the manager's is due too
    sent = Reminder.objects.get(task=task, recipient="client")
    assert sent.sent_at is not None and sent.error == ""
    assert send_due_reminders(now=at + timedelta(minutes=10)) == 0


def test_moving_the_meeting_plans_its_reminders_anew(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    later = due + timedelta(days=1)
    do_update_task(org.manager1, task, due_at=later)
    planned = reminders_of(task)
    assert {r.for_due_at for r in planned.values()} == {later}
    assert Reminder.objects.filter(task=task).count() == 2


def test_a_sent_reminder_stays_when_the_meeting_moves(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    send_due_reminders(now=reminders_of(task)["client"].send_at)
    do_update_task(org.manager1, task, due_at=due + timedelta(days=1))
    assert Reminder.objects.filter(task=task, sent_at__isnull=False).count() == 2
    assert Reminder.objects.filter(task=task, sent_at__isnull=True).count() == 2


def test_a_meeting_done_or_no_longer_a_meeting_keeps_no_unsent_reminder(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    do_complete_task(org.manager1, task, result="Перенесли в звонок")
    assert not Reminder.objects.filter(task=task).exists()
    do_reopen_task(org.manager1, task)
    assert len(reminders_of(task)) == 2
    do_update_task(org.manager1, task, type="call")
    assert not Reminder.objects.filter(task=task).exists()


def test_a_clients_new_email_gets_the_reminder_and_a_removed_one_drops_it(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    contact = meeting_deal.contact
    do_update_contact(org.manager1, contact, email="Ivan.Petrov@Example.com")
    planned = reminders_of(task)
    assert planned["client"].address == "ivan.petrov@example.com"
    assert planned["manager"].address == "manager1@example.com"
    assert Reminder.objects.filter(task=task).count() == 2

    do_update_contact(org.manager1, contact, email="")
    assert set(reminders_of(task)) == {"manager"}
    do_update_contact(org.manager1, contact, email="ivan@example.com")
    assert reminders_of(task)["client"].address == "ivan@example.com"


def test_a_clients_new_time_zone_moves_the_reminder_into_their_working_hours(org, meeting_deal):
    # A meeting on Wednesday at 08:30 Moscow time: two hours ahead is 06:30 in Moscow, before
    # the working day (so the reminder is moved), but 13:30 in Vladivostok, within it.
    due = next_weekday(2, MOSCOW, time(8, 30))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    in_vladivostok_send = due - timedelta(hours=2)
    moscow_send = reminders_of(task)["client"].send_at
    assert moscow_send != in_vladivostok_send

    do_update_contact(org.manager1, meeting_deal.contact, timezone="Asia/Vladivostok")
    assert reminders_of(task)["client"].send_at == in_vladivostok_send
    do_update_contact(org.manager1, meeting_deal.contact, timezone="")
    assert reminders_of(task)["client"].send_at == moscow_send


def test_a_change_that_does_not_reach_the_client_leaves_the_reminders_alone(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    before = {r.id for r in reminders_of(task).values()}
    do_update_contact(org.manager1, meeting_deal.contact, position="Директор")
    assert {r.id for r in reminders_of(task).values()} == before


def test_a_failed_contact_change_keeps_the_reminders_as_they_were(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    with pytest.raises(Invalid):
        do_update_contact(org.manager1, meeting_deal.contact, email="new@example.com", phone="x")
    assert reminders_of(task)["client"].address == "ivan@example.com"


def test_a_lost_deal_calls_its_meeting_off_and_reopened_plans_it_again(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    do_move_deal(org.manager1, meeting_deal, org.stage("Проиграно"), loss_reason="Дорого")
    assert not Reminder.objects.filter(task=task).exists()
    assert send_due_reminders(now=due - timedelta(hours=2)) == 0

    do_move_deal(org.manager1, meeting_deal, org.stage("Квалификация"))
    assert set(reminders_of(task)) == {"client", "manager"}


def test_a_won_deal_keeps_its_meeting_reminded(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Подписать акт", due_at=due, type="meeting"
    )
    do_move_deal(org.manager1, meeting_deal, org.stage("Успешно"))
    assert set(reminders_of(task)) == {"client", "manager"}


def test_a_new_lead_time_re_plans_the_coming_meetings_reminders(
    org, meeting_deal, django_capture_on_commit_callbacks
):
    due = next_weekday(2, MOSCOW, time(15, 0))
    task = do_create_task(
        org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting"
    )
    with django_capture_on_commit_callbacks(execute=True):
        do_update_rule_settings(org.head, reminder_lead_minutes=60)
    queued = DBTaskResult.objects.get(task_path="voronka.activities.jobs.replan_meeting_reminders")
    assert queued.args_kwargs["args"] == [org.workspace.id]
    assert replan_for_workspace(org.workspace.id) == 1  # what the queued job does
    planned = reminders_of(task)
    assert {r.send_at for r in planned.values()} == {due - timedelta(hours=1)}


def test_a_call_has_no_reminders_and_a_client_without_email_gets_none(org):
    org.manager1.email = "manager1@example.com"
    org.manager1.save()
    contact = do_create_contact(org.manager1, first_name="Без почты")
    deal = make_deal(org.manager1, org.pipeline, contact=contact)
    due = next_weekday(2, MOSCOW, time(15, 0))
    call = do_create_task(org.manager1, deal=deal, goal="Созвониться", due_at=due)
    assert not Reminder.objects.filter(task=call).exists()
    meeting = do_create_task(org.manager1, deal=deal, goal="Встреча", due_at=due, type="meeting")
    assert set(reminders_of(meeting)) == {"manager"}


def test_a_meeting_that_has_begun_is_not_reminded_of(org, meeting_deal):
    due = next_weekday(2, MOSCOW, time(15, 0))
    do_create_task(org.manager1, deal=meeting_deal, goal="Встреча", due_at=due, type="meeting")
    assert send_due_reminders(now=due + timedelta(minutes=1)) == 0
    assert mail.outbox == []


def test_the_reminder_job_is_on_the_workers_schedule():
    from voronka.activities.jobs import send_meeting_reminders
    from voronka.core.jobs import SCHEDULE

    assert (send_meeting_reminders, {"minute": "*"}) in SCHEDULE
