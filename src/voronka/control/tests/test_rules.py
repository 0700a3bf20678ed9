from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from voronka.control.rules import (
    BadValue,
    DealFacts,
    FieldSpec,
    FieldType,
    FunnelWarning,
    OrderProblem,
    StageFacts,
    ViolationKind,
    WorkingHours,
    clean_value,
    comment_counts,
    comment_is_due,
    deal_violations,
    funnel_findings,
    latest_working_moment,
    missing_fields,
    order_problem,
    reminder_time,
    typical_days,
)

ZONES = [
    "Europe/Moscow",
    "Asia/Vladivostok",
    "Europe/Kaliningrad",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "UTC",
]
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


# -- stage gates


def test_missing_fields_names_blank_and_absent_ones_in_order():
    values = {"invoice_no": "  ", "amount": 0, "tags": [], "contact": None}
    required = ["invoice_no", "amount", "tags", "contact", "absent", "invoice_no"]
    assert missing_fields(required, values) == ["invoice_no", "tags", "contact", "absent"]


def test_zero_is_a_filled_amount():
    assert missing_fields(["amount"], {"amount": 0}) == []


def test_skipping_forward_is_refused_only_when_the_pipeline_forbids_it():
    opens = [1, 2, 3, 4]
    kw = dict(target_is_closed=False, current_is_closed=False, no_going_back=False)
    assert order_problem(1, 3, opens, no_skipping=True, **kw) is OrderProblem.SKIPS_FORWARD
    assert order_problem(1, 2, opens, no_skipping=True, **kw) is None
    assert order_problem(1, 3, opens, no_skipping=False, **kw) is None


def test_going_back_and_reopening_are_refused_when_forbidden_but_closing_never_is():
    opens = [1, 2, 3]
    assert (
        order_problem(
            3,
            1,
            opens,
            target_is_closed=False,
            current_is_closed=False,
            no_skipping=False,
            no_going_back=True,
        )
        is OrderProblem.MOVES_BACK
    )
    assert (
        order_problem(
            9,
            2,
            opens,
            target_is_closed=False,
            current_is_closed=True,
            no_skipping=False,
            no_going_back=True,
        )
        is OrderProblem.MOVES_BACK
    )
    assert (
        order_problem(
            1,
            9,
            opens,
            target_is_closed=True,
            current_is_closed=False,
            no_skipping=True,
            no_going_back=True,
        )
        is None
    )


# -- custom field values


@pytest.mark.parametrize(
    ("spec", "raw", "stored"),
    [
        (FieldSpec("n", FieldType.NUMBER), "1 500,5", "1500.5"),
        (FieldSpec("n", FieldType.NUMBER), "42", "42"),
        (FieldSpec("n", FieldType.NUMBER), "40", "40"),
        (FieldSpec("n", FieldType.NUMBER), "1e3", "1000"),
        (FieldSpec("m", FieldType.MONEY), "99,9", "99.90"),
        (FieldSpec("d", FieldType.DATE), "2026-11-25", "2026-11-25"),
        (FieldSpec("c", FieldType.CHOICE, ("А", "Б")), "Б", "Б"),
        (FieldSpec("mc", FieldType.MULTI_CHOICE, ("А", "Б", "В")), ["В", "А"], ["А", "В"]),
        (FieldSpec("t", FieldType.TEXT), "   ", None),
    ],
)
def test_custom_values_are_stored_in_one_form(spec, raw, stored):
    assert clean_value(spec, raw) == stored


@pytest.mark.parametrize(
    ("spec", "raw", "code"),
    [
        (FieldSpec("n", FieldType.NUMBER), "много", "not_a_number"),
        (FieldSpec("n", FieldType.NUMBER), "NaN", "not_a_number"),
        (FieldSpec("m", FieldType.MONEY), "-5", "negative"),
        (FieldSpec("d", FieldType.DATE), "31.02.2026", "not_a_date"),
        (FieldSpec("c", FieldType.CHOICE, ("А",)), "Я", "not_a_choice"),
        (FieldSpec("u", FieldType.USER), "кто-то", "not_a_user"),
    ],
)
def test_values_that_do_not_fit_their_field_are_refused_with_a_reason(spec, raw, code):
    with pytest.raises(BadValue) as exc:
        clean_value(spec, raw)
    assert exc.value.code == code


# -- working hours and reminders


@given(moments, st.sampled_from(ZONES))
def test_the_latest_working_moment_is_inside_working_hours_and_not_later(moment, tz):
    hours = WorkingHours(tz=tz)
    found = latest_working_moment(moment, hours)
    assert found is not None  # a working day always lies within two weeks
    assert found <= moment
    assert hours.contains(found)


@given(moments, st.sampled_from(ZONES), st.integers(min_value=1, max_value=48 * 60))
def test_a_reminder_falls_in_the_clients_working_hours_before_the_meeting(meeting, tz, lead_min):
    hours = WorkingHours(tz=tz)
    now = meeting - timedelta(days=10)
    at = reminder_time(meeting, timedelta(minutes=lead_min), hours, now)
    assume(at is not None)
    assert now <= at < meeting
    assert hours.contains(at)
    assert at <= meeting - timedelta(minutes=lead_min)


def test_a_monday_morning_meeting_is_reminded_on_friday_evening_in_the_clients_zone():
    vlad = ZoneInfo("Asia/Vladivostok")
    meeting = datetime(2026, 11, 30, 10, 0, tzinfo=vlad)  # Monday 10:00 in Vladivostok
    hours = WorkingHours(tz="Asia/Vladivostok")
    at = reminder_time(meeting, timedelta(hours=2), hours, now=meeting - timedelta(days=7))
    local = at.astimezone(vlad)
    assert (local.date(), local.time()) == (date(2026, 11, 27), time(18, 59))


