"""Evaluating the rules: each kind of violation appears, and disappears when the manager fixes it
(at once, through the actions, without waiting for the scheduled run)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from voronka.activities.actions import do_complete_task, do_create_task, do_update_task
from voronka.control.actions import do_end_snooze, do_snooze_deal, do_update_rule_settings
from voronka.control.evaluate import evaluate_objects, evaluate_workspace, take_snapshot
from voronka.control.models import DailySnapshot, RuleSettings, Violation
from voronka.inbox.actions import do_comment_communication, do_log_communication
from voronka.sales.actions import do_move_deal, do_update_deal
from voronka.testing.factories import make_deal


def open_kinds(deal=None, **filters):
    qs = Violation.objects.filter(resolved_at__isnull=True, **filters)
    if deal is not None:
        qs = qs.filter(deal=deal)
    return sorted(qs.values_list("kind", flat=True))


def planned(org, deal, days=1, actor=None):
    return do_create_task(
        actor or deal.owner,
        goal="Договориться о встрече",
        due_at=timezone.now() + timedelta(days=days),
        deal=deal,
    )


@pytest.fixture
def fixes(django_capture_on_commit_callbacks):
    """Run what the actions schedule after their commit, as a real request would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


# -- no next step ---------------------------------------------------------------------------------


def test_an_open_deal_without_a_task_has_no_next_step_until_one_is_planned(org, fixes):
    deal = make_deal(org.manager1, org.pipeline)
    evaluate_workspace(org.workspace.id)
    violation = Violation.objects.get(deal=deal)
    assert (violation.kind, violation.manager, violation.subject) == (
        "no_next_step",
        org.manager1,
        f"deal:{deal.id}",
    )

    with fixes():
        planned(org, deal)

    violation.refresh_from_db()
    assert violation.resolved_at is not None
    assert open_kinds(deal) == []


def test_completing_the_only_task_leaves_the_deal_without_a_next_step(org, fixes):
    deal = make_deal(org.manager1, org.pipeline)
    task = planned(org, deal)
    evaluate_workspace(org.workspace.id)
    assert open_kinds(deal) == []

    with fixes():
        do_complete_task(org.manager1, task, result="Встреча назначена на четверг")

    assert open_kinds(deal) == ["no_next_step"]


def test_a_closed_deal_needs_no_next_step(org, fixes):
    deal = make_deal(org.manager1, org.pipeline)
    evaluate_workspace(org.workspace.id)
    with fixes():
        do_move_deal(org.manager1, deal, org.stage("Успешно"))
    assert open_kinds(deal) == []


# -- overdue tasks --------------------------------------------------------------------------------


def test_an_overdue_task_is_its_owners_violation_until_it_is_done(org, fixes):
    deal = make_deal(org.manager2, org.pipeline)
    task = do_create_task(
        org.manager2, goal="Перезвонить", due_at=timezone.now() - timedelta(hours=3), deal=deal
    )
    evaluate_workspace(org.workspace.id)
    violation = Violation.objects.get(kind="overdue_task")
    assert (violation.task, violation.manager, violation.deal) == (task, org.manager2, deal)

    with fixes():
        do_complete_task(org.manager2, task, result="Дозвонился, ждёт КП")

    violation.refresh_from_db()
    assert violation.resolved_at is not None


def test_moving_an_overdue_task_to_a_later_day_resolves_it(org, fixes):
    task = do_create_task(
        org.manager1, goal="Отправить КП", due_at=timezone.now() - timedelta(days=1)
    )
    evaluate_workspace(org.workspace.id)
    assert open_kinds(task=task) == ["overdue_task"]
    with fixes():
        do_update_task(org.manager1, task, due_at=timezone.now() + timedelta(hours=2))
    assert open_kinds(task=task) == []


def test_a_task_handed_to_a_colleague_becomes_the_colleagues_violation(org, fixes):
    task = do_create_task(
        org.manager1, goal="Отправить КП", due_at=timezone.now() - timedelta(days=1)
    )
    evaluate_workspace(org.workspace.id)
    with fixes():
        do_update_task(org.senior1, task, owner=org.manager2)
    violation = Violation.objects.get(task=task, resolved_at__isnull=True)
    assert violation.manager == org.manager2


# -- the comment after a communication ------------------------------------------------------------


def call(org, deal, *, minutes_ago=120, comment="", author=None):
    return do_log_communication(
        author or deal.owner,
        kind="call",
        deal=deal,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        duration_seconds=300,
        comment=comment,
    )


def test_a_call_without_a_comment_after_the_grace_period_is_a_violation_of_its_author(org):
    deal = make_deal(org.manager3, org.pipeline)
    planned(org, deal)
    comm = call(org, deal)
    evaluate_workspace(org.workspace.id)
    violation = Violation.objects.get(kind="missing_comment")
    assert (violation.communication, violation.manager, violation.deal) == (
        comm,
        org.manager3,
        deal,
    )
    assert violation.subject == f"communication:{comm.id}"


