"""The shapes of targets, their decomposition and plan versus fact in the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from voronka.api.schemas import Day, Id, Input, Money, Page, Window, text

from .models import PeriodKind, Scope, SplitMethod

Kind = Literal[tuple(PeriodKind.values)]
ScopeName = Literal[tuple(Scope.values)]
Method = Literal[tuple(SplitMethod.values)]
WindowDays = Literal[30, 90, 180, 365]


class TargetOut(Schema):
    id: int
    period_kind: str
    period_start: date = Field(description="The period's first day (a Monday for a week).")
    period_end: date = Field(description="The day after the period.")
    scope: str
    team_id: int | None
    manager_id: int | None
    pipeline_id: int | None
    product_id: int | None = Field(description="Null: all products.")
    amount: Decimal | None = Field(description="Null for a manager shown their own row only.")
    window_days: int = Field(description="Conversions are observed over this many days.")
    split_method: str


class TargetPage(Page):
    items: list[TargetOut]


class TargetFilters(Window):
    period_kind: Kind = None
    period_start: date | None = None


class TargetIn(Input):
    period_kind: Kind
    period_start: Day = Field(description="Any day of the period.")
    scope: ScopeName
    team_id: Id | None = None
    manager_id: Id | None = None
    pipeline_id: Id | None = None
    product_id: Id | None = Field(
        None, description="One product of the head's list (not archived); null: all products."
    )
    amount: Money
    window_days: WindowDays = 90
    split_method: Method = "past"


class TargetPatch(Input):
    amount: Money | None = None
    window_days: WindowDays | None = None
    split_method: Method | None = None


class OverrideIn(Input):
    key: text(40) = Field(
        description="average_deal, calls_per_lead, meetings_per_lead or conversion:<stage id>."
    )
    value: Decimal | None = Field(
        description="Conversions in percent (40 for 40%); null removes the override."
    )


class SplitIn(Input):
    method: Method
    values: dict[int, Decimal] = Field(
        default_factory=dict,
        description="By manager id: percents (share) or capacities (capacity).",
    )


class AssumptionOut(Schema):
    key: str
    value: Decimal | None
    level: str = Field(
        description="manager, team, company, all_products (a product's target with too few of"
        " its own deals), override or none."
    )
    sample: int = Field(description="Deals behind an observed value.")


class StepOut(Schema):
    what: str = Field(description="won, stage, meetings or calls.")
    op: str
    left: Decimal
    right: Decimal
    exact: Decimal
    result: int
    stage: str
    level: str


class StageCount(Schema):
    stage_id: int
    stage: str
    deals: int | None


class PlanOut(Schema):
    status: str = Field(description="ok, impossible (a zero conversion) or missing (no data).")
    blocked_by: str
    amount: Decimal
    won: int | None
    stages: list[StageCount]
    leads: int | None
    meetings: int | None
    calls: int | None
    calls_per_day: Decimal | None
    meetings_per_week: Decimal | None
    steps: list[StepOut]
    assumptions: list[AssumptionOut]


class PaceOut(Schema):
    planned_calls_per_day: Decimal
    usual_calls_per_day: Decimal | None = Field(
        description="Outgoing calls a working day the manager made over the plan's window."
    )
    times: Decimal | None = Field(description="Planned ÷ usual; null when none were made.")
    stretch: bool = Field(
        description="More than 1.5 times the usual pace, or calls asked of someone who made none."
    )


class ManagerPlanOut(Schema):
    manager_id: int
    plan: PlanOut
    pace: PaceOut | None = Field(description="Null when the plan is not possible.")


class DecompositionOut(Schema):
    target: TargetOut
    working_days: int
    window_start: date
    window_end: date
    overall: PlanOut | None = Field(description="Null for whom sees only their own row.")
    split_difference: Decimal | None = Field(description="0 when the parts add up.")
    managers: list[ManagerPlanOut]


class PlanFactQuery(Schema):
    period_kind: Kind = "month"
    period_start: date | None = None


class MetricOut(Schema):
    metric: str
    plan: Decimal | None
    fact: Decimal
    run_rate: Decimal
    projection: Decimal
    status: str = Field(description="on_track, at_risk, off_track or no_plan.")


class PlanFactRow(Schema):
    manager_id: int
    target_id: int | None
    metrics: list[MetricOut]


class ProductPlanFact(Schema):
    product_id: int
    rows: list[PlanFactRow] = Field(
        description="Revenue, won deals and new leads of the product's deals only: calls and"
        " meetings are a person's, not a product's, and are counted in the main rows."
    )


class PipelinePlanFact(Schema):
    pipeline_id: int
    product_id: int | None = Field(description="Null: every product in the pipeline.")
    rows: list[PlanFactRow] = Field(
        description="Revenue, won deals and new leads of the pipeline's deals (of that product"
        " when one is named) only: calls and meetings are counted in the main rows."
    )


class PlanFactOut(Schema):
    period_kind: str
    period_start: date
    period_end: date
    working_days: int
    elapsed_working_days: int
    on_track_from: Decimal
    at_risk_from: Decimal
    rows: list[PlanFactRow]
    products: list[ProductPlanFact] = Field(
        description="Each product with a target of the period: its managers' plan and fact."
    )
    pipelines: list[PipelinePlanFact] = Field(
        description="Each pipeline (or product in a pipeline) with a target of the period: its"
        " managers' plan and fact."
    )
