"""Pipelines and deals over the API."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from voronka.api.tests.caller import Caller
from voronka.clients.actions import do_create_company, do_create_contact
from voronka.core.actions import do_create_custom_field
from voronka.sales.actions import (
    do_create_loss_reason,
    do_create_pipeline,
    do_set_stage_requirements,
    do_update_deal,
    do_update_pipeline_rules,
)
from voronka.sales.models import Deal, StageChange
from voronka.testing.factories import make_deal


def test_pipelines_come_with_their_stages_in_funnel_order(org):
    body = Caller(org.manager1).get("/pipelines").json()
    assert [p["name"] for p in body["items"]] == ["Входящие"]
    stages = body["items"][0]["stages"]
    assert [s["name"] for s in stages][:2] == ["Новый лид", "Квалификация"]
    assert [s["kind"] for s in stages][-2:] == ["won", "lost"]
    assert body["has_more"] is False


def test_one_pipeline_is_read_by_id_and_another_workspaces_is_404(org, other_org):
    caller = Caller(org.manager1)
    response = caller.get(f"/pipelines/{org.pipeline.id}")
    assert response.status_code == 200
    assert len(response.json()["stages"]) == 7
    assert caller.get(f"/pipelines/{other_org.pipeline.id}").status_code == 404


def test_a_manager_creates_a_deal_at_the_first_open_stage(org):
    company = do_create_company(org.manager1, name="Ромашка")
    response = Caller(org.manager1).post(
        "/deals",
        {
            "title": "Поставка",
            "pipeline_id": org.pipeline.id,
            "company_id": company.id,
            "amount": "150000.50",
            "currency": "rub",
            "expected_close": "2030-03-01",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["stage_id"] == org.stage("Новый лид").id
    assert (body["owner_id"], body["company_id"]) == (org.manager1.id, company.id)
    assert (body["amount"], body["currency"]) == ("150000.50", "RUB")
    assert StageChange.objects.filter(deal_id=body["id"]).count() == 1


def test_an_amount_may_be_a_number(org):
    response = Caller(org.manager1).post(
        "/deals", {"title": "Поставка", "pipeline_id": org.pipeline.id, "amount": 990}
    )
    assert response.status_code == 201
    assert response.json()["amount"] == "990.00"


def test_an_amount_with_three_decimals_or_a_word_is_422_on_amount(org):
    caller = Caller(org.manager1)
    for amount in ("10.005", "много", -5):
        response = caller.post(
            "/deals", {"title": "Поставка", "pipeline_id": org.pipeline.id, "amount": amount}
        )
        assert response.status_code == 422, amount
        assert set(response.json()["fields"]) == {"amount"}


def test_a_currency_is_three_letters(org):
    response = Caller(org.manager1).post(
        "/deals", {"title": "Поставка", "pipeline_id": org.pipeline.id, "currency": "RUBL"}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"currency"}


def test_a_deal_with_a_colleagues_company_is_422_on_company_id_as_if_it_did_not_exist(org):
    theirs = do_create_company(org.manager2, name="Чужая")
    caller = Caller(org.manager1)
    bodies = []
    for company_id in (theirs.id, 987654321):
        response = caller.post(
            "/deals",
            {"title": "Поставка", "pipeline_id": org.pipeline.id, "company_id": company_id},
        )
        assert response.status_code == 422
        assert set(response.json()["fields"]) == {"company_id"}
        bodies.append(response.json())
    assert bodies[0] == bodies[1]
    assert not Deal.objects.exists()


def test_a_deal_with_a_colleagues_contact_is_422_on_contact_id(org):
    theirs = do_create_contact(org.manager2, first_name="Анна")
    response = Caller(org.manager1).post(
        "/deals", {"title": "Поставка", "pipeline_id": org.pipeline.id, "contact_id": theirs.id}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"contact_id"}


def test_a_deal_at_a_stage_of_another_pipeline_is_422_on_stage_id(org):
    cold = do_create_pipeline(org.head, name="Холодные")
    response = Caller(org.manager1).post(
        "/deals",
        {
            "title": "Поставка",
            "pipeline_id": org.pipeline.id,
            "stage_id": cold.stages.first().id,
        },
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"stage_id"}


def test_a_senior_gives_a_deal_to_a_team_member_but_not_to_another_team(org):
    caller = Caller(org.senior1)
    ok = caller.post(
        "/deals", {"title": "А", "pipeline_id": org.pipeline.id, "owner_id": org.manager2.id}
    )
    assert ok.status_code == 201 and ok.json()["owner_id"] == org.manager2.id
    refused = caller.post(
        "/deals", {"title": "Б", "pipeline_id": org.pipeline.id, "owner_id": org.manager3.id}
    )
    assert refused.status_code == 422
    assert set(refused.json()["fields"]) == {"owner_id"}


def test_a_manager_sees_only_own_deals_and_gets_404_for_a_colleagues(org):
    own = make_deal(org.manager1, org.pipeline)
    theirs = make_deal(org.manager2, org.pipeline)
    caller = Caller(org.manager1)
    assert caller.ids("/deals") == [own.id]
    assert caller.get(f"/deals/{own.id}").status_code == 200
    for response in (
        caller.get(f"/deals/{theirs.id}"),
        caller.patch(f"/deals/{theirs.id}", {"title": "Моя"}),
        caller.post(f"/deals/{theirs.id}/move", {"stage_id": org.stage("Квалификация").id}),
        caller.get(f"/deals/{theirs.id}/stage-changes"),
    ):
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.title, theirs.stage.name) != ("Моя", "Квалификация")


def test_a_senior_sees_the_teams_deals_and_no_other_teams(org):
    a = make_deal(org.manager1, org.pipeline, days_ago=2)
    b = make_deal(org.manager2, org.pipeline, days_ago=1)
    c = make_deal(org.senior1, org.pipeline, days_ago=3)
    other_team = make_deal(org.manager3, org.pipeline)
    caller = Caller(org.senior1)
    assert caller.ids("/deals") == [b.id, a.id, c.id]
    assert caller.get(f"/deals/{other_team.id}").status_code == 404


def test_another_workspaces_deal_is_404_even_for_the_owner(org, other_org):
    foreign = make_deal(other_org.manager1, other_org.pipeline)
    assert Caller(org.owner).get(f"/deals/{foreign.id}").status_code == 404
    assert foreign.id not in Caller(org.owner).ids("/deals")


def test_a_deal_is_read_in_one_query(org):
    company = do_create_company(org.manager1, name="Ромашка")
    contact = do_create_contact(org.manager1, first_name="Анна", company=company)
    deal = make_deal(org.manager1, org.pipeline, company=company, contact=contact)
    caller = Caller(org.manager1)
    caller.get("/me")  # the token's last use is recorded once a minute, not on this read
    with CaptureQueriesContext(connection) as queries:
        response = caller.get(f"/deals/{deal.id}")
    assert response.status_code == 200
    deal_queries = [q["sql"] for q in queries.captured_queries if "sales_deal" in q["sql"]]
    assert len(deal_queries) == 1
    assert len(queries.captured_queries) <= 2  # the token, then the deal


def test_pages_say_whether_more_follow(org):
    deals = [make_deal(org.manager1, org.pipeline, days_ago=n) for n in range(5)]
    caller = Caller(org.manager1)
    first = caller.get("/deals", limit=2).json()
    assert [d["id"] for d in first["items"]] == [deals[0].id, deals[1].id]
    assert (first["limit"], first["offset"], first["has_more"]) == (2, 0, True)
    last = caller.get("/deals", limit=2, offset=4).json()
    assert [d["id"] for d in last["items"]] == [deals[4].id]
    assert last["has_more"] is False
    exact = caller.get("/deals", limit=5).json()
    assert len(exact["items"]) == 5 and exact["has_more"] is False


def test_the_default_page_is_50_and_the_largest_200(org):
    caller = Caller(org.manager1)
    assert caller.get("/deals").json()["limit"] == 50
    assert caller.get("/deals", limit=200).status_code == 200
    assert caller.get("/deals", limit=0).status_code == 422


def test_deals_are_filtered_by_owner_stage_pipeline_company_and_title(org):
    company = do_create_company(org.head, name="Ромашка", owner=org.manager1)
    a = make_deal(org.manager1, org.pipeline, title="Поставка станков", company=company)
    b = make_deal(
        org.manager2, org.pipeline, title="Поставка труб", stage=org.stage("Квалификация")
    )
    cold = do_create_pipeline(org.head, name="Холодные")
    c = make_deal(org.manager2, cold, title="Холодный звонок")
    caller = Caller(org.head)
    assert caller.ids("/deals", owner_id=org.manager2.id, sort="id") == [b.id, c.id]
    assert caller.ids("/deals", stage_id=org.stage("Квалификация").id) == [b.id]
    assert caller.ids("/deals", pipeline_id=cold.id) == [c.id]
    assert caller.ids("/deals", company_id=company.id) == [a.id]
    assert caller.ids("/deals", q="поставка", sort="id") == [a.id, b.id]


def test_deals_changed_since_a_moment_are_listed_oldest_change_first(org):
    old = make_deal(org.manager1, org.pipeline)
    Deal.objects.filter(id=old.id).update(updated_at=timezone.now() - timedelta(days=3))
    fresh = make_deal(org.manager1, org.pipeline)
    touched = make_deal(org.manager1, org.pipeline)
    do_update_deal(org.manager1, touched, source="Сайт")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    caller = Caller(org.manager1)
    assert caller.ids("/deals", updated_since=since, sort="updated_at") == [fresh.id, touched.id]


def test_a_moment_without_an_offset_is_422(org):
    response = Caller(org.manager1).get("/deals", updated_since="2025-01-01T10:00:00")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"updated_since"}


def test_a_deal_is_updated_by_patch(org):
    deal = make_deal(org.manager1, org.pipeline)
    response = Caller(org.manager1).patch(
        f"/deals/{deal.id}", {"amount": 5000, "source": "Выставка", "expected_close": None}
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert (str(deal.amount), deal.source) == ("5000.00", "Выставка")


def test_the_stage_is_not_changed_by_patch(org):
    deal = make_deal(org.manager1, org.pipeline)
    response = Caller(org.manager1).patch(
        f"/deals/{deal.id}", {"stage_id": org.stage("Успешно").id}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"stage_id"}


def test_a_deal_moves_and_its_history_records_it(org):
    deal = make_deal(org.manager1, org.pipeline)
    target = org.stage("Квалификация")
    caller = Caller(org.manager1)
    response = caller.post(f"/deals/{deal.id}/move", {"stage_id": target.id})
    assert response.status_code == 200
    assert response.json()["stage_id"] == target.id
    history = caller.get(f"/deals/{deal.id}/stage-changes").json()["items"]
    assert [(h["from_stage_id"], h["to_stage_id"]) for h in history] == [
        (None, org.stage("Новый лид").id),
        (org.stage("Новый лид").id, target.id),
    ]
    assert history[-1]["changed_by_id"] == org.manager1.id


def test_a_move_to_the_lost_stage_without_a_reason_is_422_naming_loss_reason(org):
    deal = make_deal(org.manager1, org.pipeline)
    response = Caller(org.manager1).post(
        f"/deals/{deal.id}/move", {"stage_id": org.stage("Проиграно").id}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "missing_fields"
    assert set(body["fields"]) == {"loss_reason"}
    deal.refresh_from_db()
    assert deal.stage.name == "Новый лид"


def test_a_lost_deal_keeps_its_reason(org):
    deal = make_deal(org.manager1, org.pipeline)
    response = Caller(org.manager1).post(
        f"/deals/{deal.id}/move",
        {"stage_id": org.stage("Проиграно").id, "loss_reason": "Дорого"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["loss_reason"] == "Дорого" and body["closed_at"] is not None


def test_a_move_to_a_stage_of_another_pipeline_or_workspace_is_422_naming_stage_id(org, other_org):
    deal = make_deal(org.manager1, org.pipeline)
    cold = do_create_pipeline(org.head, name="Холодные")
    caller = Caller(org.manager1)
    for stage in (cold.stages.first(), other_org.stage("Квалификация")):
        response = caller.post(f"/deals/{deal.id}/move", {"stage_id": stage.id})
        assert response.status_code == 422
        assert set(response.json()["fields"]) == {"stage_id"}


def test_the_quality_controller_reads_deals_but_gets_403_on_every_write(org):
    deal = make_deal(org.manager1, org.pipeline)
    caller = Caller(org.qc)
    assert caller.get(f"/deals/{deal.id}").status_code == 200
    writes = (
        caller.patch(f"/deals/{deal.id}", {"title": "Проверено"}),
        caller.post(f"/deals/{deal.id}/move", {"stage_id": org.stage("Квалификация").id}),
        caller.post("/deals", {"title": "Новая", "pipeline_id": org.pipeline.id}),
    )
    for response in writes:
        assert response.status_code == 403
        assert response.json()["code"] == "not_allowed"
    deal.refresh_from_db()
    assert deal.title != "Проверено" and deal.stage.name == "Новый лид"


def test_the_assistant_works_the_deals_handed_to_them_only(org):
    handed = make_deal(org.manager1, org.pipeline, assistant=org.assistant)
    other = make_deal(org.manager1, org.pipeline)
    caller = Caller(org.assistant)
    assert caller.ids("/deals") == [handed.id]
    assert caller.patch(f"/deals/{handed.id}", {"source": "Документы"}).status_code == 200
    assert caller.get(f"/deals/{other.id}").status_code == 404


# --- Stage gates over the API -------------------------------------------------------------------


def _require_invoice(org):
    stage = org.stage("Счёт выставлен")
    return do_set_stage_requirements(org.head, stage, ["invoice_no", "invoice_amount"])


def test_a_move_without_the_stages_required_fields_is_422_naming_both(org):
    invoice = _require_invoice(org)
    deal = make_deal(org.manager2, org.pipeline)
    response = Caller(org.manager2).post(f"/deals/{deal.id}/move", {"stage_id": invoice.id})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "missing_fields"
    assert list(body["fields"]) == ["invoice_no", "invoice_amount"]
    assert "Номер счёта" in body["message"]
    deal.refresh_from_db()
    assert deal.stage.name == "Новый лид"


def test_the_missing_fields_come_in_the_same_request_and_the_move_succeeds(org):
    invoice = _require_invoice(org)
    deal = make_deal(org.manager2, org.pipeline)
    response = Caller(org.manager2).post(
        f"/deals/{deal.id}/move",
        {"stage_id": invoice.id, "fields": {"invoice_no": "С-17", "invoice_amount": "150000.00"}},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["stage_id"] == invoice.id
    assert (body["invoice_no"], body["invoice_amount"]) == ("С-17", "150000.00")


def test_a_bad_value_sent_with_a_move_is_422_on_that_field(org):
    invoice = _require_invoice(org)
    deal = make_deal(org.manager2, org.pipeline)
    response = Caller(org.manager2).post(
        f"/deals/{deal.id}/move",
        {"stage_id": invoice.id, "fields": {"invoice_no": "С-1", "invoice_amount": "много"}},
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"invoice_amount"}


def test_a_required_company_is_sent_by_id_and_a_colleagues_is_not_found(org):
    stage = org.stage("Квалификация")
    do_set_stage_requirements(org.head, stage, ["company"])
    deal = make_deal(org.manager1, org.pipeline)
    caller = Caller(org.manager1)
    refused = caller.post(f"/deals/{deal.id}/move", {"stage_id": stage.id})
    assert set(refused.json()["fields"]) == {"company_id"}
    theirs = do_create_company(org.manager3, name="Чужая")
    hidden = caller.post(
        f"/deals/{deal.id}/move", {"stage_id": stage.id, "fields": {"company_id": theirs.id}}
    )
    assert hidden.status_code == 422 and set(hidden.json()["fields"]) == {"company_id"}
    ours = do_create_company(org.manager1, name="Своя")
    moved = caller.post(
        f"/deals/{deal.id}/move", {"stage_id": stage.id, "fields": {"company_id": ours.id}}
    )
    assert moved.status_code == 200 and moved.json()["company_id"] == ours.id


def test_custom_fields_are_written_and_read_with_the_deal(org):
    do_create_custom_field(
        org.head, entity="deal", label="Тип оплаты", key="payment", type="choice",
        choices=["Безнал", "Наличные"],
    )  # fmt: skip
    stage = org.stage("КП отправлено")
    do_set_stage_requirements(org.head, stage, ["custom.payment"])
    caller = Caller(org.manager1)
    created = caller.post(
        "/deals",
        {"title": "Поставка", "pipeline_id": org.pipeline.id, "custom": {"payment": "Безнал"}},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["custom"] == {"payment": "Безнал"}
    assert caller.post(f"/deals/{body['id']}/move", {"stage_id": stage.id}).status_code == 200
    wrong = caller.patch(f"/deals/{body['id']}", {"custom": {"payment": "Бартер"}})
    assert wrong.status_code == 422 and set(wrong.json()["fields"]) == {"custom.payment"}
    emptied = caller.patch(f"/deals/{body['id']}", {"custom": {"payment": None}})
    assert emptied.status_code == 422  # «КП отправлено» requires it
    assert caller.get(f"/deals/{body['id']}").json()["custom"] == {"payment": "Безнал"}


def test_a_deal_created_at_a_gated_stage_needs_its_fields(org):
    invoice = _require_invoice(org)
    caller = Caller(org.manager1)
    values = {"title": "Счёт", "pipeline_id": org.pipeline.id, "stage_id": invoice.id}
    refused = caller.post("/deals", values)
    assert refused.status_code == 422
    assert list(refused.json()["fields"]) == ["invoice_no", "invoice_amount"]
    created = caller.post("/deals", {**values, "invoice_no": "С-9", "invoice_amount": 700})
    assert created.status_code == 201
    assert created.json()["invoice_amount"] == "700.00"


def test_a_loss_reason_off_the_heads_list_is_422(org):
    do_create_loss_reason(org.head, name="Дорого")
    deal = make_deal(org.manager1, org.pipeline)
    caller = Caller(org.manager1)
    lost = org.stage("Проиграно").id
    off = caller.post(f"/deals/{deal.id}/move", {"stage_id": lost, "loss_reason": "Так вышло"})
    assert off.status_code == 422 and set(off.json()["fields"]) == {"loss_reason"}
    on = caller.post(f"/deals/{deal.id}/move", {"stage_id": lost, "loss_reason": "Дорого"})
    assert on.status_code == 200


def test_the_order_rules_refuse_a_skip_over_the_api_naming_the_stage(org):
    do_update_pipeline_rules(org.head, org.pipeline, no_skipping=True)
    deal = make_deal(org.manager1, org.pipeline)
    response = Caller(org.manager1).post(
        f"/deals/{deal.id}/move", {"stage_id": org.stage("КП отправлено").id}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "move_refused"
    assert set(response.json()["fields"]) == {"stage_id"}


def test_stages_name_their_requirements(org):
    _require_invoice(org)
    stages = Caller(org.manager1).get(f"/pipelines/{org.pipeline.id}").json()["stages"]
    required = {s["name"]: s["required_fields"] for s in stages}
    assert required["Счёт выставлен"] == ["invoice_no", "invoice_amount"]
    assert required["Новый лид"] == []
