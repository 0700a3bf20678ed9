"""Decisions about deals and stages, as plain functions over plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class NextStepState(StrEnum):
    """How a deal's next task stands, in the order a manager must deal with them."""

    OVERDUE = "overdue"
    TODAY = "today"
    FUTURE = "future"
    NONE = "none"


def next_step_state(due_at: datetime | None, now: datetime) -> NextStepState:
    """Overdue, today (in ``now``'s time zone), in the future, or no next task at all."""
    if due_at is None:
        return NextStepState.NONE
    if due_at < now:
        return NextStepState.OVERDUE
    if due_at.astimezone(now.tzinfo).date() == now.date():
        return NextStepState.TODAY
    return NextStepState.FUTURE


def days_in_stage(entered_at: datetime, now: datetime) -> int:
    """Whole days since the deal entered its stage (never negative)."""
    return max(0, (now - entered_at) // timedelta(days=1))


@dataclass(frozen=True)
class StageInfo:
    id: int
    pipeline_id: int
    kind: str
    is_archived: bool = False


def move_problems(current: StageInfo, target: StageInfo, *, loss_reason: str) -> dict[str, str]:
    """What stops a deal at ``current`` from entering ``target``: field name → problem code.

    An empty answer means the move is allowed.
    """
    problems: dict[str, str] = {}
    if target.pipeline_id != current.pipeline_id:
        problems["stage"] = "other_pipeline"
    elif target.is_archived:
        problems["stage"] = "archived"
    elif target.id == current.id:
        problems["stage"] = "same_stage"
    if target.kind == "lost" and not (loss_reason or "").strip():
        problems["loss_reason"] = "required"
    return problems


def stage_deletion_refusal(deal_count: int) -> int | None:
    """A stage holding deals cannot be deleted; the count is what the refusal reports."""
    return deal_count if deal_count > 0 else None
