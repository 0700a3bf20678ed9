"""Tasks over the API."""

from datetime import timedelta

from django.utils import timezone

from voronka.activities.actions import do_complete_task, do_create_task
from voronka.activities.models import Task
from voronka.api.tests.caller import Caller
from voronka.clients.actions import do_create_contact
from voronka.testing.factories import make_deal


def _due(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def test_a_task_on_a_deal_goes_to_the_deals_owner_with_its_contact(org):
    contact = do_create_contact(org.manager1, first_name="Анна")
    deal = make_deal(org.manager1, org.pipeline, contact=contact)
    response = Caller(org.senior1).post(
        "/tasks",
        {
            "goal": "Договориться о встрече",
            "due_at": "2030-01-10T10:00:00+03:00",
            "deal_id": deal.id,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["owner_id"], body["contact_id"], body["type"]) == (
        org.manager1.id,
        contact.id,
        "call",
    )
    assert body["created_by_id"] == org.senior1.id
    task = Task.objects.get(id=body["id"])
    assert task.due_at.isoformat() == "2030-01-10T07:00:00+00:00"


def test_a_task_without_a_goal_is_422_on_goal(org):
    response = Caller(org.manager1).post("/tasks", {"goal": " ", "due_at": _due(1)})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"goal"}


def test_a_due_time_without_an_offset_is_422_on_due_at(org):
    response = Caller(org.manager1).post(
        "/tasks", {"goal": "Позвонить", "due_at": "2030-01-10T10:00:00"}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"due_at"}


def test_an_unknown_task_type_is_422_on_type(org):
    response = Caller(org.manager1).post(
        "/tasks", {"goal": "Позвонить", "due_at": _due(1), "type": "dance"}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"type"}


def test_a_task_on_a_colleagues_deal_is_422_on_deal_id(org):
    theirs = make_deal(org.manager2, org.pipeline)
    response = Caller(org.manager1).post(
        "/tasks", {"goal": "Позвонить", "due_at": _due(1), "deal_id": theirs.id}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"deal_id"}
    assert not Task.objects.exists()


def test_a_manager_sees_own_tasks_and_gets_404_for_a_colleagues(org):
    own = do_create_task(org.manager1, goal="Позвонить", due_at=timezone.now())
    theirs = do_create_task(org.manager2, goal="Написать", due_at=timezone.now())
    caller = Caller(org.manager1)
    assert caller.ids("/tasks") == [own.id]
    assert caller.get(f"/tasks/{theirs.id}").status_code == 404
    assert caller.post(f"/tasks/{theirs.id}/complete", {"result": "Готово"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.done_at is None


def test_a_senior_sees_the_teams_tasks(org):
    a = do_create_task(org.manager1, goal="А", due_at=timezone.now() + timedelta(hours=1))
    b = do_create_task(org.manager2, goal="Б", due_at=timezone.now() + timedelta(hours=2))
    do_create_task(org.manager3, goal="В", due_at=timezone.now())
    assert Caller(org.senior1).ids("/tasks") == [a.id, b.id]


def test_tasks_are_filtered_by_owner_deal_state_and_due_time(org):
    deal = make_deal(org.manager1, org.pipeline)
    now = timezone.now()
    overdue = do_create_task(org.manager1, goal="Просрочена", due_at=now - timedelta(days=1))
    on_deal = do_create_task(
        org.manager1, goal="По сделке", due_at=now + timedelta(days=1), deal=deal
    )
    done = do_create_task(org.manager2, goal="Сделана", due_at=now - timedelta(days=2))
    do_complete_task(org.manager2, done, result="Договорились")
    caller = Caller(org.senior1)
    assert caller.ids("/tasks", owner_id=org.manager1.id) == [overdue.id, on_deal.id]
    assert caller.ids("/tasks", deal_id=deal.id) == [on_deal.id]
    assert caller.ids("/tasks", status="open") == [overdue.id, on_deal.id]
    assert caller.ids("/tasks", status="done") == [done.id]
    assert caller.ids("/tasks", status="open", due_before=now.isoformat()) == [overdue.id]


def test_a_task_is_completed_with_its_result_and_reopened(org):
    task = do_create_task(org.manager1, goal="Получить реквизиты", due_at=timezone.now())
    caller = Caller(org.manager1)
    response = caller.post(f"/tasks/{task.id}/complete", {"result": "Реквизиты получены"})
    assert response.status_code == 200
    body = response.json()
    assert body["done_at"] is not None and body["result"] == "Реквизиты получены"
    response = caller.post(f"/tasks/{task.id}/reopen")
    assert response.status_code == 200
    assert response.json()["done_at"] is None


def test_a_task_is_completed_without_a_body_too(org):
    task = do_create_task(org.manager1, goal="Позвонить", due_at=timezone.now())
    response = Caller(org.manager1).client.post(
        f"/api/v1/tasks/{task.id}/complete", "", content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["done_at"] is not None


def test_a_task_is_rescheduled_and_handed_over_by_patch(org):
    task = do_create_task(org.senior1, goal="Позвонить", due_at=timezone.now(), owner=org.manager1)
    response = Caller(org.senior1).patch(
        f"/tasks/{task.id}",
        {"due_at": "2030-02-01T09:00:00+03:00", "owner_id": org.manager2.id, "type": "meeting"},
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.owner, task.type) == (org.manager2, "meeting")


def test_a_manager_cannot_hand_a_task_to_another_team(org):
    task = do_create_task(org.manager1, goal="Позвонить", due_at=timezone.now())
    response = Caller(org.manager1).patch(f"/tasks/{task.id}", {"owner_id": org.manager3.id})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"owner_id"}


def test_the_quality_controller_reads_tasks_but_may_not_complete_them(org):
    task = do_create_task(org.manager1, goal="Позвонить", due_at=timezone.now())
    caller = Caller(org.qc)
    assert caller.get(f"/tasks/{task.id}").status_code == 200
    assert caller.post(f"/tasks/{task.id}/complete", {"result": "—"}).status_code == 403
    assert caller.post("/tasks", {"goal": "Проверить", "due_at": _due(1)}).status_code == 403
    task.refresh_from_db()
    assert task.done_at is None
