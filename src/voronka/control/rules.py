"""The rules of working in the CRM (регламент), as plain functions over plain values.

Nothing here touches the database: the jobs and actions gather the facts, these functions decide.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from zoneinfo import ZoneInfo


class ViolationKind(StrEnum):
    """What a deal, task or communication can be flagged for, in the order the head reads them."""

    NO_NEXT_STEP = "no_next_step"
    OVERDUE_TASK = "overdue_task"
    MISSING_COMMENT = "missing_comment"
    STALLED = "stalled"
    NEXT_CONTACT_GAP = "next_contact_gap"


# -- Stage gates ---------------------------------------------------------------------------------


def is_filled(value) -> bool:
    """A required field counts as filled when it holds something other than blanks or nothing."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return len(value) > 0
    return True


def missing_fields(required: Iterable[str], values: Mapping[str, object]) -> list[str]:
    """The required fields that ``values`` leaves empty, in the order they are required."""
    seen: set[str] = set()
    out = []
    for name in required:
        if name in seen:
            continue
        seen.add(name)
        if not is_filled(values.get(name)):
            out.append(name)
    return out


class OrderProblem(StrEnum):
    SKIPS_FORWARD = "skips_forward"
    MOVES_BACK = "moves_back"


def order_problem(
    current_position: int,
    target_position: int,
    open_positions: Iterable[int],
    *,
    target_is_closed: bool,
    current_is_closed: bool,
    no_skipping: bool,
    no_going_back: bool,
) -> OrderProblem | None:
    """Whether a move breaks the pipeline's optional order rules.

    Closing a deal (won or lost) is never skipping; reopening a closed deal is going back.
    """
    if target_is_closed:
        return None
    if current_is_closed:
        return OrderProblem.MOVES_BACK if no_going_back else None
    if target_position < current_position:
        return OrderProblem.MOVES_BACK if no_going_back else None
    if no_skipping:
        between = [p for p in open_positions if current_position < p < target_position]
        if between:
            return OrderProblem.SKIPS_FORWARD
    return None


# -- Custom field values -------------------------------------------------------------------------


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    FILE = "file"
    USER = "user"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    type: FieldType
    choices: tuple[str, ...] = ()


class BadValue(ValueError):
    """A value that does not fit its field; ``code`` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def clean_value(spec: FieldSpec, raw):
    """The stored form of a custom field's value (JSON-friendly), or ``BadValue``."""
    if not is_filled(raw):
        return None
    t = spec.type
    if t == FieldType.TEXT:
        return str(raw).strip()
    if t in (FieldType.NUMBER, FieldType.MONEY):
        try:
            number = Decimal(str(raw).replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except InvalidOperation:
            raise BadValue("not_a_number") from None
        if not number.is_finite():
            raise BadValue("not_a_number")
        if t == FieldType.MONEY:
            if number < 0:
                raise BadValue("negative")
            return str(number.quantize(Decimal("0.01")))
        # Plain notation: 40 stays "40", never "4E+1".
        return format(number.normalize(), "f")
    if t == FieldType.DATE:
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise BadValue("not_a_date") from None
    if t == FieldType.CHOICE:
        value = str(raw).strip()
        if value not in spec.choices:
            raise BadValue("not_a_choice")
        return value
    if t == FieldType.MULTI_CHOICE:
        values = [raw] if isinstance(raw, str) else list(raw)
        values = [str(v).strip() for v in values if is_filled(v)]
        if any(v not in spec.choices for v in values):
            raise BadValue("not_a_choice")
        return [c for c in spec.choices if c in values] or None
    if t == FieldType.USER:
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise BadValue("not_a_user") from None
    if t == FieldType.FILE:
        return str(raw)
    raise BadValue("unknown_type")


# -- Time: working hours, grace periods ----------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    """When it is decent to write to someone: weekdays (0 = Monday) and hours in their zone."""

    tz: str = "Europe/Moscow"
    start: time = time(9, 0)
    end: time = time(19, 0)
    days: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone())
        return local.weekday() in self.days and self.start <= local.time() < self.end


