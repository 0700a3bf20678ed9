"""The shapes of pipelines, stages and deals in the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

from voronka.api.schemas import (
    Currency,
    Day,
    Id,
    Input,
    Money,
    Page,
    QueryId,
    QueryMoment,
    Window,
    query_text,
    text,
)

#: Custom field values by key: text, numbers, dates as YYYY-MM-DD, a list for a multi-choice.
CustomValues = dict[Annotated[str, StringConstraints(max_length=80)], Any] | None


class StageOut(Schema):
    id: int
    name: str
    position: int
    kind: str = Field(description="open, won or lost")
    normal_days: int | None = Field(description="A deal longer than this in the stage is stalled.")
    required_fields: list[str] = Field(
        description='Fields a deal must have to enter: "invoice_no", "custom.<key>", …'
    )


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    is_inbound: bool
    stages: list[StageOut] = Field(description="In funnel order.")

    @staticmethod
    def resolve_stages(obj):
        return obj.visible_stage_list


class PipelinePage(Page):
    items: list[PipelineOut]


class DealOut(Schema):
    id: int
    title: str
    pipeline_id: int
    stage_id: int
    stage_entered_at: datetime
    company_id: int | None
    contact_id: int | None
    owner_id: int
    assistant_id: int | None
    product_id: int | None = Field(description="One of ``GET /products``; null: none.")
    amount: Decimal
    currency: str
    source: str
    expected_close: date | None
    loss_reason: str
    invoice_no: str
    invoice_amount: Decimal | None
    custom: dict[str, Any] = Field(description="Custom field values by the field's key.")
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DealIn(Input):
    title: text(255)
    pipeline_id: Id
    stage_id: Id | None = Field(None, description="The pipeline's first open stage when omitted.")
    company_id: Id | None = None
    contact_id: Id | None = None
    owner_id: Id | None = Field(None, description="The caller when omitted.")
    assistant_id: Id | None = None
    product_id: Id | None = Field(None, description="A product of the list, not archived.")
    amount: Money = Field(None, description='A number or a string, e.g. "150000.00".')
    currency: Currency = None
    source: text(120) = ""
    expected_close: Day | None = None
    loss_reason: text(255) = ""
    invoice_no: text(64) = ""
    invoice_amount: Money | None = None
    custom: CustomValues = None


class DealPatch(Input):
    """Only the fields sent change; the stage changes by ``POST /deals/{id}/move``."""

    title: text(255) = None
    company_id: Id | None = None
    contact_id: Id | None = None
    owner_id: Id = None
    assistant_id: Id | None = None
    product_id: Id | None = Field(
        None, description="A product of the list, not archived (the deal's own may stay)."
    )
    amount: Money = None
    currency: Currency = None
    source: text(120) = None
    expected_close: Day | None = None
    loss_reason: text(255) = None
    invoice_no: text(64) = None
    invoice_amount: Money | None = None
    custom: CustomValues = Field(
        None, description="Only the keys sent change; null or an empty string clears a value."
    )


class MoveIn(Input):
    stage_id: Id
    loss_reason: text(255) = Field(
        "",
        description="Required when the stage is a lost one; one of the head's loss reasons "
        "when the workspace keeps a list.",
    )
    fields: dict[Annotated[str, StringConstraints(max_length=80)], Any] = Field(
        default_factory=dict,
        max_length=100,
        description="Values the stage requires, set with the move, under the names a 422 "
        'lists: {"invoice_no": "A-17", "invoice_amount": "150000.00", "company_id": 5, '
        '"custom.payment": "Безнал"}.',
    )


class DealPage(Page):
    items: list[DealOut]


DealSort = Literal[
    "-stage_entered_at", "stage_entered_at", "-updated_at", "updated_at", "-id", "id"
]


class DealFilters(Window):
    owner_id: QueryId = None
    pipeline_id: QueryId = None
    stage_id: QueryId = None
    company_id: QueryId = None
    contact_id: QueryId = None
    product_id: QueryId = None
    q: query_text(100) = Field(None, description="Part of the title.")
    updated_since: QueryMoment = Field(
        None, description="Deals changed at or after this moment (ISO 8601 with an offset)."
    )
    sort: DealSort = Field(
        "-stage_entered_at",
        description="A field, descending with a leading minus; ties are broken by id.",
    )


class StageChangeOut(Schema):
    id: int
    from_stage_id: int | None
    to_stage_id: int
    changed_at: datetime
    changed_by_id: int | None


class StageChangePage(Page):
    items: list[StageChangeOut]


class ProductOut(Schema):
    id: int
    name: str
    position: int
    is_archived: bool = Field(description="No longer offered; the deals that have it keep it.")


class ProductPage(Page):
    items: list[ProductOut]


class ProductFilters(Window):
    include_archived: bool = False
