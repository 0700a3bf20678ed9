"""The daily report by email, at the time the head set, once a day per person.

Who gets it is a workspace setting (``RuleSettings.daily_report_to``, roles): a manager their own
report, a senior their team's, the head and the owner everyone's (``daily.report_scope``). The
time is read in each recipient's own time zone, on the workspace's working days; the report is of
the working day before. Before a message goes, a ``DailyReportSent`` row is written for the person
and their day (unique): a worker that restarts, or two workers that run at once, never send the
same person the same day twice. A message that fails to go has its row removed, so the next run
tries again. Each message is in its recipient's language, as plain text with an HTML alternative.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from voronka.accounts.models import Role, User
from voronka.core.models import Workspace
from voronka.planning.plans import weekdays

from .daily import LABELS, daily_report, previous_working_day, report_scope
from .digest import site_url
from .models import DailyReportSent, RuleSettings
from .workspaces import for_each_workspace

log = logging.getLogger("voronka.control")

#: The roles that may be sent a daily report, in the order the settings list them.
RECIPIENT_ROLES = (Role.MANAGER, Role.SENIOR, Role.HEAD, Role.OWNER)


def parse_roles(value: str) -> list[str]:
    """The roles of ``daily_report_to`` that may get a report, in their settings order."""
    named = {part.strip() for part in (value or "").split(",")}
    return [role for role in RECIPIENT_ROLES if role in named]


def recipients(workspace: Workspace, rules: RuleSettings):
    return (
        User.objects.filter(
            workspace_id=workspace.id,
            is_active=True,
            role__in=parse_roles(rules.daily_report_to),
        )
        .exclude(email="")
        .order_by("id")
    )


def is_due(rules: RuleSettings, local_now: datetime, days_of_week) -> bool:
    """On, on a working day of the recipient's, at or after the report's time."""
    return (
        rules.daily_report_on
        and local_now.weekday() in days_of_week
        and local_now.time() >= rules.daily_report_time
    )


def send_due_daily_reports(*, now: datetime | None = None) -> int:
    """Send the daily reports whose time has come, in every workspace; the number sent."""
    now = now or timezone.now()
    return sum(
        for_each_workspace(lambda ws: send_daily_reports_if_due(ws, now=now), "the daily reports")
    )


def send_daily_reports_if_due(workspace: Workspace, *, now: datetime) -> int:
    rules = RuleSettings.for_workspace(workspace.id)
    if not rules.daily_report_on:
        return 0
    days_of_week = weekdays(workspace)
    sent = 0
    for person in recipients(workspace, rules):
        local_now = now.astimezone(ZoneInfo(person.timezone))
        if not is_due(rules, local_now, days_of_week):
            continue
        sent_on = local_now.date()
        if DailyReportSent.objects.filter(recipient=person, sent_on=sent_on).exists():
            continue
        report_day = previous_working_day(sent_on, days_of_week)
        message = daily_report_message(person, report_day, today=sent_on)
        if message is None:
            continue
        try:
            with transaction.atomic():
                DailyReportSent.objects.create(
                    workspace=workspace, recipient=person, sent_on=sent_on, report_day=report_day
                )
        except IntegrityError:
            continue  # another worker has just claimed it
        try:
            message.send()
        except Exception:
            DailyReportSent.objects.filter(recipient=person, sent_on=sent_on).delete()
            log.exception("the daily report to user %s did not go", person.id)
            continue
        sent += 1
    return sent


def daily_report_message(person: User, day, *, today=None) -> EmailMultiAlternatives | None:
    """The daily report of ``day`` as ``person`` sees it, in their language and time zone;
    None when it has nobody in it."""
    report = daily_report(person.workspace, day, report_scope(person), today=today or day)
    if not report.rows:
        return None
    base = site_url()
    with translation.override(person.language), timezone.override(ZoneInfo(person.timezone)):
        context = {
            "person": person,
            "report": report,
            "many": len(report.rows) > 1,
            "labels": LABELS,
            "currency": person.workspace.currency,
            "url": f"{base}{reverse('control:daily')}?date={day.isoformat()}",
            "planning_url": f"{base}{reverse('planning:targets')}",
        }
        subject = _("Voronka: the daily report of %(day)s") % {"day": day.strftime("%d.%m.%Y")}
        text = render_to_string("control/email/daily_report.txt", context)
        html = render_to_string("control/email/daily_report.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [person.email])
    message.attach_alternative(html, "text/html")
    return message