def _window(day: date, hours: WorkingHours) -> tuple[datetime, datetime]:
    tz = hours.zone()
    start = datetime.combine(day, hours.start, tz)
    end = datetime.combine(day, hours.end, tz)
    # Round-trip through UTC so a window on a DST-change day has its real length.
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def latest_working_moment(before: datetime, hours: WorkingHours, *, max_days: int = 14):
    """The latest moment not after ``before`` inside working hours, or None within ``max_days``."""
    if not hours.days or hours.start >= hours.end:
        return None
    if hours.contains(before):
        return before
    local_day = before.astimezone(hours.zone()).date()
    for back in range(max_days + 1):
        day = local_day - timedelta(days=back)
        if day.weekday() not in hours.days:
            continue
        start, end = _window(day, hours)
        if start <= before:
            # The window closes at ``end``; the last moment inside it is a minute before.
            return min(before, end - timedelta(minutes=1))
    return None


def reminder_time(
    meeting_at: datetime, lead: timedelta, hours: WorkingHours, now: datetime
) -> datetime | None:
    """When to remind a client of a meeting: ``lead`` ahead, moved back into their working hours.

    None when there is no decent moment left before the meeting (it is too close, or the only
    working moments are already past).
    """
    wanted = meeting_at - lead
    moment = latest_working_moment(wanted, hours)
    if moment is None or moment >= meeting_at:
        return None
    if moment < now:
        # Too late for the planned moment: remind now if now is decent and before the meeting.
        return now if hours.contains(now) and now < meeting_at else None
    return moment


def comment_is_due(ended_at: datetime, grace: timedelta, now: datetime) -> bool:
    """A communication must have its comment once the grace period after it has passed."""
    return now >= ended_at + grace


def comment_counts(comment: str | None, min_length: int) -> bool:
    """Only a comment of at least ``min_length`` meaningful characters counts."""
    return len(" ".join((comment or "").split())) >= min_length


@dataclass(frozen=True)
class MessageFacts:
    """One message of a conversation, as the comment rule needs it.

    ``ours`` is true for what the company's side wrote (an outgoing message, or one a manager
    logged by hand); ``commented`` whether its comment counts.
    """

    id: int
    at: datetime
    ours: bool
    author_id: int | None
    commented: bool


@dataclass(frozen=True)
class OwedComment:
    """The comment a manager owes for one exchange of a conversation.

    It is owed on ``message_id``, the manager's last message of the exchange; ``ended_at`` is
    the exchange's last message (either side), and the comment is due a grace period later.
    """

    message_id: int
    author_id: int
    ended_at: datetime
    due_at: datetime
    commented: bool


def conversation_exchanges(
    messages: Iterable[MessageFacts], grace: timedelta
) -> list[list[MessageFacts]]:
    """A conversation's messages cut into exchanges: a pause of ``grace`` or more ends one."""
    out: list[list[MessageFacts]] = []
    for m in sorted(messages, key=lambda m: (m.at, m.id)):
        if out and m.at - out[-1][-1].at < grace:
            out[-1].append(m)
        else:
            out.append([m])
    return out


def owed_conversation_comments(
    messages: Iterable[MessageFacts], grace: timedelta
) -> list[OwedComment]:
    """One comment per exchange the company's side took part in, owed by its last writer.

    A conversation in a messenger is judged as a whole, not message by message: the client's
    messages alone owe nothing (an unanswered client is the first-response rule's business),
    and a comment on any message of the exchange covers it.
    """
    owed = []
    for exchange in conversation_exchanges(messages, grace):
        ours = [m for m in exchange if m.ours and m.author_id is not None]
        if not ours:
            continue
        last = ours[-1]
        ended = exchange[-1].at
        owed.append(
            OwedComment(
                message_id=last.id,
                author_id=last.author_id,
                ended_at=ended,
                due_at=ended + grace,
                commented=any(m.commented for m in exchange),
            )
        )
    return owed


# -- Deals that stall ----------------------------------------------------------------------------


def days_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier) / timedelta(days=1)


def is_stalled(entered_at: datetime, normal_days: int | None, now: datetime) -> bool:
    """Longer in the stage than its normal duration, counted from entering the stage."""
    if normal_days is None:
        return False
    return days_between(entered_at, now) > normal_days


