"""What the analytics API takes and returns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, model_validator

from voronka.api.schemas import MAX_ID, QueryId, query_text

from .kpis import COUNTED

#: The id of a product or a client segment of the workspace, or 0 for "none".
KeptId = Annotated[int, Field(ge=0, le=MAX_ID)]


class SelectionFilters(Schema):
    model_config = ConfigDict(extra="forbid")

    since: date | None = Field(None, description="First local day (default: 90 days ago).")
    until: date | None = Field(None, description="Last local day, included (default: today).")
    owner_id: QueryId | None = None
    team_id: QueryId | None = None
    product_id: KeptId | None = Field(
        None,
        description="Only the deals of this product (archived ones too); 0: the deals without "
        "a product. An id the workspace does not keep is a 422 naming the field.",
    )
    segment_id: KeptId | None = Field(
        None,
        description="Only the deals of clients in this segment (archived ones too); 0: the "
        "deals of clients without a segment, or without a client. An id the workspace does not "
        "keep is a 422 naming the field.",
    )

    @model_validator(mode="after")
    def _order(self):
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        return self


class FunnelFilters(SelectionFilters):
    pipeline_id: QueryId | None = Field(None, description="Default: the first pipeline.")
    source: query_text(120) | None = None
    company_id: QueryId | None = None


class KpiFilters(SelectionFilters):
    codes: list[Literal[COUNTED]] | None = Field(None, description="Default: every counted KPI.")
    per: Literal["owner", "team", "company"] = "owner"
    granularity: Literal["day", "week", "month", "total"] = "total"
    pipeline_id: QueryId | None = None


class FunnelStage(Schema):
    stage_id: int
    name: str
    kind: str
    entered: int
    amount: Decimal
    next_stage_id: int | None
    moved_on: int
    to_next: float | None
    to_won: float | None
    finished_stays: int
    median_hours: int | None
    p75_hours: int | None
    p90_hours: int | None


class LossRow(Schema):
    reason: str
    deals: int
    amount: Decimal


class CohortRow(Schema):
    month: date
    created: int
    won: int
    amount: Decimal


class BottleneckOut(Schema):
    owner_id: int | None
    stage_id: int
    next_stage_id: int | None
    rate: float | None
    norm_rate: float | None
    median_hours: int | None
    norm_hours: int | None
    text: str


class FunnelOut(Schema):
    pipeline_id: int
    since: date
    until: date
    stages: list[FunnelStage]
    won: int
    won_amount: Decimal
    lost: int
    cycle_median_hours: int | None
    cycle_p75_hours: int | None
    cycle_p90_hours: int | None
    losses: list[LossRow]
    cohorts: list[CohortRow]
    bottlenecks: list[BottleneckOut]


class KpiDefinition(Schema):
    code: str
    label: str
    unit: str
    definition: str


class KpiValue(Schema):
    who: int | None
    bucket: date | None
    code: str
    value: float | int | Decimal | None


class KpiOut(Schema):
    since: date
    until: date
    per: str
    granularity: str
    values: list[KpiValue]