def test_a_call_still_in_its_grace_period_is_not_yet_a_violation(org):
    deal = make_deal(org.manager3, org.pipeline)
    call(org, deal, minutes_ago=20)  # a 5-minute call that ended 15 minutes ago; grace 30
    evaluate_workspace(org.workspace.id)
    assert open_kinds(kind="missing_comment") == []


def test_a_short_comment_does_not_count_and_a_real_one_resolves_the_violation(org, fixes):
    deal = make_deal(org.manager3, org.pipeline)
    comm = call(org, deal)
    evaluate_workspace(org.workspace.id)
    assert open_kinds(kind="missing_comment") == ["missing_comment"]

    with fixes():
        do_comment_communication(org.manager3, comm, comment="Ок, созвонились")
    assert open_kinds(kind="missing_comment") == ["missing_comment"]

    with fixes():
        do_comment_communication(
            org.manager3, comm, comment="Договорились о встрече в четверг в 11:00"
        )
    assert open_kinds(kind="missing_comment") == []


def test_emails_and_notes_need_no_comment(org):
    deal = make_deal(org.manager3, org.pipeline)
    for kind in ("email", "note"):
        do_log_communication(
            org.manager3, kind=kind, deal=deal, occurred_at=timezone.now() - timedelta(hours=5)
        )
    evaluate_workspace(org.workspace.id)
    assert open_kinds(kind="missing_comment") == []


def test_a_meeting_gets_its_own_grace_period(org):
    do_update_rule_settings(org.head, meeting_comment_grace_minutes=180)
    deal = make_deal(org.manager3, org.pipeline)
    do_log_communication(
        org.manager3,
        kind="meeting",
        deal=deal,
        occurred_at=timezone.now() - timedelta(hours=2),
        duration_seconds=3600,
    )
    evaluate_workspace(org.workspace.id)
    assert open_kinds(kind="missing_comment") == []


def test_a_comment_of_blanks_between_two_letters_does_not_count(org):
    deal = make_deal(org.manager3, org.pipeline)
    call(org, deal, comment="о" + " " * 200 + "к")
    evaluate_workspace(org.workspace.id)
    assert open_kinds(kind="missing_comment") == ["missing_comment"]


def test_a_call_flagged_long_ago_stays_flagged_until_it_is_commented(org, fixes):
    deal = make_deal(org.manager3, org.pipeline)
    comm = call(org, deal, minutes_ago=60 * 24 * 3)
    evaluate_workspace(org.workspace.id, full=True)
    evaluate_workspace(org.workspace.id, full=False)  # looks two days back only
    assert open_kinds(kind="missing_comment") == ["missing_comment"]
    with fixes():
        do_comment_communication(org.manager3, comm, comment="Клиент просит перезвонить в июне")
    assert open_kinds(kind="missing_comment") == []


# -- stalled deals and the next-contact gap --------------------------------------------------------


def test_a_deal_longer_in_its_stage_than_normal_is_stalled_even_with_a_fresh_task(org):
    deal = make_deal(org.manager1, org.pipeline, days_ago=10)  # «Новый лид», normally 2 days
    planned(org, deal)
    evaluate_workspace(org.workspace.id)
    violation = Violation.objects.get(deal=deal)
    assert violation.kind == "stalled"
    assert abs((violation.since - (deal.stage_entered_at + timedelta(days=2))).total_seconds()) < 1


def test_moving_a_stalled_deal_on_resolves_the_stall(org, fixes):
    deal = make_deal(org.manager1, org.pipeline, days_ago=10)
    planned(org, deal)
    evaluate_workspace(org.workspace.id)
    with fixes():
        do_move_deal(org.manager1, deal, org.stage("Квалификация"))
    assert open_kinds(deal) == []


def test_a_snooze_pauses_the_stall_and_ending_it_brings_the_flag_back(org, fixes):
    deal = make_deal(org.manager1, org.pipeline, days_ago=10)
    planned(org, deal)
    evaluate_workspace(org.workspace.id)
    assert open_kinds(deal) == ["stalled"]

    with fixes():
        snooze = do_snooze_deal(
            org.manager1,
            deal,
            until=timezone.now() + timedelta(days=5),
            reason="Директор клиента в отпуске до 10-го",
        )
    assert open_kinds(deal) == []
    evaluate_workspace(org.workspace.id)
    assert open_kinds(deal) == []

    with fixes():
        do_end_snooze(org.manager1, snooze)
    assert open_kinds(deal) == ["stalled"]


def test_a_snooze_does_not_excuse_a_missing_next_step(org, fixes):
    deal = make_deal(org.manager1, org.pipeline, days_ago=10)
    with fixes():
        do_snooze_deal(
            org.manager1, deal, until=timezone.now() + timedelta(days=5), reason="Ждём бюджет"
        )
    evaluate_workspace(org.workspace.id)
    assert open_kinds(deal) == ["no_next_step"]


def test_an_expired_snooze_pauses_nothing(org):
    deal = make_deal(org.manager1, org.pipeline, days_ago=10)
    planned(org, deal)
    do_snooze_deal(
        org.manager1, deal, until=timezone.now() + timedelta(days=1), reason="Ждём бюджет"
    )
    evaluate_workspace(org.workspace.id, now=timezone.now() + timedelta(days=2))
    assert "stalled" in open_kinds(deal)


