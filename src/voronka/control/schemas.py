"""The shapes of violations in the API."""

from __future__ import annotations

from datetime import date as date_
from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from voronka.api.schemas import Page, QueryId, Window

from .rules import ViolationKind

KindName = Literal[tuple(k.value for k in ViolationKind)]


class ViolationOut(Schema):
    id: int
    kind: str = Field(
        description="no_next_step, overdue_task, missing_comment, stalled or next_contact_gap."
    )
    subject: str = Field(
        description="What breaks the rule: «deal:12», «task:7», «communication:3»."
    )
    manager_id: int = Field(description="Whose violation it is.")
    deal_id: int | None
    task_id: int | None
    communication_id: int | None
    since: datetime
    resolved_at: datetime | None = Field(description="When it was fixed; null while open.")


class ViolationPage(Page):
    items: list[ViolationOut]


class ViolationFilters(Window):
    kind: KindName = None
    manager_id: QueryId = None
    deal_id: QueryId = None
    status: Literal["open", "resolved"] = Field(None, description="Open or resolved only.")


# -- The daily report ----------------------------------------------------------------------------


class DailyReportQuery(Schema):
    date: date_ | None = Field(
        None, description="The day (YYYY-MM-DD); by default the last working day before today."
    )
    manager: int | None = Field(None, description="Only this manager (one the caller sees).")


class DailyFigureOut(Schema):
    metric: str = Field(description="calls, meetings, proposals, invoices, payments or revenue.")
    definition: str = Field(description="What the fact counts.")
    day_fact: Decimal
    day_plan: Decimal | None = Field(description="The day's plan; null when no target covers it.")
    day_status: str = Field(description="on_track, at_risk, off_track or no_plan.")
    week_fact: Decimal = Field(description="Monday to the day, included.")
    week_plan_to_date: Decimal | None = Field(description="The plan of Monday to the day.")
    week_plan: Decimal | None = Field(description="The plan of the whole week.")
    week_status: str


class LossReasonOut(Schema):
    reason: str = Field(description="Empty when none was given.")
    count: int


class DailyRowOut(Schema):
    manager_id: int | None = Field(description="Null for a total.")
    team_id: int | None
    plan_period: str | None = Field(description="The kind of the target the plan comes from.")
    plan_period_start: date_ | None
    figures: list[DailyFigureOut]
    moved_forward: int
    won: int
    won_amount: Decimal
    lost: int
    lost_reasons: list[LossReasonOut]
    new_deals: int


class DailyReportOut(Schema):
    date: date_
    week_start: date_
    week_end: date_
    is_working_day: bool
    has_plan: bool
    rows: list[DailyRowOut]
    total: DailyRowOut
