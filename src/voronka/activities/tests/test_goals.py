"""The head's list of task goals, per stage and for every stage, and the goals a task is offered."""

import pytest

from voronka.activities.actions import (
    do_create_task_goal,
    do_reorder_task_goals,
    do_update_task_goal,
)
from voronka.activities.goals import suggested_goals
from voronka.activities.models import TaskGoal
from voronka.core.errors import Invalid, NotAllowed


def test_the_head_adds_goals_to_a_stage_and_to_every_stage(org):
    invoice = org.stage("Счёт выставлен")
    anywhere = do_create_task_goal(org.head, text="Договориться о следующем звонке")
    paid = do_create_task_goal(org.owner, text="Получить оплату", stage=invoice)
    assert (anywhere.stage, anywhere.position) == (None, 1)
    assert (paid.stage, paid.position) == (invoice, 1)
    assert paid.history.first().history_user == org.owner


@pytest.mark.parametrize("role", ["senior1", "manager1", "assistant", "qc"])
def test_only_the_head_and_the_owner_keep_the_list(org, role):
    with pytest.raises(NotAllowed):
        do_create_task_goal(getattr(org, role), text="Позвонить")
    goal = do_create_task_goal(org.head, text="Позвонить")
    with pytest.raises(NotAllowed):
        do_update_task_goal(getattr(org, role), goal, is_archived=True)


def test_a_goal_says_something_and_fits_the_field(org):
    for text in ("", "   ", "x" * 256):
        with pytest.raises(Invalid) as exc:
            do_create_task_goal(org.head, text=text)
        assert "text" in exc.value.fields
    assert do_create_task_goal(org.head, text="  Назначить   встречу ").text == "Назначить встречу"


def test_the_same_goal_twice_in_one_list_is_refused_but_another_list_may_have_it(org):
    do_create_task_goal(org.head, text="Назначить встречу")
    with pytest.raises(Invalid) as exc:
        do_create_task_goal(org.head, text="назначить ВСТРЕЧУ")
    assert exc.value.code == "duplicate"
    stage = org.stage("Квалификация")
    assert do_create_task_goal(org.head, text="Назначить встречу", stage=stage).stage == stage


def test_goals_belong_to_open_stages_of_the_own_workspace(org, other_org):
    for stage in (org.stage("Успешно"), org.stage("Проиграно"), other_org.stage("Квалификация")):
        with pytest.raises(Invalid) as exc:
            do_create_task_goal(org.head, text="Позвонить", stage=stage)
        assert "stage" in exc.value.fields
    assert not TaskGoal.objects.exists()


def test_a_goal_is_reworded_moved_to_another_stage_and_archived(org):
    goal = do_create_task_goal(org.head, text="Получить реквизиты")
    stage = org.stage("КП отправлено")
    do_create_task_goal(org.head, text="Согласовать КП", stage=stage)
    goal = do_update_task_goal(org.head, goal, text="Получить реквизиты для счёта", stage=stage)
    assert (goal.text, goal.stage, goal.position) == ("Получить реквизиты для счёта", stage, 2)
    goal = do_update_task_goal(org.head, goal, is_archived=True)
    assert goal.is_archived
    assert goal.history.count() == 3


def test_goals_are_put_in_order_within_their_list(org):
    a = do_create_task_goal(org.head, text="Первая")
    b = do_create_task_goal(org.head, text="Вторая")
    c = do_create_task_goal(org.head, text="Третья")
    do_update_task_goal(org.head, c, position=1)
    order = list(
        TaskGoal.objects.filter(stage=None).order_by("position").values_list("id", flat=True)
    )
    assert order == [c.id, a.id, b.id]
    do_reorder_task_goals(org.head, None, [b.id, a.id, c.id])
    order = list(
        TaskGoal.objects.filter(stage=None).order_by("position").values_list("id", flat=True)
    )
    assert order == [b.id, a.id, c.id]
    with pytest.raises(Invalid):
        do_reorder_task_goals(org.head, None, [a.id])


def test_a_task_is_offered_its_stages_goals_first_then_those_for_every_stage(org, other_org):
    invoice = org.stage("Счёт выставлен")
    do_create_task_goal(org.head, text="Договориться о звонке")
    do_create_task_goal(org.head, text="Получить оплату", stage=invoice)
    do_create_task_goal(org.head, text="Назначить встречу", stage=org.stage("Квалификация"))
    old = do_create_task_goal(org.head, text="Старая цель")
    do_update_task_goal(org.head, old, is_archived=True)
    do_create_task_goal(other_org.head, text="Чужая цель")
    assert suggested_goals(org.workspace.id, invoice.id) == [
        "Получить оплату",
        "Договориться о звонке",
    ]
    assert suggested_goals(org.workspace.id) == ["Договориться о звонке"]


def test_a_goal_in_both_lists_is_offered_once(org):
    stage = org.stage("Квалификация")
    do_create_task_goal(org.head, text="Назначить встречу")
    do_create_task_goal(org.head, text="Назначить встречу", stage=stage)
    assert suggested_goals(org.workspace.id, stage.id) == ["Назначить встречу"]