def test_no_reminder_when_the_meeting_is_too_close_and_now_is_outside_hours():
    hours = WorkingHours(tz="Europe/Moscow")
    msk = ZoneInfo("Europe/Moscow")
    now = datetime(2026, 11, 25, 7, 0, tzinfo=msk)
    meeting = datetime(2026, 11, 25, 8, 30, tzinfo=msk)
    assert reminder_time(meeting, timedelta(hours=2), hours, now) is None


def test_working_hours_hold_across_a_dst_change():
    hours = WorkingHours(tz="Europe/Berlin")
    before = datetime(2026, 3, 29, 8, 30, tzinfo=UTC)  # 10:30 Berlin, the Sunday clocks change
    found = latest_working_moment(before, hours)
    assert found.astimezone(ZoneInfo("Europe/Berlin")).weekday() == 4  # the Friday before


# -- comments


def test_a_comment_is_due_only_after_the_grace_period():
    ended = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    grace = timedelta(minutes=30)
    assert not comment_is_due(ended, grace, ended + timedelta(minutes=29))
    assert comment_is_due(ended, grace, ended + timedelta(minutes=30))


def test_a_short_comment_does_not_count_and_spaces_are_not_words():
    assert not comment_counts("ок", 20)
    assert not comment_counts("ок" + " " * 40, 20)
    assert comment_counts("Договорились о встрече в четверг", 20)


# -- stalled deals


def _facts(**kw):
    now = datetime(2026, 11, 25, tzinfo=UTC)
    base = dict(
        entered_stage_at=now - timedelta(days=3),
        normal_days=5,
        next_task_due=now + timedelta(days=1),
        allowed_gap_days=7,
    )
    base.update(kw)
    return now, DealFacts(**base)


def test_a_deal_two_months_in_invoice_sent_is_stalled_even_with_a_fresh_task():
    now, facts = _facts(entered_stage_at=datetime(2026, 9, 20, tzinfo=UTC), normal_days=14)
    assert deal_violations(facts, now) == [ViolationKind.STALLED]


def test_a_deal_without_an_open_task_has_no_next_step():
    now, facts = _facts(next_task_due=None)
    assert deal_violations(facts, now) == [ViolationKind.NO_NEXT_STEP]


def test_a_next_task_too_far_away_is_a_gap():
    now, facts = _facts(next_task_due=datetime(2027, 1, 25, tzinfo=UTC))
    assert deal_violations(facts, now) == [ViolationKind.NEXT_CONTACT_GAP]


def test_a_snooze_pauses_stall_flags_but_not_the_missing_next_step():
    now, facts = _facts(
        entered_stage_at=datetime(2026, 1, 1, tzinfo=UTC),
        next_task_due=None,
        snoozed_until=datetime(2026, 12, 10, tzinfo=UTC),
    )
    assert deal_violations(facts, now) == [ViolationKind.NO_NEXT_STEP]


def test_the_typical_stay_needs_enough_history():
    assert typical_days([1, 2, 3]) is None
    assert typical_days([1, 2, 3, 10, 20]) == 3


# -- the funnel checks itself


def _stages(*specs):
    return [StageFacts(i, name, kind, i, days) for i, (name, kind, days) in enumerate(specs, 1)]


def test_parking_stages_and_stages_without_a_duration_are_named():
    stages = _stages(
        ("Новый", "open", 3),
        ("Отложено", "open", 10),
        ("Думает", "open", None),
        ("Условный отказ", "open", 5),
        ("Успешно", "won", None),
        ("Проиграно", "lost", None),
    )
    found = funnel_findings(stages, loss_reason_count=3)
    parking = {f.stage_ids[0] for f in found if f.code is FunnelWarning.PARKING_STAGE}
    assert parking == {2, 3, 4}
    assert [f.stage_ids for f in found if f.code is FunnelWarning.NO_NORMAL_DURATION] == [(3,)]


def test_a_lost_stage_without_reasons_is_a_warning():
    stages = _stages(("Новый", "open", 3), ("Успешно", "won", None), ("Проиграно", "lost", None))
    codes = [f.code for f in funnel_findings(stages, loss_reason_count=0)]
    assert codes == [FunnelWarning.LOST_WITHOUT_REASONS]


def test_two_stages_deals_take_one_or_the_other_are_alternatives_not_steps():
    stages = _stages(
        ("Новый", "open", 3),
        ("Встреча в офисе", "open", 5),
        ("Онлайн-демо", "open", 5),
        ("КП", "open", 5),
        ("Успешно", "won", None),
        ("Проиграно", "lost", None),
    )
    passes = {
        1: set(range(100)),
        2: set(range(0, 40)),
        3: set(range(40, 70)),
        4: set(range(0, 10)) | set(range(40, 50)),
    }
    found = funnel_findings(stages, loss_reason_count=2, passes=passes)
    assert [f.stage_ids for f in found if f.code is FunnelWarning.ALTERNATIVE_STAGES] == [(2, 3)]


def test_a_late_stage_few_deals_reach_is_still_a_step():
    stages = _stages(
        ("Новый", "open", 3),
        ("КП", "open", 5),
        ("Счёт", "open", 5),
        ("Успешно", "won", None),
        ("Проиграно", "lost", None),
    )
    passes = {1: set(range(200)), 2: set(range(30)), 3: set(range(4))}
    found = funnel_findings(stages, loss_reason_count=2, passes=passes)
    assert found == []
