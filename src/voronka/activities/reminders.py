"""Meeting reminders: planned when a meeting is planned or moved, sent by the worker.

The client is reminded ``RuleSettings.reminder_lead_minutes`` ahead (2 hours by default), moved
back into their working hours in their own time zone (the contact's, else the workspace's), so a
client in Vladivostok is not written to at night. The manager is reminded at the same lead,
whatever the hour. Reminders go by email now; the ``channel`` leaves room for messengers.

Sending claims each due reminder by stamping ``sent_at`` before the message goes out (rows
picked with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises the writers), so
two workers never send the same reminder twice. A failed send is unstamped, its error kept, and
retried a few minutes later until the meeting begins.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from voronka.control.actions import parse_work_days
from voronka.control.models import RuleSettings
from voronka.control.rules import WorkingHours, reminder_time
from voronka.core.errors import DomainError

from .models import Reminder, Task, TaskType

log = logging.getLogger("voronka.reminders")

#: A failed send is tried again after this long (until the meeting begins).
RETRY_AFTER = timedelta(minutes=5)
BATCH = 100


# -- Planning ------------------------------------------------------------------------------------


def _zone(name: str | None, fallback: str) -> str:
    for candidate in (name, fallback, settings.TIME_ZONE):
        if candidate:
            try:
                ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return candidate
    return "UTC"


def client_of(task: Task):
    """The contact a meeting is with: the task's own, else the deal's."""
    if task.contact_id:
        return task.contact
    if task.deal_id and task.deal.contact_id:
        return task.deal.contact
    return None


def working_hours(rules: RuleSettings, tz: str) -> WorkingHours:
    try:
        days = frozenset(parse_work_days(rules.work_days))
    except ValueError:
        days = frozenset(range(5))
    return WorkingHours(tz=tz, start=rules.work_start, end=rules.work_end, days=days)


def _called_off(task: Task) -> bool:
    """A meeting on a lost deal is off: nobody is reminded of it (reopened, it is again)."""
    from voronka.sales.models import StageKind

    return task.deal_id is not None and task.deal.stage.kind == StageKind.LOST


def plan_reminders(task: Task, *, now: datetime | None = None) -> list[Reminder]:
    """Bring the task's unsent reminders in line with it; the reminders planned now.

    Called in the transaction of every change that bears on them: a task created, changed,
    completed or reopened (the task actions), its client's email or time zone changed
    (``replan_for_contact``), its deal lost or reopened (``replan_for_deal``). A meeting moved
    gets reminders for its new time; a meeting done, called off or no longer a meeting keeps
    none. Reminders already sent stay as the record of what was sent.
    """
    now = now or timezone.now()
    unsent = Reminder.objects.filter(task_id=task.pk, sent_at__isnull=True)
    if (
        task.type != TaskType.MEETING
        or task.done_at is not None
        or task.due_at <= now
        or _called_off(task)
    ):
        unsent.delete()
        return []
    unsent.exclude(for_due_at=task.due_at).delete()
    rules = RuleSettings.for_workspace(task.workspace_id)
    lead = timedelta(minutes=rules.reminder_lead_minutes)
    workspace_tz = task.workspace.timezone
    wanted: dict[str, tuple[str, datetime]] = {}
    contact = client_of(task)
    if contact is not None and contact.email:
        hours = working_hours(rules, _zone(contact.timezone, workspace_tz))
        moment = reminder_time(task.due_at, lead, hours, now)
        if moment is not None:
            wanted[Reminder.Recipient.CLIENT] = (contact.email, moment)
    if task.owner.email and task.owner.is_active:
        moment = max(task.due_at - lead, now)
        if moment < task.due_at:
            wanted[Reminder.Recipient.MANAGER] = (task.owner.email, moment)
    unsent.filter(for_due_at=task.due_at).exclude(recipient__in=list(wanted)).delete()
    planned = []
    for recipient, (address, moment) in wanted.items():
        reminder = Reminder.objects.filter(
            task_id=task.pk, recipient=recipient, for_due_at=task.due_at
        ).first()
        if reminder is None:
            reminder = Reminder.objects.create(
                workspace_id=task.workspace_id,
                task_id=task.pk,
                recipient=recipient,
                channel="email",
                address=address,
                send_at=moment,
                for_due_at=task.due_at,
            )
        elif reminder.sent_at is None and (reminder.address, reminder.send_at) != (
            address,
            moment,
        ):
            reminder.address, reminder.send_at, reminder.error = address, moment, ""
            reminder.save(update_fields=["address", "send_at", "error", "updated_at"])
        planned.append(reminder)
    return planned


def _coming_meetings(now: datetime):
    return Task.objects.filter(type=TaskType.MEETING, done_at__isnull=True, due_at__gt=now)


def replan_for_contact(contact, *, now: datetime | None = None) -> int:
    """Plan anew the reminders of the coming meetings with ``contact`` (their own, or their
    deal's when the meeting names nobody): called when the contact's email or time zone
    changes, in the same transaction. The number of meetings looked at."""
    from django.db.models import Q

    now = now or timezone.now()
    meetings = _coming_meetings(now).filter(
        Q(contact_id=contact.pk) | Q(contact__isnull=True, deal__contact_id=contact.pk),
        workspace_id=contact.workspace_id,
    )
    count = 0
    for task in meetings.select_related("deal__stage", "deal__contact", "contact", "owner"):
        plan_reminders(task, now=now)
        count += 1
    return count


def replan_for_deal(deal, *, now: datetime | None = None) -> int:
    """Plan anew the reminders of the deal's coming meetings (the deal lost or reopened)."""
    now = now or timezone.now()
    meetings = _coming_meetings(now).filter(deal_id=deal.pk)
    count = 0
    for task in meetings.select_related("deal__stage", "deal__contact", "contact", "owner"):
        plan_reminders(task, now=now)
        count += 1
    return count


def replan_for_workspace(workspace_id: int, *, now: datetime | None = None) -> int:
    """Plan anew the reminders of every coming meeting of a workspace: its lead time or working
    hours changed (run by a job, as there may be many)."""
    now = now or timezone.now()
    meetings = _coming_meetings(now).filter(workspace_id=workspace_id).order_by("due_at", "id")
    count = 0
    for task in meetings.select_related("deal__stage", "deal__contact", "contact", "owner"):
        with transaction.atomic():
            plan_reminders(task, now=now)
        count += 1
    return count


# -- Sending -------------------------------------------------------------------------------------


def send_due_reminders(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Send the reminders whose time has come and whose meeting is still ahead; the count sent."""
    now = now or timezone.now()
    sent = 0
    while True:
        claimed = _claim(now, batch)
        if not claimed:
            return sent
        for reminder in claimed:
            if _send(reminder, now):
                sent += 1
        if len(claimed) < batch:
            return sent


def _claim(now: datetime, batch: int) -> list[Reminder]:
    with transaction.atomic():
        due = Reminder.objects.filter(
            sent_at__isnull=True, send_at__lte=now, for_due_at__gt=now
        ).order_by("send_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = [r.id for r in due.only("id")[:batch]]
        if not ids:
            return []
        Reminder.objects.filter(id__in=ids, sent_at__isnull=True).update(sent_at=now)
    return list(
        Reminder.objects.filter(id__in=ids, sent_at=now)
        .select_related("task__owner", "task__deal__stage", "task__contact", "task__workspace")
        .order_by("send_at", "id")
    )


def _send(reminder: Reminder, now: datetime) -> bool:
    task = reminder.task
    if (
        task.type != TaskType.MEETING
        or task.done_at is not None
        or task.due_at != reminder.for_due_at
        or _called_off(task)
    ):
        # The meeting changed after this reminder was planned; its new reminders are planned.
        reminder.delete()
        return False
    try:
        message = _message(reminder, task)
        message.send()
    except Exception as exc:  # the mail server's refusal, a network error: try again later
        log.warning("meeting reminder %s to %s failed: %s", reminder.id, reminder.address, exc)
        Reminder.objects.filter(pk=reminder.pk).update(
            sent_at=None, error=str(exc)[:1000] or type(exc).__name__, send_at=now + RETRY_AFTER
        )
        return False
    if reminder.error:
        Reminder.objects.filter(pk=reminder.pk).update(error="")
    if reminder.recipient == Reminder.Recipient.CLIENT:
        _put_on_timeline(reminder, task)
    return True


def _local(moment: datetime, tz: str) -> str:
    return formats.date_format(moment.astimezone(ZoneInfo(tz)), "DATETIME_FORMAT")


def _message(reminder: Reminder, task: Task) -> EmailMessage:
    workspace = task.workspace
    manager = task.owner
    manager_name = manager.get_full_name() or manager.username
    if reminder.recipient == Reminder.Recipient.CLIENT:
        contact = client_of(task)
        tz = _zone(contact.timezone if contact else None, workspace.timezone)
        with translation.override(settings.LANGUAGE_CODE):
            when = _local(task.due_at, tz)
            greeting = (
                _("Hello, %(name)s!") % {"name": contact.first_name}
                if contact is not None and contact.first_name
                else _("Hello!")
            )
            subject = _("Reminder: our meeting on %(when)s") % {"when": when}
            body = "\n\n".join(
                [
                    greeting,
                    _("We remind you of our meeting on %(when)s (%(zone)s time).")
                    % {"when": when, "zone": tz},
                    _("If the time no longer suits you, just reply to this email."),
                    f"{manager_name}\n{workspace.name}",
                ]
            )
        reply_to = [manager.email] if manager.email else None
        return EmailMessage(subject, body, to=[reminder.address], reply_to=reply_to)
    tz = _zone(manager.timezone, workspace.timezone)
    with translation.override(manager.language or settings.LANGUAGE_CODE):
        when = _local(task.due_at, tz)
        contact = client_of(task)
        client = str(contact) if contact is not None else ""
        subject = _("Meeting at %(when)s: %(goal)s") % {"when": when, "goal": task.goal}
        lines = [
            _("A meeting is coming: %(when)s.") % {"when": when},
            _("Goal: %(goal)s") % {"goal": task.goal},
        ]
        if client:
            lines.append(_("Client: %(client)s") % {"client": client})
        if task.deal_id:
            from voronka.control.digest import site_url

            lines.append(_("Deal: %(title)s") % {"title": task.deal.title})
            lines.append(site_url() + reverse("sales:deal_detail", args=[task.deal_id]))
        body = "\n".join(lines)
    return EmailMessage(subject, body, to=[reminder.address])


def _put_on_timeline(reminder: Reminder, task: Task) -> None:
    """The client's reminder on the deal's timeline: an outgoing email, written by the system
    on the manager's behalf (emails need no comment, so it is no violation)."""
    from voronka.inbox.actions import do_log_communication

    contact = client_of(task)
    if contact is None and task.deal_id is None:
        return
    with translation.override(task.owner.language or settings.LANGUAGE_CODE):
        comment = _("Meeting reminder sent to the client (%(address)s).") % {
            "address": reminder.address
        }
    try:
        do_log_communication(
            task.owner,
            kind="email",
            direction="out",
            channel="email",
            occurred_at=timezone.now(),
            deal=task.deal,
            contact=contact,
            comment=comment,
        )
    except DomainError as exc:  # the owner may no longer write (left the company)
        log.warning("reminder %s not put on the timeline: %s", reminder.id, exc)
