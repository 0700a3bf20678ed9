"""Every API route, walked with every role: nothing of another workspace and nothing outside the
role's visibility ever comes back — not in a list, a filter, a detail or a write."""

import pytest

from voronka.accounts.models import Role, User
from voronka.activities.models import Task
from voronka.clients.models import Company
from voronka.sales.models import Deal
from voronka.testing.fixtures import ROLES

from .caller import Caller
from .world import expected_visible

#: Every route of the API and how the walk exercises it. A new route fails this test until the
#: walk covers it.
COVERED = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/pipelines"),
    ("get", "/api/v1/pipelines/{pipeline_id}"),
    ("get", "/api/v1/companies"),
    ("post", "/api/v1/companies"),
    ("get", "/api/v1/companies/{company_id}"),
    ("patch", "/api/v1/companies/{company_id}"),
    ("get", "/api/v1/contacts"),
    ("post", "/api/v1/contacts"),
    ("get", "/api/v1/contacts/{contact_id}"),
    ("patch", "/api/v1/contacts/{contact_id}"),
    ("get", "/api/v1/deals"),
    ("post", "/api/v1/deals"),
    ("get", "/api/v1/deals/{deal_id}"),
    ("patch", "/api/v1/deals/{deal_id}"),
    ("get", "/api/v1/deals/{deal_id}/stage-changes"),
    ("post", "/api/v1/deals/{deal_id}/move"),
    ("get", "/api/v1/tasks"),
    ("post", "/api/v1/tasks"),
    ("get", "/api/v1/tasks/{task_id}"),
    ("patch", "/api/v1/tasks/{task_id}"),
    ("post", "/api/v1/tasks/{task_id}/complete"),
    ("post", "/api/v1/tasks/{task_id}/reopen"),
    ("get", "/api/v1/communications"),
    ("post", "/api/v1/communications"),
    ("get", "/api/v1/communications/{communication_id}"),
    ("patch", "/api/v1/communications/{communication_id}"),
    # The head's settings: walked with every role in voronka/sales/tests/test_settings_api.py.
    ("get", "/api/v1/settings/custom-fields"),
    ("post", "/api/v1/settings/custom-fields"),
    ("get", "/api/v1/settings/custom-fields/{field_id}"),
    ("patch", "/api/v1/settings/custom-fields/{field_id}"),
    ("get", "/api/v1/settings/stages/{stage_id}/required-fields"),
    ("put", "/api/v1/settings/stages/{stage_id}/required-fields"),
    ("get", "/api/v1/settings/pipelines/{pipeline_id}/rules"),
    ("patch", "/api/v1/settings/pipelines/{pipeline_id}/rules"),
    ("get", "/api/v1/settings/pipelines/{pipeline_id}/funnel-check"),
    ("get", "/api/v1/settings/loss-reasons"),
    ("post", "/api/v1/settings/loss-reasons"),
    ("patch", "/api/v1/settings/loss-reasons/{reason_id}"),
    # Walked with every role in voronka/sales/tests/test_products_api.py.
    ("get", "/api/v1/products"),
    ("get", "/api/v1/segments"),
    ("post", "/api/v1/settings/products"),
    ("patch", "/api/v1/settings/products/{product_id}"),
    ("delete", "/api/v1/settings/products/{product_id}"),
    ("post", "/api/v1/settings/segments"),
    ("patch", "/api/v1/settings/segments/{segment_id}"),
    ("delete", "/api/v1/settings/segments/{segment_id}"),
    ("get", "/api/v1/settings/task-goals"),
    ("post", "/api/v1/settings/task-goals"),
    ("patch", "/api/v1/settings/task-goals/{goal_id}"),
    # Walked with every role in voronka/control/tests/test_api.py.
    ("get", "/api/v1/violations"),
    # Walked with every role in voronka/control/tests/test_daily_views.py.
    ("get", "/api/v1/control/daily-report"),
    # Walked with every role in voronka/control/tests/test_meeting_api.py.
    ("get", "/api/v1/control/meeting"),
    # Walked with every role in voronka/inbox/tests/test_conversations_api.py.
    ("get", "/api/v1/conversations"),
    ("get", "/api/v1/conversations/{conversation_id}"),
    ("get", "/api/v1/conversations/{conversation_id}/messages"),
    ("post", "/api/v1/conversations/{conversation_id}/read"),
    ("post", "/api/v1/conversations/{conversation_id}/reply"),
    ("post", "/api/v1/conversations/{conversation_id}/assign"),
    ("post", "/api/v1/conversations/{conversation_id}/close"),
    ("post", "/api/v1/conversations/{conversation_id}/reopen"),
    # Walked with every role in voronka/inbox/tests/test_channels_settings.py.
    ("get", "/api/v1/settings/channels"),
    ("post", "/api/v1/settings/channels"),
    ("get", "/api/v1/settings/channels/{channel_id}"),
    ("patch", "/api/v1/settings/channels/{channel_id}"),
    ("get", "/api/v1/settings/dead-letters"),
    ("post", "/api/v1/settings/dead-letters/{letter_id}/replay"),
    # Walked with every role in voronka/planning/tests/test_api.py.
    ("get", "/api/v1/planning/targets"),
    ("post", "/api/v1/planning/targets"),
    ("get", "/api/v1/planning/targets/{target_id}"),
    ("patch", "/api/v1/planning/targets/{target_id}"),
    ("delete", "/api/v1/planning/targets/{target_id}"),
    ("get", "/api/v1/planning/targets/{target_id}/decomposition"),
    ("post", "/api/v1/planning/targets/{target_id}/overrides"),
    ("post", "/api/v1/planning/targets/{target_id}/split"),
    ("get", "/api/v1/planning/plan-fact"),
    # Walked with every role in voronka/analytics/tests/test_api.py.
    ("get", "/api/v1/analytics/kpi-definitions"),
    ("get", "/api/v1/analytics/funnel"),
    ("get", "/api/v1/analytics/kpis"),
    # Walked with every role in voronka/analytics/tests/test_api.py.
    ("get", "/api/v1/analytics/kpi-definitions"),
    ("get", "/api/v1/analytics/funnel"),
    ("get", "/api/v1/analytics/kpis"),
}

