"""The daily digest by email: each manager their own day, the head everyone's.

Sent once a workspace's digest time has come on one of its working days; the day is claimed by
one atomic update of ``RuleSettings.digest_sent_on``, so the digest goes out once however often
the job runs and however many workers run it. Each message is written in its recipient's
language and time zone, as plain text with an HTML alternative.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from voronka.accounts.models import Role, User
from voronka.activities.models import Task
from voronka.core.models import Workspace

from .actions import parse_work_days
from .kinds import KINDS, LABELS
from .models import RuleSettings, Violation
from .summary import matrix, open_counts, trend
from .workspaces import for_each_workspace

#: Items listed per section of a digest; the rest is a click away.
ITEMS = 10
#: Where the links in the emails point (the address people open Voronka at).
SITE_URL_ENV = "VORONKA_SITE_URL"


def site_url() -> str:
    return (
        getattr(settings, "VORONKA_SITE_URL", "")
        or os.environ.get(SITE_URL_ENV, "")
        or "http://127.0.0.1:8000"
    ).rstrip("/")


def digest_is_due(rules: RuleSettings, local_now: datetime) -> bool:
    """On a working day, at or after the digest time, and not sent yet that day."""
    try:
        days = parse_work_days(rules.work_days)
    except ValueError:
        days = list(range(5))
    if local_now.weekday() not in days or local_now.time() < rules.digest_time:
        return False
    return rules.digest_sent_on != local_now.date()


def send_due_digests(*, now: datetime | None = None) -> int:
    """Send the digests of every workspace whose time has come; the number of emails sent."""
    now = now or timezone.now()
    return sum(for_each_workspace(lambda ws: send_digest_if_due(ws, now=now), "the digest"))


def send_digest_if_due(workspace: Workspace, *, now: datetime) -> int:
    rules = RuleSettings.for_workspace(workspace.id)
    local_now = now.astimezone(ZoneInfo(workspace.timezone))
    if not digest_is_due(rules, local_now):
        return 0
    today = local_now.date()
    claimed = (
        RuleSettings.objects.filter(pk=rules.pk)
        .filter(Q(digest_sent_on__isnull=True) | ~Q(digest_sent_on=today))
        .update(digest_sent_on=today)
    )
    if not claimed:
        return 0
    messages = build_digests(workspace, now=now)
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0


# -- What a digest says --------------------------------------------------------------------------


@dataclass
class Item:
    kind: str
    label: str
    text: str
    detail: str
    url: str
    since: datetime
    manager: str = ""


@dataclass
class ManagerDigest:
    person: User
    counts: list[dict]  # {"kind", "label", "count"} per kind
    total: int
    items: list[Item]
    overdue: list[Task]
    overdue_count: int
    today: list[Task]
    today_count: int
    links: dict[str, str] = field(default_factory=dict)


def _item(v: Violation, base: str) -> Item:
    deal_url = base + reverse("sales:deal_detail", args=[v.deal_id]) if v.deal_id else ""
    if v.communication_id:
        c = v.communication
        text = f"{c.get_kind_display()} {timezone.localtime(c.occurred_at):%d.%m %H:%M}"
        detail = str(c.contact) if c.contact_id else (v.deal.title if v.deal_id else "")
    elif v.task_id:
        text = v.task.goal
        detail = v.deal.title if v.deal_id else ""
    else:
        text = v.deal.title if v.deal_id else v.subject
        detail = v.deal.stage.name if v.deal_id else ""
    return Item(
        kind=v.kind,
        label=str(LABELS.get(v.kind, v.kind)),
        text=text,
        detail=detail,
        url=deal_url or base + reverse("activities:my_day"),
        since=v.since,
        manager=str(v.manager),
    )


def _open_violations(workspace_id: int):
    return (
        Violation.objects.filter(workspace_id=workspace_id, resolved_at__isnull=True)
        .select_related("manager", "deal", "deal__stage", "task", "communication")
        .select_related("communication__contact")
        .order_by("since", "id")
    )


def _day_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time.min, tzinfo=tz)
    return start, datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)


def manager_digest(person: User, *, now: datetime, base: str) -> ManagerDigest:
    """A manager's own violations, overdue tasks and today's tasks (in their time zone)."""
    counts = open_counts(person.workspace_id, {person.id})
    by_kind = [
        {"kind": k.value, "label": str(LABELS[k]), "count": counts.get((person.id, k), 0)}
        for k in KINDS
    ]
    items = [
        _item(v, base)
        for v in _open_violations(person.workspace_id)
        .filter(manager_id=person.id)
        .exclude(kind="overdue_task")[:ITEMS]
    ]
    tasks = Task.objects.filter(
        workspace_id=person.workspace_id, owner_id=person.id, done_at__isnull=True
    ).select_related("deal")
    _start, end = _day_bounds(now, ZoneInfo(person.timezone))
    overdue = tasks.filter(due_at__lt=now).order_by("due_at", "id")
    today = tasks.filter(due_at__gte=now, due_at__lt=end).order_by("due_at", "id")
    return ManagerDigest(
        person=person,
        counts=by_kind,
        total=sum(c["count"] for c in by_kind),
        items=items,
        overdue=list(overdue[:ITEMS]),
        overdue_count=overdue.count(),
        today=list(today[:ITEMS]),
        today_count=today.count(),
        links={
            "my_day": base + reverse("activities:my_day"),
            "tasks": base + reverse("activities:task_list") + "?state=overdue",
        },
    )


def head_digest(workspace: Workspace, *, now: datetime, base: str) -> dict:
    """Everyone's violations: the matrix, yesterday's totals beside today's, the oldest items."""
    counts = open_counts(workspace.id)
    people = list(
        User.objects.filter(
            Q(id__in={m for m, _k in counts})
            | Q(workspace_id=workspace.id, is_active=True, role=Role.MANAGER)
        ).select_related("team")
    )
    table = matrix(counts, people)
    today = now.astimezone(ZoneInfo(workspace.timezone)).date()
    yesterday = trend(workspace.id, today, table.by_kind(), days=2).yesterday()
    kinds = [
        {
            "kind": k.value,
            "label": str(LABELS[k]),
            "count": table.totals[i],
            "yesterday": yesterday[k],
        }
        for i, k in enumerate(KINDS)
    ]
    top = []
    for k in KINDS:
        top += [_item(v, base) for v in _open_violations(workspace.id).filter(kind=k)[:5]]
    labels = {k.value: str(LABELS[k]) for k in KINDS}
    rows = [
        {
            "person": r.person,
            "total": r.total,
            "cells": [{"label": labels[kind], "count": n} for kind, n in r.cells],
            "nonzero": [{"label": labels[kind], "count": n} for kind, n in r.cells if n],
        }
        for r in table.rows
        if r.total
    ]
    return {
        "matrix": table,
        "rows": rows,
        "kinds": kinds,
        "top": top,
        "links": {"control": base + reverse("control:screen")},
    }


