from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from voronka.sales.rules import (
    NextStepState,
    StageInfo,
    days_in_stage,
    move_problems,
    next_step_state,
)

MSK = timezone(timedelta(hours=3))


def test_a_task_due_before_now_is_overdue():
    now = datetime(2026, 3, 2, 12, 0, tzinfo=MSK)
    assert next_step_state(now - timedelta(minutes=1), now) is NextStepState.OVERDUE


def test_a_task_later_today_in_the_users_time_zone_is_today():
    now = datetime(2026, 3, 2, 1, 0, tzinfo=MSK)  # 22:00 UTC the day before
    due = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 23:00 in Moscow, same Moscow day
    assert next_step_state(due, now) is NextStepState.TODAY


def test_no_task_is_none():
    assert next_step_state(None, datetime.now(UTC)) is NextStepState.NONE


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=0, max_value=10_000))
def test_days_in_stage_counts_whole_days_from_entry(entered, minutes):
    now = entered + timedelta(minutes=minutes)
    assert days_in_stage(entered, now) == minutes // (24 * 60)


def test_lost_needs_a_reason_and_other_pipelines_are_refused():
    here = StageInfo(1, 10, "open")
    lost = StageInfo(2, 10, "lost")
    assert move_problems(here, lost, loss_reason="  ") == {"loss_reason": "required"}
    assert move_problems(here, lost, loss_reason="Дорого") == {}
    assert move_problems(here, StageInfo(3, 11, "open"), loss_reason="") == {
        "stage": "other_pipeline"
    }
    assert move_problems(here, StageInfo(4, 10, "open", True), loss_reason="") == {
        "stage": "archived"
    }
