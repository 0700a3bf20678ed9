"""The daily report page: a day's activity per manager and team against plan.

A manager sees their own row, a senior their team's, the head and the owner everyone's
(``daily.report_scope``); anyone else gets a 404. The day is the last working day before today
in the viewer's time zone unless the page is asked for another.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from voronka.accounts.access import access_user
from voronka.planning.actions import may_plan
from voronka.planning.plans import weekdays

from .daily import (
    LABELS,
    METRICS,
    daily_report,
    definitions,
    previous_working_day,
    report_scope,
)

#: How far back the report goes: the rollups keep everything, but a date typed by hand that
#: is decades off is a typo.
OLDEST = date(2000, 1, 1)


def parse_day(value: str | None, default: date, today: date) -> date:
    """The asked day (ISO), never after today; the default for anything unreadable."""
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return min(max(day, OLDEST), today)


def report_for(user, day_param: str | None, manager_param: str | None):
    """(report, today, the manager it is narrowed to): 404 for a person the report is not for
    or a manager outside their scope."""
    scope = report_scope(user)
    workspace = user.workspace
    today = timezone.localdate()
    day = parse_day(day_param, previous_working_day(today, weekdays(workspace)), today)
    manager = None
    if manager_param:
        manager = access_user(user, manager_param)
        if scope is not None and manager.id not in scope:
            raise Http404
        scope = frozenset({manager.id})
    return daily_report(workspace, day, scope, today=today), today, manager


@login_required
def daily(request):
    """The daily report of a day: per manager, the team's blocks and the total."""
    user = request.user
    report, today, manager = report_for(user, request.GET.get("date"), request.GET.get("manager"))
    day = report.day
    explained = definitions()
    base = reverse("control:daily")
    extra = f"&manager={manager.id}" if manager else ""
    return render(
        request,
        "control/daily.html",
        {
            "report": report,
            "metrics": [
                {"code": m, "label": LABELS[m], "definition": explained[m]} for m in METRICS
            ],
            "outcome_columns": [
                {"label": LABELS[code], "definition": explained[code]}
                for code in ("moved_forward", "won", "lost")
            ],
            "manager": manager,
            "today": today,
            "prev_url": f"{base}?date={(day - timedelta(days=1)).isoformat()}{extra}",
            "next_url": (
                f"{base}?date={(day + timedelta(days=1)).isoformat()}{extra}" if day < today else ""
            ),
            "may_plan": may_plan(user),
            "many": len(report.rows) > 1,
            "currency": user.workspace.currency,
        },
    )
