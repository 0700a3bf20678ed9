"""The head's settings over the API: custom fields, stage requirements, order rules, the funnel's
self-check, loss reasons and task goals — for the head and the owner only."""

import json

import pytest

from voronka.activities.actions import do_create_task_goal
from voronka.activities.models import TaskGoal
from voronka.api.tests.caller import PREFIX, Caller
from voronka.core.actions import do_create_custom_field
from voronka.core.models import CustomField
from voronka.sales.actions import do_create_loss_reason
from voronka.sales.models import LossReason
from voronka.testing.factories import make_deal

OUTSIDERS = ["senior1", "manager1", "assistant", "qc"]


def put(caller: Caller, path: str, body):
    return caller.client.put(PREFIX + path, json.dumps(body), content_type="application/json")


def routes(org, field, reason, goal):
    """Every settings route with a body a configurer could send."""
    stage = org.stage("Счёт выставлен").id
    pipeline = org.pipeline.id
    return [
        ("get", "/settings/custom-fields", None),
        ("post", "/settings/custom-fields", {"entity": "deal", "label": "ИНН", "type": "text"}),
        ("get", f"/settings/custom-fields/{field}", None),
        ("patch", f"/settings/custom-fields/{field}", {"label": "Взлом"}),
        ("get", f"/settings/stages/{stage}/required-fields", None),
        ("put", f"/settings/stages/{stage}/required-fields", {"required_fields": ["invoice_no"]}),
        ("get", f"/settings/pipelines/{pipeline}/rules", None),
        ("patch", f"/settings/pipelines/{pipeline}/rules", {"no_skipping": True}),
        ("get", f"/settings/pipelines/{pipeline}/funnel-check", None),
        ("get", "/settings/loss-reasons", None),
        ("post", "/settings/loss-reasons", {"name": "Взлом"}),
        ("patch", f"/settings/loss-reasons/{reason}", {"name": "Взлом 2"}),
        ("get", "/settings/task-goals", None),
        ("post", "/settings/task-goals", {"text": "Взлом"}),
        ("patch", f"/settings/task-goals/{goal}", {"text": "Взлом 2"}),
    ]


def call(caller, method, path, body):
    if method == "get":
        return caller.get(path)
    if method == "put":
        return put(caller, path, body)
    return getattr(caller, method)(path, body)


@pytest.fixture
def things(org):
    field = do_create_custom_field(org.head, entity="deal", label="Тип оплаты", type="text")
    reason = do_create_loss_reason(org.head, name="Дорого")
    goal = do_create_task_goal(org.head, text="Назначить встречу")
    return field, reason, goal


# --- Who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", OUTSIDERS)
def test_the_settings_are_not_for_anyone_but_the_head_and_the_owner(org, things, role):
    caller = Caller(getattr(org, role))
    for method, path, body in routes(org, *(t.id for t in things)):
        response = call(caller, method, path, body)
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "not_allowed"
    field, reason, goal = things
    field.refresh_from_db()
    reason.refresh_from_db()
    goal.refresh_from_db()
    assert (field.label, reason.name, goal.text) == ("Тип оплаты", "Дорого", "Назначить встречу")
    assert org.stage("Счёт выставлен").required_fields == []
    assert not LossReason.objects.filter(name="Взлом").exists()


@pytest.mark.parametrize("role", ["head", "owner"])
def test_the_head_and_the_owner_reach_every_settings_route(org, things, role):
    caller = Caller(getattr(org, role))
    for method, path, body in routes(org, *(t.id for t in things)):
        response = call(caller, method, path, body)
        assert response.status_code in (200, 201), (method, path, response.content)


def test_another_workspaces_settings_are_404_and_unchanged(org, other_org):
    theirs = (
        do_create_custom_field(other_org.head, entity="deal", label="ИНН", type="text"),
        do_create_loss_reason(other_org.head, name="Дорого"),
        do_create_task_goal(other_org.head, text="Назначить встречу"),
    )
    caller = Caller(org.head)
    for method, path, body in routes(other_org, *(t.id for t in theirs)):
        if path.startswith("/settings/") and "/" in path[len("/settings/") :].strip("/"):
            response = call(caller, method, path, body)
            assert response.status_code == 404, (method, path)
    assert other_org.stage("Счёт выставлен").required_fields == []
    assert CustomField.objects.get(id=theirs[0].id).label == "ИНН"
    assert caller.get("/settings/custom-fields").json()["items"] == []
    assert caller.get("/settings/loss-reasons").json()["items"] == []
    assert caller.get("/settings/task-goals").json()["items"] == []


# --- Custom fields -----------------------------------------------------------------------------


