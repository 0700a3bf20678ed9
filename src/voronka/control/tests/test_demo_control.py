"""The demo company's control screen: real violations of every kind, each gone once its manager
fixes it (at once through the actions, and still gone when the rules are evaluated again)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from voronka.accounts.models import User
from voronka.activities.actions import do_complete_task, do_plan_next_step, do_update_task
from voronka.activities.models import Task
from voronka.control.evaluate import evaluate_workspace
from voronka.control.kinds import KINDS
from voronka.control.models import Violation
from voronka.core.demo import build_demo
from voronka.inbox.actions import do_comment_communication
from voronka.sales.actions import do_move_deal
from voronka.sales.models import Stage, StageKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return build_demo(seed=11, scale=0.1)


def screen_counts(client, workspace) -> dict[str, int]:
    client.force_login(User.objects.get(workspace=workspace, username="head"))
    response = client.get(reverse("control:screen"))
    assert response.status_code == 200
    return {card["kind"]: card["count"] for card in response.context["cards"]}


def is_open(violation) -> bool:
    return Violation.objects.filter(
        kind=violation.kind, subject=violation.subject, resolved_at__isnull=True
    ).exists()


def open_of(workspace, kind):
    return Violation.objects.filter(
        workspace=workspace, kind=kind, resolved_at__isnull=True
    ).order_by("id")


def next_open_stage_without_requirements(deal):
    return (
        Stage.objects.filter(
            pipeline_id=deal.pipeline_id,
            kind=StageKind.OPEN,
            is_archived=False,
            position__gt=deal.stage.position,
        )
        .order_by("position")
        .first()
    )


def fix(violation, now):
    """What the manager does about it, through the same actions the pages use."""
    manager = violation.manager
    kind = violation.kind
    if kind == "no_next_step":
        do_plan_next_step(
            manager,
            violation.deal,
            goal="Договориться о встрече",
            due_at=now + timedelta(days=1),
            type="call",
        )
    elif kind == "overdue_task":
        do_complete_task(manager, violation.task, result="Созвонились, клиент ждёт КП")
    elif kind == "missing_comment":
        do_comment_communication(
            manager,
            violation.communication,
            comment="Обсудили объём поставки, клиент ждёт КП до пятницы",
        )
    elif kind == "next_contact_gap":
        task = (
            Task.objects.filter(deal=violation.deal, done_at__isnull=True)
            .order_by("due_at")
            .first()
        )
        do_update_task(manager, task, due_at=now + timedelta(days=1))
    elif kind == "stalled":
        do_move_deal(manager, violation.deal, next_open_stage_without_requirements(violation.deal))
    else:
        raise AssertionError(f"no fix known for {kind}")


def pick(workspace, kind):
    """The first open violation of ``kind`` a manager can fix by the usual means."""
    for violation in open_of(workspace, kind).select_related("deal__stage")[:200]:
        if kind == "stalled" and next_open_stage_without_requirements(violation.deal) is None:
            continue  # a deal on the last open stage moves on by an invoice paid: left aside
        return violation
    raise AssertionError(f"no {kind} violation to fix in the demo")


def test_the_demos_control_screen_shows_every_kind_and_each_goes_once_its_manager_fixes_it(
    client, demo, django_capture_on_commit_callbacks
):
    ws = demo.workspace
    counts = screen_counts(client, ws)
    assert set(counts) == {k.value for k in KINDS}
    assert all(counts[kind] > 0 for kind in counts), counts
    for kind in counts:  # real: each points at a deal, a task or a communication of the demo
        violation = open_of(ws, kind).first()
        assert violation.deal_id or violation.task_id or violation.communication_id
        assert violation.manager.workspace_id == ws.id

    fixed = []
    for kind in [k.value for k in KINDS]:
        violation = pick(ws, kind)
        with django_capture_on_commit_callbacks(execute=True):
            fix(violation, timezone.now())
        assert not is_open(violation), kind  # at once, by the evaluation the action schedules
        fixed.append(violation)
        after = screen_counts(client, ws)
        assert after[kind] == counts[kind] - 1, kind
        counts = after

    evaluate_workspace(ws.id)  # the scheduled run over everything agrees
    assert [v.kind for v in fixed if is_open(v)] == []
