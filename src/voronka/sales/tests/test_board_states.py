"""The board's cards show a deal's control states, and a column sorts by next step.

The states are the control app's own (stalled, next contact too far, snoozed) plus the next
step's (overdue, today, later, none); the sort reads ``Deal.next_step_due``, which every write
path keeps equal to the due time of the deal's earliest open task.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from voronka.activities.actions import (
    do_complete_task,
    do_create_task,
    do_reopen_task,
    do_update_task,
)
from voronka.control.actions import do_snooze_deal, do_update_rule_settings
from voronka.control.evaluate import evaluate_objects
from voronka.control.models import Violation
from voronka.control.rules import ViolationKind
from voronka.sales import rules
from voronka.sales.actions import do_move_deal, do_update_deal
from voronka.sales.models import Deal
from voronka.sales.next_steps import sync_next_step_due
from voronka.sales.rules import NextStepState, card_state, next_step_order
from voronka.testing.factories import make_deal

BOARD = reverse("sales:board")
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=MSK)


def signed_in(client, user):
    client.force_login(user)


def column_of(response, name):
    return next(c for c in response.context["columns"] if c.stage.name == name)


def later_today():
    """A moment still today in the user's zone (the test users keep Moscow time)."""
    now = timezone.now().astimezone(MSK)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), MSK)
    return now + min(timedelta(hours=2), (midnight - now) / 2)


# --- the rules, as plain functions ------------------------------------------------------------


def state(**given):
    facts = {
        "entered_at": NOW - timedelta(days=1),
        "normal_days": 5,
        "next_due": NOW + timedelta(days=1),
        "allowed_gap_days": 10.0,
        "snoozed_until": None,
        "now": NOW,
    }
    return card_state(**{**facts, **given})


def test_a_deal_longer_in_its_stage_than_the_normal_duration_is_stalled():
    assert state(entered_at=NOW - timedelta(days=6)).stalled
    assert not state(entered_at=NOW - timedelta(days=5)).stalled
    assert not state(entered_at=NOW - timedelta(days=60), normal_days=None).stalled


def test_a_next_contact_further_than_the_stage_allows_is_too_far():
    assert state(next_due=NOW + timedelta(days=11)).too_far
    assert not state(next_due=NOW + timedelta(days=9)).too_far
    assert not state(next_due=NOW + timedelta(days=40), allowed_gap_days=None).too_far


def test_the_next_step_state_is_overdue_today_later_or_none():
    assert state(next_due=NOW - timedelta(minutes=1)).next_step == NextStepState.OVERDUE
    assert state(next_due=NOW + timedelta(hours=3)).next_step == NextStepState.TODAY
    assert state(next_due=NOW + timedelta(days=2)).next_step == NextStepState.FUTURE
    assert state(next_due=None).next_step == NextStepState.NONE


def test_a_snooze_pauses_the_stall_flags_but_not_the_missing_next_step():
    paused = state(
        entered_at=NOW - timedelta(days=30),
        next_due=None,
        snoozed_until=NOW + timedelta(days=3),
    )
    assert paused.snoozed and paused.snoozed_until == NOW + timedelta(days=3)
    assert not paused.stalled and not paused.too_far
    assert paused.next_step == NextStepState.NONE
    over = state(entered_at=NOW - timedelta(days=30), snoozed_until=NOW - timedelta(hours=1))
    assert not over.snoozed and over.stalled  # a snooze that ran out pauses nothing


def test_next_step_order_puts_overdue_then_today_then_later_then_none():
    deals = [
        ("none-2", None, 2),
        ("later", NOW + timedelta(days=3), 5),
        ("today", NOW + timedelta(hours=2), 9),
        ("overdue-recent", NOW - timedelta(hours=1), 1),
        ("none-1", None, 1),
        ("overdue-old", NOW - timedelta(days=4), 7),
    ]
    ordered = sorted(deals, key=lambda d: next_step_order(d[1], d[2]))
    assert [d[0] for d in ordered] == [
        "overdue-old",
        "overdue-recent",
        "today",
        "later",
        "none-1",
        "none-2",
    ]


def test_a_next_step_cursor_reads_back_what_it_wrote():
    due = datetime(2026, 3, 10, 9, 30, 15, 123456, tzinfo=UTC)
    assert rules.parse_next_step_cursor(rules.next_step_cursor(due, 42)) == (due, 42)
    assert rules.parse_next_step_cursor(rules.next_step_cursor(None, 7)) == (None, 7)
    for bad in ("", "x.1", "12", "none.", "none.x", "1.2.3", None):
        assert rules.parse_next_step_cursor(bad) is None