def test_the_head_creates_a_choice_field_and_finds_it_in_the_list(org):
    caller = Caller(org.head)
    response = caller.post(
        "/settings/custom-fields",
        {"entity": "deal", "label": "Тип оплаты", "type": "choice", "choices": ["Безнал", "Нал"]},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["key"], body["choices"], body["position"]) == ("tip_oplaty", ["Безнал", "Нал"], 1)
    listed = caller.get("/settings/custom-fields", entity="deal").json()
    assert [f["key"] for f in listed["items"]] == ["tip_oplaty"]
    assert caller.get("/settings/custom-fields", entity="company").json()["items"] == []


def test_a_bad_field_is_refused_with_422_naming_what_is_wrong(org):
    caller = Caller(org.head)
    no_choices = caller.post(
        "/settings/custom-fields", {"entity": "deal", "label": "Канал", "type": "choice"}
    )
    assert no_choices.status_code == 422
    assert "choices" in no_choices.json()["fields"]
    bad_key = caller.post(
        "/settings/custom-fields",
        {"entity": "deal", "label": "Канал", "type": "text", "key": "Канал"},
    )
    assert bad_key.status_code == 422
    assert "key" in bad_key.json()["fields"]
    unknown = caller.post(
        "/settings/custom-fields",
        {"entity": "deal", "label": "Канал", "type": "text", "colour": "red"},
    )
    assert unknown.status_code == 422
    assert "colour" in unknown.json()["fields"]
    assert not CustomField.objects.exists()


def test_the_type_of_a_field_with_values_is_refused_with_its_code(org):
    field = do_create_custom_field(org.head, entity="deal", label="ИНН", type="text")
    deal = make_deal(org.manager1, org.pipeline)
    deal.custom = {"inn": "7701"}
    deal.save()
    response = Caller(org.head).patch(f"/settings/custom-fields/{field.id}", {"type": "number"})
    assert response.status_code == 422
    assert response.json()["code"] == "type_locked"
    assert "type" in response.json()["fields"]


def test_a_field_is_relabelled_moved_and_archived_over_the_api(org):
    caller = Caller(org.head)
    a = do_create_custom_field(org.head, entity="deal", label="Альфа", type="text")
    b = do_create_custom_field(org.head, entity="deal", label="Бета", type="text")
    response = caller.patch(f"/settings/custom-fields/{b.id}", {"label": "Бета-2", "position": 1})
    assert response.status_code == 200
    assert (response.json()["label"], response.json()["position"]) == ("Бета-2", 1)
    keys = [f["key"] for f in caller.get("/settings/custom-fields").json()["items"]]
    assert keys == ["beta", "alfa"]
    archived = caller.patch(f"/settings/custom-fields/{a.id}", {"is_archived": True})
    assert archived.json()["is_archived"] is True
    assert [f["key"] for f in caller.get("/settings/custom-fields").json()["items"]] == ["beta"]
    everything = caller.get("/settings/custom-fields", include_archived=True).json()["items"]
    assert {f["key"] for f in everything} == {"alfa", "beta"}


def test_a_flag_must_be_a_json_boolean(org):
    field = do_create_custom_field(org.head, entity="deal", label="ИНН", type="text")
    response = Caller(org.head).patch(f"/settings/custom-fields/{field.id}", {"is_archived": "yes"})
    assert response.status_code == 422
    assert "is_archived" in response.json()["fields"]


# --- Stage requirements ------------------------------------------------------------------------


def test_the_head_requires_the_invoice_number_and_amount_for_invoice_sent(org):
    caller = Caller(org.head)
    stage = org.stage("Счёт выставлен")
    path = f"/settings/stages/{stage.id}/required-fields"
    before = caller.get(path).json()
    assert before["required_fields"] == []
    assert {"name": "invoice_no", "label": "Номер счёта"} in before["available"]
    response = put(caller, path, {"required_fields": ["invoice_no", "invoice_amount"]})
    assert response.status_code == 200
    assert response.json()["required_fields"] == ["invoice_no", "invoice_amount"]
    stage.refresh_from_db()
    assert stage.required_fields == ["invoice_no", "invoice_amount"]
    assert stage.history.order_by("-history_date").first().history_user == org.head


def test_an_unknown_required_field_is_refused_and_nothing_changes(org):
    stage = org.stage("Счёт выставлен")
    response = put(
        Caller(org.head),
        f"/settings/stages/{stage.id}/required-fields",
        {"required_fields": ["invoice_no", "custom.nope"]},
    )
    assert response.status_code == 422
    assert "custom.nope" in response.json()["fields"]["required_fields"]
    stage.refresh_from_db()
    assert stage.required_fields == []


