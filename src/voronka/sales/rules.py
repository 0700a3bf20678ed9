"""Decisions about deals and stages, as plain functions over plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from voronka.control.rules import DealFacts, ViolationKind, deal_violations


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


# -- The board's cards: their control states and their order by next step ----------------------


@dataclass(frozen=True)
class CardState:
    """What a board card of an open deal shows at a glance.

    ``stalled`` and ``too_far`` are the control app's flags (``control.rules.deal_violations``),
    so a card says exactly what the control screen counts; a snooze pauses them (the card shows
    the snooze instead), never the next step itself.
    """

    next_step: NextStepState
    stalled: bool = False
    too_far: bool = False
    snoozed_until: datetime | None = None

    @property
    def snoozed(self) -> bool:
        return self.snoozed_until is not None


def card_state(
    *,
    entered_at: datetime,
    normal_days: int | None,
    next_due: datetime | None,
    allowed_gap_days: float | None,
    snoozed_until: datetime | None,
    now: datetime,
) -> CardState:
    """The states of an open deal's card, decided by the same rules as the control app's."""
    kinds = deal_violations(
        DealFacts(entered_at, normal_days, next_due, allowed_gap_days, snoozed_until), now
    )
    active_snooze = snoozed_until if snoozed_until is not None and snoozed_until > now else None
    return CardState(
        next_step=next_step_state(next_due, now),
        stalled=ViolationKind.STALLED in kinds,
        too_far=ViolationKind.NEXT_CONTACT_GAP in kinds,
        snoozed_until=active_snooze,
    )


def next_step_order(due_at: datetime | None, deal_id: int) -> tuple:
    """The board's order by next step: by due time (overdue, then today, then later), the deals
    without a next step last, oldest first. Ascending due times give the states' order, since
    an overdue task is due before now and today's before tomorrow's."""
    return (due_at is None, due_at.timestamp() if due_at is not None else 0.0, deal_id)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def next_step_cursor(due_at: datetime | None, deal_id: int) -> str:
    """Where a page in next-step order ended, for the next page's query string."""
    if due_at is None:
        return f"none.{deal_id}"
    micros = (due_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{deal_id}"


def parse_next_step_cursor(text: str | None) -> tuple[datetime | None, int] | None:
    """``(due_at in UTC or None, deal id)`` from ``next_step_cursor``; None when malformed."""
    head, _sep, tail = (text or "").partition(".")
    if not tail.isdigit():
        return None
    deal_id = int(tail)
    if head == "none":
        return None, deal_id
    try:
        micros = int(head)
        due = EPOCH + timedelta(microseconds=micros)
    except (ValueError, OverflowError):
        return None
    return due, deal_id


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
