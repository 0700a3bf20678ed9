"""The next step asked for in the same form: a move, a logged communication or a completed task
that leaves an open deal without an open task carries the next task with it."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from voronka.activities.actions import (
    do_create_task,
    do_create_task_goal,
    do_plan_next_step,
)
from voronka.activities.models import Task
from voronka.inbox.models import Communication
from voronka.sales.actions import do_move_deal, do_set_stage_requirements
from voronka.testing.factories import make_deal

HX = {"HTTP_HX_REQUEST": "true"}


def due(days=1) -> str:
    return timezone.localtime(timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def next_step(goal="Согласовать дату встречи", type="meeting", when=None):
    return {"next-type": type, "next-goal": goal, "next-due_at": due() if when is None else when}


def log_call(client, deal, **extra):
    values = {"deal": deal.id, "kind": "call", "direction": "out", "comment": "Обсудили объём"}
    values.update(extra)
    return client.post(reverse("inbox:communication_create"), values, **HX)


def open_tasks(deal):
    return list(Task.objects.filter(deal=deal, done_at__isnull=True))


def test_the_deal_page_asks_for_the_next_step_only_when_the_deal_has_none(client, org):
    bare = make_deal(org.manager1, org.pipeline, title="Без задачи")
    planned = make_deal(org.manager1, org.pipeline, title="С задачей")
    do_create_task(org.manager1, deal=planned, goal="Позвонить", due_at=timezone.now())
    client.force_login(org.manager1)
    page = client.get(reverse("sales:deal_detail", args=[bare.id])).content.decode()
    assert 'id="move-next-step"' in page  # with the stage buttons
    assert 'id="id_comm_next-goal"' in page  # with the communication form
    page = client.get(reverse("sales:deal_detail", args=[planned.id])).content.decode()
    assert "move-next-step" not in page and "id_comm_next-goal" not in page
    assert 'id="id_complete_next-goal"' in page  # completing its only task


def test_the_heads_goals_for_the_stage_are_offered_in_a_datalist(client, org):
    do_create_task_goal(org.head, text="Получить реквизиты", stage=org.stage("Новый лид"))
    do_create_task_goal(org.head, text="Подписать договор", stage=org.stage("Счёт выставлен"))
    do_create_task_goal(org.head, text="Уточнить бюджет")
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    page = client.get(reverse("sales:deal_detail", args=[deal.id])).content.decode()
    assert '<option value="Получить реквизиты">' in page
    assert '<option value="Уточнить бюджет">' in page
    assert "Подписать договор" not in page
    assert f'list="move-next-goals-{deal.id}"' in page


def test_logging_a_call_plans_the_next_step_in_the_same_form(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    response = log_call(client, deal, **next_step())
    assert response.status_code == 200
    [task] = open_tasks(deal)
    assert (task.type, task.goal, task.owner) == (
        "meeting",
        "Согласовать дату встречи",
        org.manager1,
    )
    assert Communication.objects.filter(deal=deal).count() == 1
    assert "next-goal" not in response.content.decode()  # the deal has its next step now


def test_a_next_step_without_a_due_time_undoes_the_whole_form(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    response = log_call(client, deal, **next_step(when=""))
    assert response.status_code == 422
    assert not Communication.objects.filter(deal=deal).exists()
    assert open_tasks(deal) == []
    html = response.content.decode()
    assert 'value="Согласовать дату встречи"' in html  # what was typed stays


def test_left_empty_the_next_step_is_not_planned_and_the_call_is_logged(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    assert log_call(client, deal, **next_step(goal="")).status_code == 200
    assert Communication.objects.filter(deal=deal).count() == 1
    assert open_tasks(deal) == []


def test_completing_the_last_task_plans_the_next(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    task = do_create_task(org.manager1, deal=deal, goal="Позвонить", due_at=timezone.now())
    client.force_login(org.manager1)
    response = client.post(
        reverse("activities:task_complete", args=[task.id]),
        {"result": "Договорились о встрече", **next_step(goal="Провести встречу")},
        **HX,
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.done_at is not None
    assert [t.goal for t in open_tasks(deal)] == ["Провести встречу"]


def test_a_refused_next_step_keeps_the_task_open(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    task = do_create_task(org.manager1, deal=deal, goal="Позвонить", due_at=timezone.now())
    client.force_login(org.manager1)
    response = client.post(
        reverse("activities:task_complete", args=[task.id]),
        {"result": "Готово", **next_step(when="")},
        **HX,
    )
    assert response.status_code == 422
    task.refresh_from_db()
    assert task.done_at is None


def test_a_move_on_the_deal_page_plans_the_next_step_with_it(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    url = reverse("sales:deal_move", args=[deal.id])
    stage = org.stage("Квалификация")
    response = client.post(url, {"stage": stage.id, **next_step(type="call")}, **HX)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stage
    assert [t.type for t in open_tasks(deal)] == ["call"]
    assert "move-next-step" not in response.content.decode()


def test_a_move_refused_by_the_gate_plans_nothing(client, org):
    invoice = org.stage("Счёт выставлен")
    do_set_stage_requirements(org.head, invoice, ["invoice_no"])
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    url = reverse("sales:deal_move", args=[deal.id])
    response = client.post(url, {"stage": invoice.id, **next_step()}, **HX)
    assert response.status_code == 422
    assert open_tasks(deal) == []
    assert 'value="Согласовать дату встречи"' in response.content.decode()


def test_a_closed_deal_needs_no_next_step(org):
    deal = make_deal(org.manager1, org.pipeline)
    won = do_move_deal(org.manager1, deal, org.stage("Успешно"))
    planned = do_plan_next_step(
        org.manager1, won, goal="Позвонить", due_at=timezone.now() + timedelta(days=1)
    )
    assert planned is None and open_tasks(deal) == []