def test_a_lost_stage_says_the_loss_reason_is_always_required(org):
    lost = org.stage("Проиграно")
    body = Caller(org.head).get(f"/settings/stages/{lost.id}/required-fields").json()
    assert body["always_required"] == ["loss_reason"]


def test_a_custom_deal_field_can_be_required(org):
    do_create_custom_field(org.head, entity="deal", label="Тип оплаты", type="text")
    stage = org.stage("КП отправлено")
    response = put(
        Caller(org.head),
        f"/settings/stages/{stage.id}/required-fields",
        {"required_fields": ["custom.tip_oplaty"]},
    )
    assert response.json()["required_fields"] == ["custom.tip_oplaty"]


# --- Order rules and the self-check ------------------------------------------------------------


def test_the_order_rules_change_only_as_sent(org):
    caller = Caller(org.head)
    path = f"/settings/pipelines/{org.pipeline.id}/rules"
    assert caller.patch(path, {"no_going_back": True}).json() == {
        "pipeline_id": org.pipeline.id,
        "no_skipping": False,
        "no_going_back": True,
    }
    assert caller.patch(path, {"no_skipping": True}).json()["no_going_back"] is True
    assert caller.get(path).json()["no_skipping"] is True
    assert caller.patch(path, {"no_skipping": 1}).status_code == 422


def test_the_funnel_check_explains_a_parking_stage(org):
    from voronka.sales.actions import do_create_stage

    parked = do_create_stage(org.head, pipeline=org.pipeline, name="Отложено", normal_days=30)
    body = Caller(org.head).get(f"/settings/pipelines/{org.pipeline.id}/funnel-check").json()
    [warning] = [w for w in body["warnings"] if w["code"] == "parking_stage"]
    assert warning["stage_ids"] == [parked.id]
    assert "«Отложено»" in warning["message"]


# --- Loss reasons and task goals ---------------------------------------------------------------


def test_loss_reasons_are_added_renamed_reordered_and_archived(org):
    caller = Caller(org.head)
    first = caller.post("/settings/loss-reasons", {"name": "Дорого"}).json()
    second = caller.post("/settings/loss-reasons", {"name": "Нет бюджета"}).json()
    assert caller.post("/settings/loss-reasons", {"name": "дорого"}).status_code == 422
    caller.patch(f"/settings/loss-reasons/{second['id']}", {"position": 1})
    caller.patch(f"/settings/loss-reasons/{first['id']}", {"name": "Слишком дорого"})
    names = [r["name"] for r in caller.get("/settings/loss-reasons").json()["items"]]
    assert names == ["Нет бюджета", "Слишком дорого"]
    caller.patch(f"/settings/loss-reasons/{second['id']}", {"is_archived": True})
    assert [r["name"] for r in caller.get("/settings/loss-reasons").json()["items"]] == [
        "Слишком дорого"
    ]


def test_task_goals_per_stage_and_for_every_stage(org):
    caller = Caller(org.head)
    invoice = org.stage("Счёт выставлен")
    anywhere = caller.post("/settings/task-goals", {"text": "Договориться о звонке"})
    assert anywhere.status_code == 201 and anywhere.json()["stage_id"] is None
    paid = caller.post("/settings/task-goals", {"text": "Получить оплату", "stage_id": invoice.id})
    assert paid.json()["stage_id"] == invoice.id
    listed = caller.get("/settings/task-goals", stage_id=invoice.id).json()["items"]
    assert [g["text"] for g in listed] == ["Получить оплату"]
    moved = caller.patch(f"/settings/task-goals/{paid.json()['id']}", {"stage_id": None})
    assert moved.json()["stage_id"] is None


def test_a_goal_for_a_closed_or_foreign_stage_is_refused(org, other_org):
    caller = Caller(org.head)
    won = caller.post(
        "/settings/task-goals", {"text": "Отпраздновать", "stage_id": org.stage("Успешно").id}
    )
    assert won.status_code == 422 and "stage_id" in won.json()["fields"]
    foreign = caller.post(
        "/settings/task-goals",
        {"text": "Позвонить", "stage_id": other_org.stage("Квалификация").id},
    )
    assert foreign.status_code == 422 and "stage_id" in foreign.json()["fields"]
    assert not TaskGoal.objects.exists()


def test_lists_are_paged_with_has_more(org):
    for n in range(3):
        do_create_loss_reason(org.head, name=f"Причина {n}")
    body = Caller(org.head).get("/settings/loss-reasons", limit=2).json()
    assert (len(body["items"]), body["has_more"]) == (2, True)
    rest = Caller(org.head).get("/settings/loss-reasons", limit=2, offset=2).json()
    assert (len(rest["items"]), rest["has_more"]) == (1, False)