#: The filters of each list that name another record, and the kind of record they name.
REFERENCE_FILTERS = {
    "companies": {"owner_id": "users"},
    "contacts": {"owner_id": "users", "company_id": "companies"},
    "deals": {"owner_id": "users", "company_id": "companies", "contact_id": "contacts"},
    "tasks": {"owner_id": "users", "deal_id": "deals", "contact_id": "contacts"},
    "communications": {"deal_id": "deals", "contact_id": "contacts", "author_id": "users"},
}


def test_the_walk_covers_every_route_of_the_api(client):
    schema = client.get("/api/v1/openapi.json").json()
    routes = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert routes == COVERED


def _referenced_ids(kind: str, world) -> list[int]:
    if kind == "users":
        return [u.id for u in world.org.people]
    return [o.id for o in world.objects()[kind]]


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_exactly_what_the_role_sees_with_any_filter(worlds, role):
    world, other = worlds
    user = getattr(world.org, role)
    caller = Caller(user)
    expected = expected_visible(user, world)
    for kind, ids in expected.items():
        assert sorted(caller.ids(f"/{kind}")) == sorted(ids), kind
        # A filter naming anything — visible, invisible, or another workspace's — narrows the
        # visible rows and never widens them.
        for param, target in REFERENCE_FILTERS[kind].items():
            for ref in _referenced_ids(target, world)[:4] + _referenced_ids(target, other)[:2]:
                found = set(caller.ids(f"/{kind}", **{param: ref}))
                assert found <= ids, (kind, param, ref)
    people = {u.id for u in world.org.people}
    assert set(caller.ids("/users")) == people
    assert caller.ids("/pipelines") == [world.org.pipeline.id]
    assert caller.get("/me").json()["id"] == user.id


