"""The shapes of tasks in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from voronka.api.schemas import (
    Id,
    Input,
    Moment,
    Page,
    QueryId,
    QueryMoment,
    Window,
    text,
)

from .models import TaskType

TaskTypeName = Literal[tuple(TaskType.values)]
GOAL = text(255)
RESULT = text(20_000)


class TaskOut(Schema):
    id: int
    type: str
    goal: str = Field(description="What the next contact must achieve.")
    due_at: datetime
    owner_id: int
    deal_id: int | None
    contact_id: int | None
    created_by_id: int | None
    done_at: datetime | None
    result: str
    created_at: datetime
    updated_at: datetime


class TaskIn(Input):
    goal: GOAL = Field(description="What the next contact must achieve.")
    due_at: Moment
    type: TaskTypeName = "call"
    owner_id: Id | None = Field(
        None, description="The deal's owner for a deal's task, otherwise the caller, when omitted."
    )
    deal_id: Id | None = None
    contact_id: Id | None = Field(None, description="The deal's contact when omitted.")


class TaskPatch(Input):
    """Only the fields sent change; completing a task is ``POST /tasks/{id}/complete``."""

    goal: GOAL = None
    due_at: Moment = None
    type: TaskTypeName = None
    owner_id: Id = None
    deal_id: Id | None = None
    contact_id: Id | None = None
    result: RESULT = None


class CompleteIn(Input):
    result: RESULT = Field("", description="What came of it.")


class TaskPage(Page):
    items: list[TaskOut]


class TaskFilters(Window):
    owner_id: QueryId = None
    deal_id: QueryId = None
    contact_id: QueryId = None
    status: Literal["open", "done"] = Field(None, description="Open or done tasks only.")
    due_before: QueryMoment = Field(None, description="Due strictly before this moment.")
    due_after: QueryMoment = Field(None, description="Due at or after this moment.")