def next_contact_too_far(next_due: datetime | None, now: datetime, allowed_days: float | None):
    """The next task is further away than the pipeline allows for this stage."""
    if next_due is None or allowed_days is None:
        return False
    return days_between(now, next_due) > allowed_days


def typical_days(durations_days: Iterable[float], *, minimum_sample: int = 5) -> float | None:
    """The median time in a stage, once there are enough finished stays to trust it."""
    values = sorted(d for d in durations_days if d >= 0)
    if len(values) < minimum_sample:
        return None
    return statistics.median(values)


@dataclass(frozen=True)
class DealFacts:
    """What the evaluation needs to know of one open deal."""

    entered_stage_at: datetime
    normal_days: int | None
    next_task_due: datetime | None
    allowed_gap_days: float | None
    snoozed_until: datetime | None = None


def deal_violations(facts: DealFacts, now: datetime) -> list[ViolationKind]:
    """The flags an open deal carries now. A snooze pauses the stall flags, not the next step."""
    found = []
    if facts.next_task_due is None:
        found.append(ViolationKind.NO_NEXT_STEP)
    snoozed = facts.snoozed_until is not None and facts.snoozed_until > now
    if not snoozed:
        if is_stalled(facts.entered_stage_at, facts.normal_days, now):
            found.append(ViolationKind.STALLED)
        if next_contact_too_far(facts.next_task_due, now, facts.allowed_gap_days):
            found.append(ViolationKind.NEXT_CONTACT_GAP)
    return found


# -- The funnel checks itself --------------------------------------------------------------------

_PARKING = re.compile(
    r"отлож|подума|думает|размышл|условн\w*\s+отказ|на\s+паузе|пауза|заморож|"
    r"postpon|thinking|on\s+hold|paused|conditional\s+refus|frozen|later",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StageFacts:
    id: int
    name: str
    kind: str  # open / won / lost
    position: int
    normal_days: int | None


class FunnelWarning(StrEnum):
    PARKING_STAGE = "parking_stage"
    NO_NORMAL_DURATION = "no_normal_duration"
    LOST_WITHOUT_REASONS = "lost_without_reasons"
    ALTERNATIVE_STAGES = "alternative_stages"
    NO_WON_STAGE = "no_won_stage"
    NO_LOST_STAGE = "no_lost_stage"


@dataclass(frozen=True)
class Finding:
    code: FunnelWarning
    stage_ids: tuple[int, ...]


def funnel_findings(
    stages: list[StageFacts],
    *,
    loss_reason_count: int,
    passes: Mapping[int, set[int]] | None = None,
    min_deals: int = 10,
) -> list[Finding]:
    """Warnings about a pipeline's design.

    ``passes`` maps each stage id to the ids of the deals that ever entered it. Of two
    consecutive open stages, the deals of the later one normally came through the earlier one;
    when almost none did (under 20 % of the smaller group), deals go to one *or* the other: the
    stages are alternatives, not steps.
    """
    out: list[Finding] = []
    opens = sorted((s for s in stages if s.kind == "open"), key=lambda s: s.position)
    for s in opens:
        if _PARKING.search(s.name):
            out.append(Finding(FunnelWarning.PARKING_STAGE, (s.id,)))
    for s in opens:
        if s.normal_days is None:
            out.append(Finding(FunnelWarning.NO_NORMAL_DURATION, (s.id,)))
    kinds = {s.kind for s in stages}
    if "won" not in kinds:
        out.append(Finding(FunnelWarning.NO_WON_STAGE, ()))
    if "lost" not in kinds:
        out.append(Finding(FunnelWarning.NO_LOST_STAGE, ()))
    elif loss_reason_count == 0:
        out.append(
            Finding(
                FunnelWarning.LOST_WITHOUT_REASONS, tuple(s.id for s in stages if s.kind == "lost")
            )
        )
    if passes:
        for a, b in zip(opens, opens[1:], strict=False):
            da, db = passes.get(a.id, set()), passes.get(b.id, set())
            smaller = min(len(da), len(db))
            if len(da | db) >= min_deals and smaller >= 3 and len(da & db) < 0.2 * smaller:
                out.append(Finding(FunnelWarning.ALTERNATIVE_STAGES, (a.id, b.id)))
    return out
