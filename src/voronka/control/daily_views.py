"""The daily report page: a day's activity per manager and team against plan.

A manager sees their own row, a senior their team's, the head and the owner everyone's
(``daily.report_scope``); anyone else gets a 404. The day is the last working day before today
in the viewer's time zone unless the page is asked for another.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from voronka.planning.actions import may_plan

from .daily import LABELS, METRICS, definitions, report_for


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
            "labels": LABELS,
        },
    )