@pytest.mark.parametrize("role", ROLES)
def test_details_answer_only_for_what_the_role_sees(worlds, role):
    world, other = worlds
    user = getattr(world.org, role)
    caller = Caller(user)
    expected = expected_visible(user, world)
    for w in (world, other):
        for kind, objects in w.objects().items():
            for obj in objects:
                status = caller.get(f"/{kind}/{obj.id}").status_code
                assert status == (200 if obj.id in expected[kind] else 404), (kind, obj.id)
        for deal in w.deals:
            status = caller.get(f"/deals/{deal.id}/stage-changes").status_code
            assert status == (200 if deal.id in expected["deals"] else 404)
    assert caller.get(f"/pipelines/{world.org.pipeline.id}").status_code == 200
    assert caller.get(f"/pipelines/{other.org.pipeline.id}").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_writes_to_what_the_role_cannot_see_answer_404_and_change_nothing(worlds, role):
    world, other = worlds
    user = getattr(world.org, role)
    caller = Caller(user)
    expected = expected_visible(user, world)
    writes_allowed = user.role != Role.QC
    patch_bodies = {
        "companies": {"city": "Тверь"},
        "contacts": {"position": "Директор"},
        "deals": {"source": "API"},
        "tasks": {"goal": "Уточнить сроки"},
        "communications": {"comment": "Перезвонить в пятницу"},
    }
    for w in (world, other):
        for kind, objects in w.objects().items():
            for obj in objects:
                response = caller.patch(f"/{kind}/{obj.id}", patch_bodies[kind])
                if obj.id not in expected[kind]:
                    assert response.status_code == 404, (kind, obj.id)
                else:
                    assert response.status_code == (200 if writes_allowed else 403), (kind, obj.id)
        for deal in w.deals:
            if deal.id not in expected["deals"]:
                target = w.org.stage("Квалификация")
                response = caller.post(f"/deals/{deal.id}/move", {"stage_id": target.id})
                assert response.status_code == 404
                assert Deal.objects.get(id=deal.id).stage_id == deal.stage_id
            else:
                # A move to where the deal already is: refused for writers, forbidden for QC.
                response = caller.post(f"/deals/{deal.id}/move", {"stage_id": deal.stage_id})
                assert response.status_code == (422 if writes_allowed else 403)
        for task in w.tasks:
            for action in ("complete", "reopen"):
                response = caller.post(f"/tasks/{task.id}/{action}", None)
                if task.id not in expected["tasks"]:
                    assert response.status_code == 404
                else:
                    assert response.status_code == (200 if writes_allowed else 403)
            assert Task.objects.get(id=task.id).done_at is None
    # Nothing invisible was changed by any of it.
    invisible_companies = Company.objects.exclude(id__in=expected["companies"])
    assert not invisible_companies.filter(city="Тверь").exists()
    assert not Deal.objects.exclude(id__in=expected["deals"]).filter(source="API").exists()


@pytest.mark.parametrize("role", ROLES)
def test_a_new_record_cannot_point_at_what_the_role_cannot_see(worlds, role):
    world, other = worlds
    user = getattr(world.org, role)
    caller = Caller(user)
    expected = expected_visible(user, world)
    invisible = {
        kind: [o.id for o in objs if o.id not in expected[kind]]
        for kind, objs in world.objects().items()
    }
    foreign = {kind: [o.id for o in objs] for kind, objs in other.objects().items()}
    pipeline = world.org.pipeline.id
    creations = [
        ("/contacts", {"first_name": "Пётр"}, "company_id", "companies"),
        ("/deals", {"title": "Новая", "pipeline_id": pipeline}, "company_id", "companies"),
        ("/deals", {"title": "Новая", "pipeline_id": pipeline}, "contact_id", "contacts"),
        (
            "/tasks",
            {"goal": "Позвонить", "due_at": "2030-01-01T10:00:00+03:00"},
            "deal_id",
            "deals",
        ),
        (
            "/tasks",
            {"goal": "Позвонить", "due_at": "2030-01-01T10:00:00+03:00"},
            "contact_id",
            "contacts",
        ),
        ("/communications", {"kind": "call"}, "deal_id", "deals"),
        ("/communications", {"kind": "call"}, "contact_id", "contacts"),
    ]
    for path, body, field, kind in creations:
        for ref in invisible[kind][:2] + foreign[kind][:1]:
            response = caller.post(path, {**body, field: ref})
            assert response.status_code == 422, (path, field, ref, response.content)
            assert set(response.json()["fields"]) == {field}
    foreign_pipeline = other.org.pipeline.id
    response = caller.post("/deals", {"title": "Чужая", "pipeline_id": foreign_pipeline})
    assert response.status_code == 422 and set(response.json()["fields"]) == {"pipeline_id"}
    assert not Deal.objects.filter(title__in=["Новая", "Чужая"]).exists()
    stranger = User.objects.get(id=other.org.manager1.id)
    response = caller.post("/companies", {"name": "Чужой владелец", "owner_id": stranger.id})
    assert response.status_code == 422 and set(response.json()["fields"]) == {"owner_id"}
