"""The shapes of violations in the API."""

from __future__ import annotations

from datetime import datetime
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
