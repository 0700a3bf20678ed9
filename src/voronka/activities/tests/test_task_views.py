"""Planning, editing and completing tasks from the deal page and as plain pages."""

import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.activities.models import Task
from voronka.testing.factories import make_deal

CREATE = reverse("activities:task_create")


def due(days=1) -> str:
    return timezone.localtime(timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def plan(client, deal, **data):
    values = {"deal": deal.id, "type": "call", "goal": "Договориться о встрече", "due_at": due()}
    values.update(data)
    return client.post(CREATE, values, HTTP_HX_REQUEST="true")


def test_the_form_goes_to_the_deals_owner_by_default(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.senior1)
    form = client.get(CREATE, {"deal": deal.id}).context["form"]
    assert form.initial["owner"] == org.manager1.id
    assert set(form.fields["owner"].queryset) == {org.senior1, org.manager1, org.manager2}


def test_planning_the_next_task_from_the_deal_page(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.senior1)
    response = plan(client, deal, owner=org.manager1.id)
    assert response.status_code == 200
    assert "dealChanged" in json.loads(response["HX-Trigger"])
    task = Task.objects.get(deal=deal)
    assert (task.goal, task.owner, task.created_by) == (
        "Договориться о встрече",
        org.manager1,
        org.senior1,
    )


def test_a_task_without_a_goal_is_refused_with_the_actions_message(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    response = plan(client, deal, goal="  ", owner=org.manager1.id)
    assert response.status_code == 422
    errors = response.context["form"].errors["goal"]
    assert errors and "?" in errors[0]
    assert not Task.objects.exists()


def test_a_task_cannot_be_planned_on_a_colleagues_deal_or_given_to_the_other_team(client, org):
    theirs = make_deal(org.manager3, org.pipeline)
    mine = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    assert plan(client, theirs, owner=org.manager3.id).status_code == 404
    assert plan(client, mine, owner=org.manager3.id).status_code == 422
    assert not Task.objects.exists()


def test_a_plain_post_returns_to_a_safe_next_only(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    values = {"deal": deal.id, "type": "call", "goal": "Цель", "due_at": due()}
    response = client.post(CREATE, {**values, "next": "/my-day/"})
    assert response["Location"] == "/my-day/"
    response = client.post(CREATE, {**values, "next": "//evil.test/x"})
    assert response["Location"] == reverse("sales:deal_detail", args=[deal.id])


def test_editing_a_task(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    task = do_create_task(org.manager1, deal=deal, goal="Старая цель", due_at=timezone.now())
    client.force_login(org.manager1)
    url = reverse("activities:task_edit", args=[task.id])
    assert client.get(url).context["form"].initial["goal"] == "Старая цель"
    response = client.post(
        url, {"type": "meeting", "goal": "Новая цель", "due_at": due(2), "owner": org.manager1.id}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.type, task.goal) == ("meeting", "Новая цель")


def test_completing_a_task_with_its_result(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    task = do_create_task(org.manager1, deal=deal, goal="Позвонить", due_at=timezone.now())
    client.force_login(org.manager1)
    url = reverse("activities:task_complete", args=[task.id])
    refused = client.post(url, {"result": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    task.refresh_from_db()
    assert task.done_at is None
    done = client.post(url, {"result": "Встреча в пятницу"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and "dealChanged" in json.loads(done["HX-Trigger"])
    task.refresh_from_db()
    assert task.done_at is not None and task.result == "Встреча в пятницу"


def test_the_quality_controller_and_strangers_cannot_touch_tasks(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    task = do_create_task(org.manager1, deal=deal, goal="Позвонить", due_at=timezone.now())
    for person, edit_status in ((org.qc, 403), (org.manager2, 404)):
        client.force_login(person)
        assert client.get(CREATE, {"deal": deal.id}).status_code == 404
        edit = reverse("activities:task_edit", args=[task.id])
        assert client.get(edit).status_code == edit_status  # the QC sees the task, reads only
        assert client.post(edit, {"goal": "чужое", "due_at": due()}).status_code == edit_status
        response = client.post(reverse("activities:task_complete", args=[task.id]), {"result": "x"})
        assert response.status_code == 404
    task.refresh_from_db()
    assert task.done_at is None
