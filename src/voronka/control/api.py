"""Violations and the daily report over the API (read only): parse → access → schema."""

from __future__ import annotations

from ninja import Query, Router

from voronka.api.schemas import READ_ERRORS, page

from .access import visible_violations
from .daily import definitions, report_for
from .schemas import DailyReportOut, DailyReportQuery, ViolationFilters, ViolationPage

router = Router(tags=["control"])


@router.get("/violations", response={200: ViolationPage, **READ_ERRORS})
def list_violations(request, filters: Query[ViolationFilters]):
    """The violations the caller sees, newest first: a manager their own, a senior their team's,
    the head everyone's."""
    qs = visible_violations(request.auth)
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind)
    if filters.manager_id is not None:
        qs = qs.filter(manager_id=filters.manager_id)
    if filters.deal_id is not None:
        qs = qs.filter(deal_id=filters.deal_id)
    if filters.status == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif filters.status == "resolved":
        qs = qs.filter(resolved_at__isnull=False)
    return page(qs.order_by("-id"), filters)


@router.get("/control/daily-report", response={200: DailyReportOut, **READ_ERRORS})
def read_daily_report(request, query: Query[DailyReportQuery]):
    """The daily report of a day as the caller sees it: a manager their own row, a senior their
    team's, the head and the owner everyone's; 404 for anyone else or a manager not seen."""
    day = query.date.isoformat() if query.date else None
    manager = str(query.manager) if query.manager is not None else None
    report, _today, _manager = report_for(request.auth, day, manager)
    explained = definitions()
    return {
        "date": report.day,
        "week_start": report.week_start,
        "week_end": report.week_end,
        "is_working_day": report.is_working_day,
        "has_plan": report.has_plan,
        "rows": [_daily_row(row, explained) for row in report.rows],
        "total": _daily_row(report.total, explained),
    }


def _daily_row(row, explained) -> dict:
    source = row.plan_source
    return {
        "manager_id": row.person.id if row.person else None,
        "team_id": row.person.team_id if row.person else None,
        "plan_period": source[0] if source else None,
        "plan_period_start": source[1] if source else None,
        "figures": [
            {
                "metric": f.code,
                "definition": explained[f.code],
                "day_fact": f.day.fact,
                "day_plan": f.day.plan,
                "day_status": f.day.status,
                "week_fact": f.week.fact,
                "week_plan_to_date": f.week.plan,
                "week_plan": f.whole,
                "week_status": f.week.status,
            }
            for f in row.cells
        ],
        "moved_forward": row.moved_forward,
        "won": row.won,
        "won_amount": row.won_amount,
        "lost": row.lost,
        "lost_reasons": [{"reason": r, "count": n} for r, n in row.lost_reasons],
        "new_deals": row.new_deals,
    }
