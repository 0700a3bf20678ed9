"""The planning meeting's agenda over the API: the page's content, for the page's people.

The head and the owner read the whole company or a team, a senior their group; for anyone else
the agenda is absent (404), as the page is.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import Http404
from ninja import Query, Router, Schema
from pydantic import Field

from voronka.api.schemas import READ_ERRORS, QueryId
from voronka.planning.schemas import MetricOut

from .access import control_scope
from .meeting import agenda, narrow, team_members
from .meeting_views import meeting_teams

router = Router(tags=["control"])


class MeetingQuery(Schema):
    team_id: QueryId = Field(None, description="Narrow to a team the caller may choose.")
    period: Literal["month", "week"] = Field("month", description="The plan-fact's period.")


class MeetingPlanRow(Schema):
    manager_id: int
    metrics: list[MetricOut]
    calls_behind: Decimal = Field(description="Calls the plan to date asks for beyond the fact.")
    meetings_behind: Decimal


class MeetingPlanFact(Schema):
    period_kind: str
    period_start: date
    period_end: date = Field(description="The day after the period's last (exclusive).")
    working_days: int
    elapsed_working_days: int
    rows: list[MeetingPlanRow]


class MeetingNextStep(Schema):
    task_id: int
    goal: str
    due_at: datetime
    state: str = Field(description="overdue, today or future.")


class MeetingHotDeal(Schema):
    deal_id: int
    title: str
    owner_id: int
    stage_id: int
    amount: Decimal
    currency: str
    days_in_stage: int
    next_step: MeetingNextStep | None


class MeetingHot(Schema):
    stage_ids: list[int] = Field(description="The stages counted as close to payment.")
    total: int
    capped: bool = Field(description="True when the total is a lower bound.")
    deals: list[MeetingHotDeal]


class MeetingStuckDeal(Schema):
    deal_id: int
    title: str
    since: datetime = Field(description="When the violation opened.")
    days_in_stage: int


class MeetingStuckList(Schema):
    kind: str = Field(description="stalled or no_next_step.")
    total: int
    deals: list[MeetingStuckDeal]


class MeetingStuckGroup(Schema):
    manager_id: int
    kinds: list[MeetingStuckList]


class MeetingClosedDeal(Schema):
    deal_id: int
    title: str
    owner_id: int
    amount: Decimal
    currency: str
    closed_at: datetime
    reason: str = Field(description="The loss reason; empty for a won deal.")


class MeetingClosed(Schema):
    start: date = Field(description="The previous working day, in the caller's time zone.")
    end: date = Field(description="Today (exclusive).")
    won: list[MeetingClosedDeal]
    lost: list[MeetingClosedDeal]
    won_amount: Decimal
    capped: bool


class MeetingFlaggedCall(Schema):
    flag_id: int
    communication_id: int
    deal_id: int | None
    author_id: int | None
    occurred_at: datetime
    duration_seconds: int | None
    note: str
    flagged_by_id: int
    flagged_at: datetime


class MeetingFlags(Schema):
    total: int
    capped: bool
    calls: list[MeetingFlaggedCall]


class MeetingOut(Schema):
    today: date
    team_id: int | None
    plan_fact: MeetingPlanFact
    hot_deals: MeetingHot
    stalled_or_no_next_step: list[MeetingStuckGroup]
    won_and_lost: MeetingClosed
    flagged_calls: MeetingFlags


def _closed(rows) -> list[dict]:
    return [
        {
            "deal_id": r.deal.id,
            "title": r.deal.title,
            "owner_id": r.deal.owner_id,
            "amount": r.deal.amount,
            "currency": r.deal.currency,
            "closed_at": r.at,
            "reason": r.reason,
        }
        for r in rows
    ]


@router.get("/control/meeting", response={200: MeetingOut, **READ_ERRORS})
def read_meeting(request, query: Query[MeetingQuery]):
    """The planning meeting's agenda: plan-fact by manager, hot deals close to payment, deals
    stalled or without a next step, the deals won and lost since the previous working day, and
    the calls flagged for review."""
    user = request.auth
    scope = control_scope(user)
    members = None
    if query.team_id is not None:
        if not meeting_teams(user).filter(id=query.team_id).exists():
            raise Http404
        members = team_members(user.workspace_id, query.team_id)
    report = agenda(user, narrow(scope, members), period=query.period)
    pf = report.plan_fact
    return {
        "today": report.today,
        "team_id": query.team_id,
        "plan_fact": {
            "period_kind": pf.kind,
            "period_start": pf.report.start,
            "period_end": pf.report.end,
            "working_days": pf.report.working_days,
            "elapsed_working_days": pf.report.elapsed_days,
            "rows": [
                {
                    "manager_id": r.manager.id,
                    "metrics": [
                        {
                            "metric": m,
                            "plan": p.plan if r.planned[m] else None,
                            "fact": p.fact,
                            "run_rate": round(p.run_rate, 2),
                            "projection": round(p.projection, 2),
                            "status": p.status,
                        }
                        for m, p in r.paces.items()
                    ],
                    "calls_behind": r.behind["calls"],
                    "meetings_behind": r.behind["meetings"],
                }
                for r in pf.rows
            ],
        },
        "hot_deals": {
            "stage_ids": [s.id for s in report.hot.stages],
            "total": report.hot.total,
            "capped": report.hot.capped,
            "deals": [
                {
                    "deal_id": h.deal.id,
                    "title": h.deal.title,
                    "owner_id": h.deal.owner_id,
                    "stage_id": h.deal.stage_id,
                    "amount": h.deal.amount,
                    "currency": h.deal.currency,
                    "days_in_stage": h.days_in_stage,
                    "next_step": None
                    if h.next_task is None
                    else {
                        "task_id": h.next_task.id,
                        "goal": h.next_task.goal,
                        "due_at": h.next_task.due_at,
                        "state": h.next_state,
                    },
                }
                for h in report.hot.deals
            ],
        },
        "stalled_or_no_next_step": [
            {
                "manager_id": g.manager.id,
                "kinds": [
                    {
                        "kind": lst.kind,
                        "total": lst.total,
                        "deals": [
                            {
                                "deal_id": i.deal.id,
                                "title": i.deal.title,
                                "since": i.since,
                                "days_in_stage": i.days_in_stage,
                            }
                            for i in lst.items
                            if i.linkable
                        ],
                    }
                    for lst in g.lists
                ],
            }
            for g in report.stuck
        ],
        "won_and_lost": {
            "start": report.closed.start,
            "end": report.closed.end,
            "won": _closed(report.closed.won),
            "lost": _closed(report.closed.lost),
            "won_amount": report.closed.won_amount,
            "capped": report.closed.capped,
        },
        "flagged_calls": {
            "total": report.flags.total,
            "capped": report.flags.capped,
            "calls": [
                {
                    "flag_id": f.id,
                    "communication_id": f.communication_id,
                    "deal_id": f.communication.deal_id if f.deal_linkable else None,
                    "author_id": f.communication.author_id,
                    "occurred_at": f.communication.occurred_at,
                    "duration_seconds": f.communication.duration_seconds,
                    "note": f.note,
                    "flagged_by_id": f.flagged_by_id,
                    "flagged_at": f.created_at,
                }
                for f in report.flags.flags
            ],
        },
    }