# --- Deal.next_step_due, kept by every write path ---------------------------------------------


def due_of(deal):
    return Deal.objects.values_list("next_step_due", flat=True).get(pk=deal.pk)


def test_every_task_write_keeps_the_deals_next_step_due(org):
    now = timezone.now()
    deal = make_deal(org.manager1, org.pipeline)
    other = make_deal(org.manager1, org.pipeline)
    assert due_of(deal) is None

    later = do_create_task(org.manager1, deal=deal, goal="Созвон", due_at=now + timedelta(days=3))
    assert due_of(deal) == later.due_at
    sooner = do_create_task(org.manager1, deal=deal, goal="КП", due_at=now + timedelta(days=1))
    assert due_of(deal) == sooner.due_at

    do_update_task(org.manager1, sooner, due_at=now + timedelta(days=5))  # rescheduled
    assert due_of(deal) == later.due_at

    do_complete_task(org.manager1, later, result="Договорились")
    assert due_of(deal) == now + timedelta(days=5)

    do_update_task(org.manager1, sooner, deal=other)  # moved to another deal
    assert due_of(deal) is None and due_of(other) == now + timedelta(days=5)

    do_reopen_task(org.manager1, later)
    assert due_of(deal) == later.due_at

    do_complete_task(org.manager1, later)
    assert due_of(deal) is None


def test_moving_and_editing_a_deal_keep_its_next_step_due(org):
    deal = make_deal(org.manager1, org.pipeline)
    stale = Deal.objects.get(pk=deal.pk)  # loaded before the task: next_step_due None
    task = do_create_task(
        org.manager1, deal=deal, goal="Встреча", due_at=timezone.now() + timedelta(days=2)
    )
    do_update_deal(org.manager1, stale, title="Новое название")
    stale.title = "Ещё одно"
    stale.save()  # a save from an instance loaded earlier leaves the next step alone
    assert due_of(deal) == task.due_at
    do_move_deal(org.manager1, deal, org.stage("Квалификация"))
    assert due_of(deal) == task.due_at
    do_move_deal(org.manager1, deal, org.stage("Проиграно"), loss_reason="Дорого")
    assert due_of(deal) == task.due_at  # still the earliest open task, whatever the stage


def test_a_bulk_load_and_the_migration_fill_the_next_step_due(org):
    from importlib import import_module

    deal = make_deal(org.manager1, org.pipeline)
    bare = make_deal(org.manager1, org.pipeline)
    task = do_create_task(
        org.manager1, deal=deal, goal="Звонок", due_at=timezone.now() + timedelta(hours=5)
    )
    Deal.objects.filter(pk=deal.pk).update(next_step_due=None)  # as a bulk load leaves it
    Deal.objects.filter(pk=bare.pk).update(next_step_due=timezone.now())  # a stale value
    sync_next_step_due(workspace_id=org.workspace.id)
    assert due_of(deal) == task.due_at and due_of(bare) is None

    Deal.objects.filter(pk=deal.pk).update(next_step_due=None)
    migration = import_module("voronka.sales.migrations.0006_deal_next_step_due")
    migration.fill(django_apps, None)
    assert due_of(deal) == task.due_at and due_of(bare) is None


# --- the board --------------------------------------------------------------------------------


def test_cards_show_the_same_states_the_control_app_flags(client, org):
    do_update_rule_settings(org.head, next_contact_gap_days=5)
    now = timezone.now()
    stalled = make_deal(org.manager1, org.pipeline, title="Завис", days_ago=10)
    do_create_task(org.manager1, deal=stalled, goal="Дожать", due_at=now + timedelta(days=1))
    far = make_deal(org.manager1, org.pipeline, title="Далеко")
    do_create_task(org.manager1, deal=far, goal="Позвонить", due_at=now + timedelta(days=12))
    paused = make_deal(org.manager1, org.pipeline, title="На паузе", days_ago=10)
    do_snooze_deal(org.manager1, paused, until=now + timedelta(days=7), reason="Директор в отпуске")
    evaluate_objects(org.workspace.id, deals=[stalled.id, far.id, paused.id])

    signed_in(client, org.head)
    response = client.get(BOARD)
    cards = {d.id: d for d in column_of(response, "Новый лид").cards}
    flagged = {
        (v.deal_id, v.kind)
        for v in Violation.objects.filter(workspace=org.workspace, resolved_at__isnull=True)
    }
    for deal_id, card in cards.items():
        assert card.state.stalled == ((deal_id, ViolationKind.STALLED) in flagged)
        assert card.state.too_far == ((deal_id, ViolationKind.NEXT_CONTACT_GAP) in flagged)
        assert (card.state.next_step == "none") == (
            (deal_id, ViolationKind.NO_NEXT_STEP) in flagged
        )
    assert cards[stalled.id].state.stalled and cards[far.id].state.too_far
    assert cards[paused.id].state.snoozed and not cards[paused.id].state.stalled

    page = response.content.decode()
    assert 'data-flag="stalled"' in page and 'data-flag="too-far"' in page
    assert 'data-flag="snoozed"' in page and "Директор в отпуске" in page


