"""The board, the deal list, the deal form and the deal page, for every role."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from voronka.activities.actions import do_complete_task, do_create_task, do_create_task_goal
from voronka.activities.models import Task
from voronka.clients.models import Company, Contact
from voronka.core.actions import do_create_custom_field
from voronka.inbox.actions import do_log_communication
from voronka.sales.actions import (
    do_create_loss_reason,
    do_move_deal,
    do_set_stage_requirements,
    do_update_deal,
    do_update_loss_reason,
)
from voronka.sales.models import Deal, StageChange
from voronka.testing.factories import make_deal, make_pipeline

BOARD = reverse("sales:board")
DEALS = reverse("sales:deal_list")


def deal_url(deal, name="sales:deal_detail"):
    return reverse(name, args=[deal.id])


def signed_in(client, user):
    client.force_login(user)
    return client


def label(field: str) -> str:
    return str(Deal._meta.get_field(field).verbose_name)


def titles_on(response) -> str:
    return response.content.decode()


@pytest.fixture
def deals(org):
    """One deal per manager and senior, named after its owner."""
    people = ["manager1", "manager2", "manager3", "manager4", "senior1", "head"]
    return {
        name: make_deal(getattr(org, name), org.pipeline, title=f"Сделка-{name}") for name in people
    }


# --- who sees what --------------------------------------------------------------------------


def test_manager_sees_only_own_deals_on_the_board_and_in_the_list(client, org, deals):
    signed_in(client, org.manager1)
    for url in (BOARD, DEALS):
        page = titles_on(client.get(url))
        assert "Сделка-manager1" in page
        for other in ("manager2", "manager3", "senior1", "head"):
            assert f"Сделка-{other}" not in page


def test_senior_sees_the_team_but_not_the_other_team(client, org, deals):
    signed_in(client, org.senior1)
    for url in (BOARD, DEALS):
        page = titles_on(client.get(url))
        for mine in ("manager1", "manager2", "senior1"):
            assert f"Сделка-{mine}" in page
        for other in ("manager3", "manager4", "head"):
            assert f"Сделка-{other}" not in page


@pytest.mark.parametrize("role", ["head", "owner", "qc"])
def test_whole_workspace_roles_see_every_deal(client, org, deals, role):
    signed_in(client, getattr(org, role))
    for url in (BOARD, DEALS):
        page = titles_on(client.get(url))
        for name in deals:
            assert f"Сделка-{name}" in page


def test_an_assistant_sees_only_the_deals_handed_to_them(client, org, deals):
    do_update_deal(org.manager1, deals["manager1"], assistant=org.assistant)
    signed_in(client, org.assistant)
    page = titles_on(client.get(BOARD))
    assert "Сделка-manager1" in page and "Сделка-manager2" not in page
    assert client.get(deal_url(deals["manager1"])).status_code == 200
    assert client.get(deal_url(deals["manager2"])).status_code == 404


def test_manager_cannot_see_a_colleagues_deal(client, org, deals):
    signed_in(client, org.manager1)
    theirs = deals["manager2"]
    assert client.get(deal_url(theirs)).status_code == 404
    assert client.get(deal_url(theirs, "sales:deal_edit")).status_code == 404
    response = client.post(
        deal_url(theirs, "sales:deal_move"), {"stage": org.stage("Квалификация").id}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.stage.name == "Новый лид"


def test_senior_opens_a_team_members_deal_but_not_the_other_teams(client, org, deals):
    signed_in(client, org.senior1)
    assert client.get(deal_url(deals["manager2"])).status_code == 200
    assert client.get(deal_url(deals["manager3"])).status_code == 404


def test_another_workspace_sees_nothing_of_ours(client, org, other_org, deals):
    signed_in(client, other_org.head)
    assert "Сделка-manager1" not in titles_on(client.get(BOARD))
    assert "Сделка-manager1" not in titles_on(client.get(DEALS))
    assert client.get(deal_url(deals["manager1"])).status_code == 404
    other_stage = org.stage("Квалификация")
    assert client.get(reverse("sales:board_column", args=[other_stage.id])).status_code == 404


def test_pages_ask_to_sign_in(client, org, deals):
    for url in (BOARD, DEALS, deal_url(deals["head"])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the board ------------------------------------------------------------------------------


def test_board_columns_show_count_and_sum_with_thousands_separators(client, org):
    make_deal(org.manager1, org.pipeline, amount=Decimal("1250000"))
    make_deal(org.manager1, org.pipeline, amount=Decimal("250000"))
    signed_in(client, org.head)
    response = client.get(BOARD)
    column = next(c for c in response.context["columns"] if c.stage.name == "Новый лид")
    assert column.count == 2
    assert column.total == "1\xa0500\xa0000\xa0₽"
    assert "1\xa0500\xa0000\xa0₽" in titles_on(response)


def test_board_card_tells_days_in_stage_owner_client_and_the_next_task(client, org):
    company = Company.objects.create(
        workspace=org.workspace, name="ООО «Весна»", owner=org.manager1
    )
    deal = make_deal(org.manager1, org.pipeline, days_ago=4, company=company)
    do_create_task(
        org.manager1,
        deal=deal,
        goal="Назначить встречу",
        due_at=timezone.now() - timedelta(hours=2),
    )
    do_create_task(org.manager1, deal=deal, goal="Позже", due_at=timezone.now() + timedelta(days=3))
    bare = make_deal(org.manager1, org.pipeline, title="Без задачи")
    signed_in(client, org.manager1)
    response = client.get(BOARD)
    cards = {d.id: d for c in response.context["columns"] for d in c.cards}
    assert cards[deal.id].days_in_stage == 4
    assert cards[deal.id].next_task.goal == "Назначить встречу"
    assert cards[deal.id].next_state == "overdue"
    assert cards[bare.id].next_state == "none"
    page = titles_on(response)
    assert "ООО «Весна»" in page and "Назначить встречу" in page
    assert "next-step-overdue" in page and "next-step-none" in page


def test_board_queries_do_not_grow_with_the_number_of_deals(
    client, org, django_assert_max_num_queries
):
    for i in range(30):
        deal = make_deal(org.manager1, org.pipeline, title=f"D{i}")
        do_create_task(org.manager1, deal=deal, goal="g", due_at=timezone.now())
    signed_in(client, org.head)
    client.get(BOARD)  # warm the session
    with django_assert_max_num_queries(21):  # one of them: the products to filter by
        client.get(BOARD)


def test_board_columns_load_in_pages(client, org):
    for i in range(25):
        make_deal(org.manager1, org.pipeline, title=f"Лид {i:02d}", days_ago=i)
    signed_in(client, org.manager1)
    response = client.get(BOARD)
    column = next(c for c in response.context["columns"] if c.stage.name == "Новый лид")
    assert len(column.cards) == 20 and column.has_more and column.count == 25
    assert column.cards[0].title == "Лид 00"  # newest in the stage first
    more = client.get(
        reverse("sales:board_column", args=[column.stage.id]), {"page": 2}, HTTP_HX_REQUEST="true"
    )
    assert more.status_code == 200
    shown = [d.title for d in more.context["column"].cards]
    assert shown == [f"Лид {i:02d}" for i in range(20, 25)]
    assert not more.context["column"].has_more


def test_won_and_lost_columns_show_only_recently_closed_deals(client, org):
    old = make_deal(org.manager1, org.pipeline, title="Давняя победа")
    do_move_deal(org.manager1, old, org.stage("Успешно"), at=timezone.now() - timedelta(days=90))
    recent = make_deal(org.manager1, org.pipeline, title="Свежая победа")
    do_move_deal(org.manager1, recent, org.stage("Успешно"))
    signed_in(client, org.head)
    page = titles_on(client.get(BOARD))
    assert "Свежая победа" in page and "Давняя победа" not in page
    # the list still finds it
    assert "Давняя победа" in titles_on(client.get(DEALS, {"status": "won"}))


def test_board_filters_by_owner_and_team_among_people_the_viewer_sees(client, org, deals):
    signed_in(client, org.head)
    page = titles_on(client.get(BOARD, {"owner": org.manager3.id}))
    assert "Сделка-manager3" in page and "Сделка-manager1" not in page
    page = titles_on(client.get(BOARD, {"team": org.team1.id}))
    assert "Сделка-manager1" in page and "Сделка-senior1" in page
    assert "Сделка-manager3" not in page

    signed_in(client, org.senior1)
    response = client.get(BOARD, {"owner": org.manager3.id, "team": org.team2.id})
    offered = {u.id for u in response.context["owners"]}
    assert offered == {org.senior1.id, org.manager1.id, org.manager2.id}
    assert response.context["teams"] == [org.team1]
    page = titles_on(response)  # filters naming people out of reach are ignored
    assert "Сделка-manager1" in page and "Сделка-manager3" not in page


def test_board_remembers_the_last_pipeline_in_the_session(client, org):
    cold = make_pipeline(org.workspace, name="Холодные", is_inbound=False)
    make_deal(org.head, cold, title="Холодная сделка")
    signed_in(client, org.head)
    assert "Холодная сделка" not in titles_on(client.get(BOARD))
    assert "Холодная сделка" in titles_on(client.get(BOARD, {"pipeline": cold.id}))
    assert client.get(BOARD).context["pipeline"] == cold


def test_the_quality_controller_gets_a_board_without_dragging(client, org, deals):
    signed_in(client, org.qc)
    page = titles_on(client.get(BOARD))
    assert 'data-writable="0"' in page and "data-move-url" not in page


# --- moving ---------------------------------------------------------------------------------


def move(client, deal, stage, **extra):
    return client.post(
        deal_url(deal, "sales:deal_move"),
        {"stage": stage.id, **extra},
        HTTP_ACCEPT="application/json",
    )


def with_next_step(deal):
    """The deal has an open task, so a drop on the board asks for nothing more."""
    do_create_task(
        deal.owner, deal=deal, goal="Уточнить потребность", due_at=timezone.now() + timedelta(1)
    )
    return deal


def next_step_fields(goal="Согласовать дату встречи", type="meeting"):
    due = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return {"next-type": type, "next-goal": goal, "next-due_at": due}


def test_a_drag_on_the_board_moves_the_deal_and_answers_the_card_and_totals(client, org):
    deal = with_next_step(make_deal(org.manager1, org.pipeline, amount=Decimal("1000")))
    signed_in(client, org.manager1)
    response = move(client, deal, org.stage("Квалификация"))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] and f'data-deal="{deal.id}"' in body["card"]
    assert body["columns"][str(org.stage("Квалификация").id)] == {
        "count": 1,
        "total": "1\xa0000\xa0₽",
    }
    assert body["columns"][str(org.stage("Новый лид").id)]["count"] == 0
    deal.refresh_from_db()
    assert deal.stage.name == "Квалификация"


def test_losing_without_a_reason_is_refused_with_422_and_the_deal_stays(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    response = move(client, deal, org.stage("Проиграно"))
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False and "loss_reason" in body["fields"]
    assert body["message"]
    deal.refresh_from_db()
    assert deal.stage.name == "Новый лид"
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_losing_with_a_reason_moves_and_keeps_the_reason(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    assert move(client, deal, org.stage("Проиграно"), loss_reason="Дорого").status_code == 200
    deal.refresh_from_db()
    assert (deal.stage.name, deal.loss_reason) == ("Проиграно", "Дорого")


def test_marking_lost_offers_the_heads_loss_reasons(client, org):
    do_create_loss_reason(org.head, name="Дорого")
    old = do_create_loss_reason(org.head, name="Устаревшая причина")
    do_update_loss_reason(org.head, old, is_archived=True)
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    assert client.get(BOARD).context["loss_reasons"] == ["Дорого"]
    page = titles_on(client.get(deal_url(deal)))
    assert "<option>Дорого</option>" in page and "Устаревшая причина" not in page
    assert move(client, deal, org.stage("Проиграно"), loss_reason="Дорого").status_code == 200


@pytest.fixture
def invoice_needed(org):
    """«Счёт выставлен» wants the invoice number and a payment type (a custom choice)."""
    do_create_custom_field(
        org.head,
        entity="deal",
        label="Тип оплаты",
        key="payment",
        type="choice",
        choices=["Предоплата", "Постоплата"],
    )
    stage = org.stage("Счёт выставлен")
    do_set_stage_requirements(org.head, stage, ["invoice_no", "custom.payment"])
    return stage


def test_a_drop_on_a_stage_wanting_fields_asks_for_them_and_saves_them_with_the_move(
    client, org, invoice_needed
):
    deal = with_next_step(make_deal(org.manager1, org.pipeline))
    signed_in(client, org.manager1)
    refused = move(client, deal, invoice_needed)
    assert refused.status_code == 422
    body = refused.json()
    assert set(body["fields"]) == {"invoice_no", "custom.payment"}
    assert 'name="entry-invoice_no"' in body["form"]
    assert 'name="entry-custom.payment"' in body["form"] and "Постоплата" in body["form"]
    deal.refresh_from_db()
    assert deal.stage.name == "Новый лид"

    half = move(client, deal, invoice_needed, **{"entry-invoice_no": "С-17"})
    assert half.status_code == 422 and set(half.json()["fields"]) == {"custom.payment"}
    deal.refresh_from_db()
    assert (deal.stage.name, deal.invoice_no) == ("Новый лид", "")

    done = move(
        client,
        deal,
        invoice_needed,
        **{"entry-invoice_no": "С-17", "entry-custom.payment": "Предоплата"},
    )
    assert done.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == invoice_needed
    assert (deal.invoice_no, deal.custom) == ("С-17", {"payment": "Предоплата"})


def test_a_drop_that_would_leave_the_deal_without_a_next_step_asks_for_one(client, org):
    do_create_task_goal(org.head, text="Назначить встречу", stage=org.stage("Квалификация"))
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    asked = move(client, deal, org.stage("Квалификация"))
    assert asked.status_code == 422
    body = asked.json()
    assert body["code"] == "next_step" and body["title"] and body["message"]
    assert 'name="next-goal"' in body["form"] and 'name="next-due_at"' in body["form"]
    assert '<option value="Назначить встречу">' in body["form"]  # the stage's goals
    assert "entry-" not in body["form"]
    deal.refresh_from_db()
    assert deal.stage.name == "Новый лид"
    assert StageChange.objects.filter(deal=deal).count() == 1

    done = move(client, deal, org.stage("Квалификация"), **next_step_fields())
    assert done.status_code == 200
    deal.refresh_from_db()
    assert deal.stage.name == "Квалификация"
    [task] = Task.objects.filter(deal=deal, done_at__isnull=True)
    assert (task.type, task.goal, task.owner) == (
        "meeting",
        "Согласовать дату встречи",
        org.manager1,
    )


def test_a_drop_asks_for_the_stages_fields_and_the_next_step_in_one_form(
    client, org, invoice_needed
):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    asked = move(client, deal, invoice_needed)
    assert asked.status_code == 422
    body = asked.json()
    assert set(body["fields"]) == {"invoice_no", "custom.payment"}
    assert "title" not in body  # the dialog keeps its title about the stage's fields
    assert 'name="entry-invoice_no"' in body["form"] and 'name="next-goal"' in body["form"]

    # The fields, and a next step whose due time is missing: nothing is saved.
    wanting = move(
        client,
        deal,
        invoice_needed,
        **{"entry-invoice_no": "С-20", "entry-custom.payment": "Предоплата"},
        **{**next_step_fields(), "next-due_at": ""},
    )
    assert wanting.status_code == 422
    assert 'name="next-goal"' in wanting.json()["form"]
    assert "Согласовать дату встречи" in wanting.json()["form"]  # what was typed stays
    deal.refresh_from_db()
    assert (deal.stage.name, deal.invoice_no) == ("Новый лид", "")
    assert not Task.objects.filter(deal=deal).exists()

    done = move(
        client,
        deal,
        invoice_needed,
        **{"entry-invoice_no": "С-20", "entry-custom.payment": "Предоплата"},
        **next_step_fields(goal="Получить подписанный договор", type="call"),
    )
    assert done.status_code == 200
    deal.refresh_from_db()
    assert (deal.stage, deal.invoice_no) == (invoice_needed, "С-20")
    assert list(Task.objects.filter(deal=deal).values_list("goal", flat=True)) == [
        "Получить подписанный договор"
    ]


def test_a_drop_with_the_next_step_left_empty_moves_the_deal_without_one(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    assert move(client, deal, org.stage("Квалификация")).status_code == 422
    done = move(client, deal, org.stage("Квалификация"), **next_step_fields(goal=""))
    assert done.status_code == 200
    deal.refresh_from_db()
    assert deal.stage.name == "Квалификация"
    assert not Task.objects.filter(deal=deal).exists()  # flagged on the control screen


def test_a_drop_on_a_closed_stage_asks_for_no_next_step(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    assert move(client, deal, org.stage("Успешно")).status_code == 200
    assert move(client, deal, org.stage("Квалификация")).status_code == 422  # reopened: asked


def test_the_deal_page_asks_for_a_stages_fields_in_place(client, org, invoice_needed):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    url = deal_url(deal, "sales:deal_move")
    refused = client.post(url, {"stage": invoice_needed.id}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    page = titles_on(refused)
    assert 'name="entry-invoice_no"' in page and 'name="entry-custom.payment"' in page
    done = client.post(
        url,
        {
            "stage": invoice_needed.id,
            "entry-invoice_no": "С-18",
            "entry-custom.payment": "Постоплата",
        },
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 200
    deal.refresh_from_db()
    assert (deal.stage, deal.invoice_no) == (invoice_needed, "С-18")


def test_the_deal_form_fills_custom_fields(client, org, invoice_needed):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    form = client.get(deal_url(deal, "sales:deal_edit")).context["form"]
    assert "custom.payment" in form.fields and "invoice_no" in form.fields
    response = client.post(
        deal_url(deal, "sales:deal_edit"),
        {
            "title": deal.title,
            "owner": org.manager1.id,
            "currency": "RUB",
            "custom.payment": "Постоплата",
            "invoice_no": "С-19",
        },
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.custom, deal.invoice_no) == ({"payment": "Постоплата"}, "С-19")
    with_next_step(deal)
    assert move(client, deal, invoice_needed).status_code == 200


def test_a_stage_of_another_pipeline_is_refused(client, org):
    cold = make_pipeline(org.workspace, name="Холодные", is_inbound=False)
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    response = move(client, deal, cold.stages.first())
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.pipeline == org.pipeline


def test_the_deal_page_move_refusal_asks_for_the_reason_in_place(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    response = client.post(
        deal_url(deal, "sales:deal_move"),
        {"stage": org.stage("Проиграно").id},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    page = titles_on(response)
    assert 'id="deal-stages"' in page and "alert-danger" in page
    ok = client.post(
        deal_url(deal, "sales:deal_move"),
        {"stage": org.stage("Квалификация").id},
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200
    assert "dealChanged" in json.loads(ok["HX-Trigger"])


def test_a_plain_form_move_redirects_back_to_the_deal(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    response = client.post(deal_url(deal, "sales:deal_move"), {"stage": org.stage("Успешно").id})
    assert response.status_code == 302 and response["Location"] == deal_url(deal)
    deal.refresh_from_db()
    assert deal.stage.kind == "won" and deal.closed_at is not None


def test_the_quality_controller_may_not_move_a_deal(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.qc)
    assert move(client, deal, org.stage("Квалификация")).status_code == 404
    deal.refresh_from_db()
    assert deal.stage.name == "Новый лид"


# --- the deal list --------------------------------------------------------------------------


def test_deal_list_searches_titles_and_company_names(client, org):
    acme = Company.objects.create(workspace=org.workspace, name="Альфа-Строй", owner=org.head)
    make_deal(org.head, org.pipeline, title="Поставка труб", company=acme)
    make_deal(org.head, org.pipeline, title="Сервис котельной")
    signed_in(client, org.head)
    assert "Поставка труб" in titles_on(client.get(DEALS, {"q": "альфа"}))
    assert "Сервис котельной" not in titles_on(client.get(DEALS, {"q": "альфа"}))
    assert "Сервис котельной" in titles_on(client.get(DEALS, {"q": "котельн"}))


def test_deal_list_filters_by_stage_status_owner_and_team(client, org, deals):
    do_move_deal(org.manager3, deals["manager3"], org.stage("Квалификация"))
    do_move_deal(org.manager4, deals["manager4"], org.stage("Проиграно"), loss_reason="Нет")
    signed_in(client, org.head)

    def shown(**params):
        return {d.title for d in client.get(DEALS, params).context["page"].rows}

    assert shown(stage=org.stage("Квалификация").id) == {"Сделка-manager3"}
    assert shown(status="lost") == {"Сделка-manager4"}
    assert shown(owner=org.manager2.id) == {"Сделка-manager2"}
    assert shown(team=org.team2.id) == {"Сделка-manager3", "Сделка-manager4"}
    assert shown(status="open", team=org.team2.id) == {"Сделка-manager3"}


def test_deal_list_sorts_both_ways_with_a_stable_order(client, org):
    for amount in (300, 100, 200):
        make_deal(org.head, org.pipeline, title=f"Сумма {amount}", amount=Decimal(amount))
    signed_in(client, org.head)

    def order(sort):
        return [d.title for d in client.get(DEALS, {"sort": sort}).context["page"].rows]

    assert order("amount") == ["Сумма 100", "Сумма 200", "Сумма 300"]
    assert order("-amount") == ["Сумма 300", "Сумма 200", "Сумма 100"]
    assert order("title") == ["Сумма 100", "Сумма 200", "Сумма 300"]
    assert len(order("created")) == 3 and len(order("-stage_date")) == 3


def test_deal_list_pages_by_fifty_with_a_capped_count(client, org, monkeypatch):
    from voronka.sales import views

    for i in range(55):
        make_deal(org.head, org.pipeline, title=f"Сделка {i:02d}", days_ago=i)
    signed_in(client, org.head)
    first = client.get(DEALS).context["page"]
    assert len(first.rows) == 50 and first.has_next and first.total == 55
    second = client.get(DEALS, {"page": 2}).context["page"]
    assert [d.title for d in second.rows] == [f"Сделка {i:02d}" for i in range(50, 55)]
    monkeypatch.setattr(views, "COUNT_CAP", 40)
    capped = client.get(DEALS)
    assert capped.context["page"].capped and capped.context["page"].total == 40
    with translation.override(org.head.language):
        assert translation.gettext("%(n)s+ deals") % {"n": "40"} in titles_on(capped)


def test_deal_list_says_what_to_do_when_empty(client, org):
    signed_in(client, org.manager1)
    page = titles_on(client.get(DEALS))
    assert reverse("sales:deal_create") in page
    assert reverse("sales:deal_list") in titles_on(client.get(DEALS, {"q": "нет такого"}))


# --- create and edit ------------------------------------------------------------------------


def test_a_manager_creates_a_deal_prefilled_from_a_company(client, org):
    company = Company.objects.create(workspace=org.workspace, name="Весна", owner=org.manager1)
    signed_in(client, org.manager1)
    form = client.get(reverse("sales:deal_create"), {"company": company.id}).context["form"]
    assert form.initial["company"] == company
    assert list(form.fields["owner"].queryset) == [org.manager1]
    response = client.post(
        reverse("sales:deal_create"),
        {
            "title": "Новая поставка",
            "pipeline": org.pipeline.id,
            "company": company.id,
            "owner": org.manager1.id,
            "amount": "150000",
            "currency": "RUB",
        },
    )
    deal = Deal.objects.get(title="Новая поставка")
    assert response.status_code == 302 and response["Location"] == deal_url(deal)
    assert (deal.company, deal.owner, deal.stage.name) == (company, org.manager1, "Новый лид")


def test_the_deal_form_offers_only_what_the_viewer_may_see(client, org):
    theirs = Company.objects.create(workspace=org.workspace, name="Чужая", owner=org.manager3)
    Contact.objects.create(workspace=org.workspace, first_name="Чужой", owner=org.manager3)
    signed_in(client, org.manager1)
    assert client.get(reverse("sales:deal_create"), {"company": theirs.id}).status_code == 404
    form = client.get(reverse("sales:deal_create")).context["form"]
    assert theirs not in form.fields["company"].queryset
    assert not form.fields["contact"].queryset.filter(first_name="Чужой").exists()
    response = client.post(
        reverse("sales:deal_create"),
        {
            "title": "Подлог",
            "pipeline": org.pipeline.id,
            "company": theirs.id,
            "owner": org.manager3.id,
            "currency": "RUB",
        },
    )
    assert response.status_code == 422
    assert not Deal.objects.filter(title="Подлог").exists()


def test_a_deal_without_a_title_is_refused_with_the_reason(client, org):
    signed_in(client, org.manager1)
    response = client.post(
        reverse("sales:deal_create"),
        {"title": " ", "pipeline": org.pipeline.id, "owner": org.manager1.id, "currency": "RUB"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["title"]


def test_editing_a_deal_records_only_what_changed(client, org):
    deal = make_deal(org.manager1, org.pipeline, amount=Decimal("100"))
    signed_in(client, org.manager1)
    response = client.post(
        deal_url(deal, "sales:deal_edit"),
        {"title": deal.title, "owner": org.manager1.id, "amount": "250", "currency": "RUB"},
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.amount == Decimal("250")
    latest = deal.history.first()
    assert latest.history_user == org.manager1
    assert [c.field for c in latest.diff_against(latest.prev_record).changes] == ["amount"]


def test_the_quality_controller_cannot_create_or_edit(client, org):
    deal = make_deal(org.manager1, org.pipeline, title="Как было")
    signed_in(client, org.qc)
    assert client.get(reverse("sales:deal_create")).status_code == 404
    # The deal is visible to them: its edit page says they may only read it.
    page = client.get(deal_url(deal, "sales:deal_edit"))
    assert page.status_code == 403 and deal_url(deal) in titles_on(page)
    posted = client.post(
        deal_url(deal, "sales:deal_edit"),
        {"title": "Иначе", "owner": org.manager1.id, "currency": "RUB"},
    )
    assert posted.status_code == 403
    deal.refresh_from_db()
    assert deal.title == "Как было"


# --- the deal page --------------------------------------------------------------------------


def test_the_timeline_shows_a_stage_change_and_a_field_change_by_name(client, org):
    deal = make_deal(org.manager1, org.pipeline, amount=Decimal("1000"))
    do_move_deal(org.manager1, deal, org.stage("Квалификация"))
    org.manager2.first_name, org.manager2.last_name = "Ольга", "Смирнова"
    org.manager2.save()
    do_update_deal(org.head, deal, owner=org.manager2, amount=Decimal("2500000"))
    signed_in(client, org.head)
    response = client.get(deal_url(deal))
    entries = response.context["entries"]
    kinds = [e.kind for e in entries]
    assert kinds.index("fields") < kinds.index("stage")  # newest first
    stage = next(e for e in entries if e.kind == "stage" and e.obj.from_stage)
    assert (stage.obj.from_stage.name, stage.obj.to_stage.name) == ("Новый лид", "Квалификация")
    assert stage.actor == org.manager1
    fields = next(e for e in entries if e.kind == "fields")
    changes = {c.label: (c.old, c.new) for c in fields.changes}
    assert changes[label("owner")] == (str(org.manager1), "Ольга Смирнова")
    assert changes[label("amount")] == ("1\xa0000\xa0₽", "2\xa0500\xa0000\xa0₽")
    assert fields.actor == org.head
    page = titles_on(response)
    assert "Ольга Смирнова" in page and "Квалификация" in page


def test_the_timeline_merges_communications_and_tasks(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    do_log_communication(
        org.manager1, kind="call", deal=deal, comment="Обсудили сроки", duration_seconds=125
    )
    task = do_create_task(
        org.manager1, deal=deal, goal="Выслать КП", due_at=timezone.now() + timedelta(days=1)
    )
    do_complete_task(org.manager1, task, result="КП отправлено")
    signed_in(client, org.manager1)
    response = client.get(deal_url(deal))
    kinds = [e.kind for e in response.context["entries"]]
    assert {"communication", "task_planned", "task_done", "stage"} <= set(kinds)
    page = titles_on(response)
    assert "Обсудили сроки" in page and "КП отправлено" in page and "2:05" in page


def test_a_deal_without_an_open_task_warns_no_next_step(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    assert client.get(deal_url(deal)).context["no_next_step"]
    do_create_task(org.manager1, deal=deal, goal="Позвонить", due_at=timezone.now())
    assert not client.get(deal_url(deal)).context["no_next_step"]
    closed = make_deal(org.manager1, org.pipeline)
    do_move_deal(org.manager1, closed, org.stage("Успешно"))
    assert not client.get(deal_url(closed)).context["no_next_step"]


def test_the_deal_page_has_forms_for_writers_and_none_for_the_quality_controller(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    page = titles_on(client.get(deal_url(deal)))
    for url in (
        reverse("inbox:communication_create"),
        reverse("activities:task_create"),
        deal_url(deal, "sales:deal_move"),
        deal_url(deal, "sales:deal_edit"),
    ):
        assert url in page
    signed_in(client, org.qc)
    page = titles_on(client.get(deal_url(deal)))
    for url in (
        reverse("inbox:communication_create"),
        reverse("activities:task_create"),
        deal_url(deal, "sales:deal_move"),
        deal_url(deal, "sales:deal_edit"),
    ):
        assert url not in page


def test_the_deal_page_reloads_its_live_parts_for_htmx(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    signed_in(client, org.manager1)
    live = client.get(deal_url(deal), {"part": "live"}, HTTP_HX_REQUEST="true")
    page = titles_on(live)
    for part in ("deal-stages", "deal-next-step", "deal-facts", "deal-timeline"):
        assert f'id="{part}"' in page
    assert page.count('hx-swap-oob="true"') == 4
    assert "<html" not in page