def _message(person: User, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    text = render_to_string(f"control/email/{template}.txt", context)
    html = render_to_string(f"control/email/{template}.html", context)
    msg = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [person.email])
    msg.attach_alternative(html, "text/html")
    return msg


def build_digests(workspace: Workspace, *, now: datetime | None = None) -> list:
    """The day's digest emails of a workspace: one per seller with an email, one per head."""
    now = now or timezone.now()
    base = site_url()
    people = User.objects.filter(
        workspace_id=workspace.id,
        is_active=True,
        role__in=[Role.MANAGER, Role.SENIOR, Role.HEAD],
    ).exclude(email="")
    out = []
    for person in people.order_by("id"):
        with translation.override(person.language), timezone.override(ZoneInfo(person.timezone)):
            day = now.astimezone(ZoneInfo(person.timezone))
            if person.role == Role.HEAD:
                head_data = head_digest(workspace, now=now, base=base)
                context = {**head_data, "person": person, "day": day, "workspace": workspace}
                subject = _("Voronka: the department's rules on %(day)s") % {
                    "day": day.strftime("%d.%m.%Y")
                }
                out.append(_message(person, subject, "head_digest", context))
            else:
                digest = manager_digest(person, now=now, base=base)
                context = {"d": digest, "person": person, "day": day, "workspace": workspace}
                subject = _("Voronka: your day, %(day)s") % {"day": day.strftime("%d.%m.%Y")}
                out.append(_message(person, subject, "manager_digest", context))
    return out