def test_a_column_sorted_by_next_step_goes_overdue_today_later_none(client, org):
    now = timezone.now()
    plan = [
        ("Без шага", None, 1),
        ("Позже", now + timedelta(days=4), 2),
        ("Сегодня", later_today(), 3),
        ("Просрочено вчера", now - timedelta(days=1), 4),
        ("Просрочено давно", now - timedelta(days=5), 5),
        ("Ещё без шага", None, 6),
    ]
    made = {}
    for title, due, days_ago in plan:
        deal = make_deal(org.manager1, org.pipeline, title=title, days_ago=days_ago)
        made[title] = deal
        if due is not None:
            do_create_task(org.manager1, deal=deal, goal="Шаг", due_at=due)
    signed_in(client, org.manager1)

    by_date = column_of(client.get(BOARD), "Новый лид")
    assert [d.title for d in by_date.cards][:2] == ["Без шага", "Позже"]  # newest in stage first

    response = client.get(BOARD, {"sort": "next_step"})
    cards = column_of(response, "Новый лид").cards
    assert [d.title for d in cards] == [
        "Просрочено давно",
        "Просрочено вчера",
        "Сегодня",
        "Позже",
        "Без шага",
        "Ещё без шага",
    ]
    assert [d.next_state for d in cards] == [
        "overdue",
        "overdue",
        "today",
        "future",
        "none",
        "none",
    ]
    page = response.content.decode()
    assert page.index("Просрочено давно") < page.index("Сегодня") < page.index("Ещё без шага")
    assert '<option value="next_step" selected>' in page


def test_show_more_keeps_the_next_step_order_and_the_filters(client, org):
    now = timezone.now()
    for i in range(15):
        deal = make_deal(org.manager1, org.pipeline, title=f"С шагом {i:02d}")
        do_create_task(org.manager1, deal=deal, goal="Шаг", due_at=now + timedelta(hours=i + 1))
    for i in range(10):
        make_deal(org.manager1, org.pipeline, title=f"Без шага {i:02d}")
    make_deal(org.manager3, org.pipeline, title="Чужая сделка")
    signed_in(client, org.head)
    params = {"sort": "next_step", "owner": org.manager1.id}
    response = client.get(BOARD, params)
    column = column_of(response, "Новый лид")
    assert column.count == 25 and column.has_more and column.after
    first = [d.title for d in column.cards]
    assert first == [f"С шагом {i:02d}" for i in range(15)] + [
        f"Без шага {i:02d}" for i in range(5)
    ]
    button = f"after={column.after}"
    page = response.content.decode()
    assert button in page and "sort=next_step" in page and f"owner={org.manager1.id}" in page

    more = client.get(
        reverse("sales:board_column", args=[column.stage.id]),
        {**params, "after": column.after},
        HTTP_HX_REQUEST="true",
    )
    rest = [d.title for d in more.context["column"].cards]
    assert rest == [f"Без шага {i:02d}" for i in range(5, 10)]
    assert not more.context["column"].has_more


def test_the_sorted_board_stays_within_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    now = timezone.now()
    for i in range(30):
        deal = make_deal(org.manager1, org.pipeline, title=f"D{i}")
        if i % 2:
            do_create_task(org.manager1, deal=deal, goal="g", due_at=now + timedelta(days=i))
    signed_in(client, org.head)
    client.get(BOARD, {"sort": "next_step"})  # warm the session and the typical stays
    with django_assert_max_num_queries(27):  # one of them: the products to filter by
        client.get(BOARD, {"sort": "next_step"})


def test_an_unknown_sort_falls_back_to_the_stage_date(client, org):
    make_deal(org.manager1, org.pipeline, title="Первая", days_ago=2)
    make_deal(org.manager1, org.pipeline, title="Вторая")
    signed_in(client, org.manager1)
    response = client.get(BOARD, {"sort": "drop table"})
    assert response.context["filters"].sort == ""
    assert [d.title for d in column_of(response, "Новый лид").cards] == ["Вторая", "Первая"]