def test_a_next_task_further_ahead_than_the_set_gap_is_flagged_until_brought_closer(org, fixes):
    do_update_rule_settings(org.head, next_contact_gap_days=7)
    deal = make_deal(org.manager1, org.pipeline)
    task = planned(org, deal, days=20)
    evaluate_workspace(org.workspace.id)
    assert open_kinds(deal) == ["next_contact_gap"]
    with fixes():
        do_update_task(org.manager1, task, due_at=timezone.now() + timedelta(days=3))
    assert open_kinds(deal) == []


def test_without_a_set_gap_the_typical_stay_in_the_stage_is_the_limit(org):
    new_lead, qualification = org.stage("Новый лид"), org.stage("Квалификация")
    now = timezone.now()
    for _ in range(5):  # five deals that each spent two days as a new lead
        past = make_deal(org.manager2, org.pipeline, days_ago=30)
        do_move_deal(org.manager2, past, qualification, at=now - timedelta(days=28))
    far = make_deal(org.manager1, org.pipeline)
    planned(org, far, days=5)
    near = make_deal(org.manager1, org.pipeline)
    planned(org, near, days=1)
    evaluate_workspace(org.workspace.id)
    assert open_kinds(far) == ["next_contact_gap"]
    assert open_kinds(near) == []
    assert new_lead.normal_days == 2


def test_too_little_history_sets_no_gap(org):
    deal = make_deal(org.manager1, org.pipeline)
    planned(org, deal, days=60)
    evaluate_workspace(org.workspace.id)
    assert open_kinds(deal) == []


# -- bookkeeping ---------------------------------------------------------------------------------


def test_a_new_owner_takes_over_the_deals_violations(org, fixes):
    deal = make_deal(org.manager1, org.pipeline)
    evaluate_workspace(org.workspace.id)
    with fixes():
        do_update_deal(org.senior1, deal, owner=org.manager2)
    violation = Violation.objects.get(deal=deal, resolved_at__isnull=True)
    assert violation.manager == org.manager2


def test_evaluating_again_changes_nothing(org):
    deal = make_deal(org.manager1, org.pipeline, days_ago=10)
    call(org, deal)
    first = evaluate_workspace(org.workspace.id)
    again = evaluate_workspace(org.workspace.id)
    assert first.opened == 3  # no next step, stalled, the call's comment
    assert (again.opened, again.resolved, again.handed_over) == (0, 0, 0)
    assert Violation.objects.count() == 3


def test_a_fixed_violation_that_returns_is_a_new_row_and_the_old_one_is_kept(org, fixes):
    deal = make_deal(org.manager1, org.pipeline)
    evaluate_workspace(org.workspace.id)
    with fixes():
        task = planned(org, deal)
    with fixes():
        do_complete_task(org.manager1, task, result="Сделано")
    assert Violation.objects.filter(deal=deal).count() == 2
    assert open_kinds(deal) == ["no_next_step"]


def test_the_evaluation_of_one_workspace_leaves_another_alone(org, other_org):
    make_deal(org.manager1, org.pipeline)
    theirs = make_deal(other_org.manager1, other_org.pipeline)
    evaluate_workspace(org.workspace.id)
    assert not Violation.objects.filter(deal=theirs).exists()
    assert Violation.objects.filter(workspace=org.workspace).exists()


def test_evaluating_one_deal_leaves_the_others_as_they_were(org):
    first = make_deal(org.manager1, org.pipeline)
    second = make_deal(org.manager1, org.pipeline)
    outcome = evaluate_objects(org.workspace.id, deals=[first.id])
    assert outcome.opened == 1
    assert open_kinds(first) == ["no_next_step"]
    assert open_kinds(second) == []


def test_the_snapshot_counts_open_violations_per_manager_and_kind(org):
    for _ in range(2):
        make_deal(org.manager1, org.pipeline)
    make_deal(org.manager3, org.pipeline, days_ago=10)
    evaluate_workspace(org.workspace.id)
    take_snapshot(org.workspace)
    take_snapshot(org.workspace)  # the day's snapshot is replaced, not doubled
    rows = {
        (s.manager.username.split("-")[0], s.kind): s.count
        for s in DailySnapshot.objects.select_related("manager")
    }
    assert rows == {
        ("manager1", "no_next_step"): 2,
        ("manager3", "no_next_step"): 1,
        ("manager3", "stalled"): 1,
    }


def test_rules_settings_exist_for_every_workspace_on_first_use(org):
    assert not RuleSettings.objects.filter(workspace=org.workspace).exists()
    evaluate_workspace(org.workspace.id)
    assert RuleSettings.objects.get(workspace=org.workspace).min_comment_length == 20


def test_the_fast_insert_writes_every_column_of_the_violations_table():
    from voronka.control.evaluate import INSERT_COLUMNS

    columns = {f.column for f in Violation._meta.concrete_fields if not f.primary_key}
    assert set(INSERT_COLUMNS) == columns
