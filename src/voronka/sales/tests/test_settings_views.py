"""The funnel settings pages: pipelines and stages, for the head of sales and the owner only."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from voronka.activities.actions import do_create_task_goal
from voronka.activities.models import TaskGoal
from voronka.core.actions import do_create_custom_field
from voronka.core.models import CustomField
from voronka.sales.actions import (
    do_create_loss_reason,
    do_move_deal,
    do_set_stage_requirements,
    do_update_loss_reason,
)
from voronka.sales.models import LossReason, Pipeline, Stage, StageKind
from voronka.testing.factories import make_deal

OUTSIDERS = ["manager1", "senior1", "assistant", "qc"]


def stage_names(pipeline):
    return list(pipeline.stages.order_by("position", "id").values_list("name", flat=True))


def settings_urls(org):
    stage = org.stage("Квалификация")
    return [
        reverse("sales:settings_pipelines"),
        reverse("sales:settings_pipeline", args=[org.pipeline.id]),
        reverse("sales:settings_stage_reorder", args=[org.pipeline.id]),
        reverse("sales:settings_stage_edit", args=[stage.id]),
        reverse("sales:settings_stage_delete", args=[stage.id]),
        reverse("sales:settings_fields"),
        reverse("sales:settings_fields") + "?entity=company",
        reverse("sales:settings_field_edit", args=[make_field(org).id]),
        reverse("sales:settings_loss_reasons"),
        reverse("sales:settings_goals"),
    ]


def make_field(org, label="Тип оплаты", type="choice", **extra):
    found = CustomField.objects.filter(workspace=org.workspace, label=label).first()
    if found:
        return found
    if type in ("choice", "multi_choice"):
        extra.setdefault("choices", ["Безнал", "Наличные"])
    return do_create_custom_field(org.head, entity="deal", label=label, type=type, **extra)


@pytest.fixture
def head(org, client):
    client.force_login(org.head)
    return client


# --- Who reaches these pages -----------------------------------------------------------------


@pytest.mark.parametrize("role", OUTSIDERS)
def test_the_funnel_settings_are_absent_for_everyone_but_the_head_and_the_owner(org, client, role):
    client.force_login(getattr(org, role))
    for url in settings_urls(org):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "Взлом", "form": "pipeline"}).status_code == 404, url
        for form in ("create", "rename", "archive", "requirements", "rules"):
            body = {"form": form, "name": "Взлом", "text": "Взлом", "label": "Взлом"}
            assert client.post(url, body).status_code == 404, url
    assert org.pipeline.stages.filter(name="Взлом").count() == 0
    assert not LossReason.objects.filter(name="Взлом").exists()
    assert not TaskGoal.objects.filter(text="Взлом").exists()
    assert not CustomField.objects.filter(label="Взлом").exists()
    assert Pipeline.objects.filter(name="Взлом").count() == 0


@pytest.mark.parametrize("role", ["head", "owner"])
def test_the_head_and_the_owner_open_every_funnel_settings_page(org, client, role):
    client.force_login(getattr(org, role))
    for url in settings_urls(org):
        if "reorder" in url:
            continue  # it only takes POSTs
        assert client.get(url).status_code == 200, url


def test_a_manager_never_sees_a_way_into_the_settings(org, client):
    client.force_login(org.manager1)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "/settings/" not in page
    assert client.get(reverse("sales:settings_pipelines")).status_code == 404


def test_another_workspaces_pipelines_and_stages_are_absent(org, other_org, head):
    stage = other_org.stage("Квалификация")
    urls = [
        reverse("sales:settings_pipeline", args=[other_org.pipeline.id]),
        reverse("sales:settings_stage_edit", args=[stage.id]),
        reverse("sales:settings_stage_delete", args=[stage.id]),
    ]
    for url in urls:
        assert head.get(url).status_code == 404, url
        assert head.post(url, {"form": "archive"}).status_code == 404, url
    reorder = reverse("sales:settings_stage_reorder", args=[other_org.pipeline.id])
    assert head.post(reorder, {"move": f"{stage.id}:up"}).status_code == 404
    assert Stage.objects.filter(id=stage.id).exists()
    listing = head.get(reverse("sales:settings_pipelines")).content.decode()
    assert reverse("sales:settings_pipeline", args=[other_org.pipeline.id]) not in listing


# --- Pipelines -------------------------------------------------------------------------------


def test_the_pipelines_list_shows_each_pipelines_deal_count(org, head):
    for _ in range(3):
        make_deal(org.manager1, org.pipeline)
    response = head.get(reverse("sales:settings_pipelines"))
    [row] = response.context["active"]
    assert (row.obj, row.count, row.capped) == (org.pipeline, 3, False)
    assert response.context["archived"] == []


def test_creating_a_pipeline_gives_it_an_open_a_won_and_a_lost_stage(org, head):
    response = head.post(
        reverse("sales:settings_pipelines"), {"name": "Холодные", "is_inbound": ""}
    )
    pipeline = Pipeline.objects.get(workspace=org.workspace, name="Холодные")
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:settings_pipeline", args=[pipeline.id])
    kinds = list(pipeline.stages.order_by("position").values_list("kind", flat=True))
    assert kinds == [StageKind.OPEN, StageKind.WON, StageKind.LOST]
    assert not pipeline.is_inbound


def test_a_pipeline_without_a_name_is_refused_on_the_field(org, head):
    response = head.post(reverse("sales:settings_pipelines"), {"name": "  "})
    assert response.status_code == 422
    assert "name" in response.context["form"].errors
    assert Pipeline.objects.filter(workspace=org.workspace).count() == 1


def test_renaming_a_pipeline_and_marking_it_inbound(org, head):
    org.pipeline.is_inbound = False
    org.pipeline.save()
    url = reverse("sales:settings_pipeline", args=[org.pipeline.id])
    response = head.post(url, {"form": "pipeline", "name": "Входящие заявки", "is_inbound": "on"})
    assert response.status_code == 302
    org.pipeline.refresh_from_db()
    assert (org.pipeline.name, org.pipeline.is_inbound) == ("Входящие заявки", True)


def test_archiving_a_pipeline_moves_it_to_the_archived_list_and_restoring_brings_it_back(org, head):
    url = reverse("sales:settings_pipeline", args=[org.pipeline.id])
    assert head.post(url, {"form": "archive"}).status_code == 302
    listing = head.get(reverse("sales:settings_pipelines"))
    assert [r.obj for r in listing.context["archived"]] == [org.pipeline]
    assert listing.context["active"] == []
    archived_page = head.get(url)
    assert archived_page.status_code == 200
    assert reverse("sales:settings_stage_edit", args=[org.stage("Квалификация").id]) not in (
        archived_page.content.decode()
    )
    assert head.post(url, {"form": "unarchive"}).status_code == 302
    org.pipeline.refresh_from_db()
    assert not org.pipeline.is_archived


# --- Stages ----------------------------------------------------------------------------------


def test_a_pipelines_page_lists_its_stages_in_order_with_kind_days_and_deals(org, head):
    make_deal(org.manager1, org.pipeline)
    make_deal(org.manager3, org.pipeline)
    response = head.get(reverse("sales:settings_pipeline", args=[org.pipeline.id]))
    rows = response.context["stages"]
    assert [r.obj.name for r in rows] == stage_names(org.pipeline)
    first = rows[0]
    assert (first.obj.kind, first.obj.normal_days, first.count) == ("open", 2, 2)
    page = response.content.decode()
    assert f'data-stage-id="{first.obj.id}"' in page
    assert 'data-kind="won"' in page and 'data-kind="lost"' in page


def test_adding_a_stage_before_another_one(org, head):
    before = org.stage("КП отправлено")
    response = head.post(
        reverse("sales:settings_pipeline", args=[org.pipeline.id]),
        {
            "form": "stage",
            "name": "Демонстрация",
            "kind": "open",
            "normal_days": "4",
            "position": str(before.position),
        },
    )
    assert response.status_code == 302
    names = stage_names(org.pipeline)
    assert names.index("Демонстрация") == names.index("КП отправлено") - 1
    assert org.stage("Демонстрация").normal_days == 4


def test_a_stage_added_without_a_place_goes_after_the_last_open_stage(org, head):
    head.post(
        reverse("sales:settings_pipeline", args=[org.pipeline.id]),
        {"form": "stage", "name": "Оплата", "kind": "open", "normal_days": ""},
    )
    names = stage_names(org.pipeline)
    assert names[-3:] == ["Оплата", "Успешно", "Проиграно"]
    assert org.stage("Оплата").normal_days is None


def test_a_stage_with_negative_days_is_refused_on_the_field(org, head):
    response = head.post(
        reverse("sales:settings_pipeline", args=[org.pipeline.id]),
        {"form": "stage", "name": "Странный", "kind": "open", "normal_days": "-1"},
    )
    assert response.status_code == 422
    assert "normal_days" in response.context["stage_form"].errors
    assert not org.pipeline.stages.filter(name="Странный").exists()


def test_renaming_a_stage_and_changing_its_kind_and_normal_duration(org, head):
    stage = org.stage("Счёт выставлен")
    response = head.post(
        reverse("sales:settings_stage_edit", args=[stage.id]),
        {"name": "Счёт отправлен", "kind": "open", "normal_days": "9"},
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.name, stage.normal_days, stage.is_archived) == ("Счёт отправлен", 9, False)


def test_reordering_stages_by_drag_saves_the_order_and_answers_with_the_table(org, head):
    ids = list(org.pipeline.stages.order_by("position").values_list("id", flat=True))
    new_order = [ids[1], ids[0], *ids[2:]]
    response = head.post(
        reverse("sales:settings_stage_reorder", args=[org.pipeline.id]),
        {"stage": [str(i) for i in new_order]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert list(org.pipeline.stages.order_by("position").values_list("id", flat=True)) == new_order
    body = response.content.decode()
    assert 'id="stages"' in body and "<html" not in body
    assert body.index(f'data-stage-id="{ids[1]}"') < body.index(f'data-stage-id="{ids[0]}"')


def test_moving_a_stage_down_with_the_arrow_works_without_scripts(org, head):
    meeting = org.stage("Встреча назначена")
    response = head.post(
        reverse("sales:settings_stage_reorder", args=[org.pipeline.id]),
        {"move": f"{meeting.id}:down"},
    )
    assert response.status_code == 302
    names = stage_names(org.pipeline)
    assert names.index("КП отправлено") + 1 == names.index("Встреча назначена")


def test_a_stale_order_is_refused_and_the_table_shows_the_current_one(org, head):
    ids = list(org.pipeline.stages.order_by("position").values_list("id", flat=True))
    response = head.post(
        reverse("sales:settings_stage_reorder", args=[org.pipeline.id]),
        {"stage": [str(i) for i in reversed(ids[1:])]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert response.context["error"]
    assert list(org.pipeline.stages.order_by("position").values_list("id", flat=True)) == ids


def test_archiving_an_empty_stage(org, head):
    stage = org.stage("Квалификация")
    response = head.post(
        reverse("sales:settings_stage_edit", args=[stage.id]),
        {"name": stage.name, "kind": "open", "normal_days": "5", "is_archived": "on"},
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert stage.is_archived


def test_archiving_a_stage_that_holds_deals_is_refused_with_the_count(org, head):
    stage = org.stage("Новый лид")
    for _ in range(2):
        make_deal(org.manager1, org.pipeline)
    response = head.post(
        reverse("sales:settings_stage_edit", args=[stage.id]),
        {"name": stage.name, "kind": "open", "normal_days": "2", "is_archived": "on"},
    )
    assert response.status_code == 422
    [message] = response.context["form"].errors["is_archived"]
    assert escape(message) in response.content.decode()
    assert response.context["deal_count"] == 2
    stage.refresh_from_db()
    assert not stage.is_archived


def test_deleting_an_empty_stage_asks_first_and_then_deletes_it(org, head):
    stage = org.stage("Квалификация")
    url = reverse("sales:settings_stage_delete", args=[stage.id])
    confirm = head.get(url)
    assert confirm.status_code == 200
    assert 'id="confirm-delete"' in confirm.content.decode()
    assert Stage.objects.filter(id=stage.id).exists()
    response = head.post(url)
    assert response.status_code == 302
    assert not Stage.objects.filter(id=stage.id).exists()


def test_deleting_a_stage_that_holds_deals_is_refused_with_the_count(org, head):
    stage = org.stage("Новый лид")
    for _ in range(3):
        make_deal(org.manager2, org.pipeline)
    url = reverse("sales:settings_stage_delete", args=[stage.id])

    warned = head.get(url)
    assert warned.context["deal_count"] == 3
    assert 'id="delete-refusal"' in warned.content.decode()

    response = head.post(url)
    assert response.status_code == 422
    error = response.context["error"]
    assert error.code == "stage_not_empty"
    assert "3" in str(error)
    page = response.content.decode()
    assert escape(str(error)) in page
    assert Stage.objects.filter(id=stage.id).exists()


def test_deleting_a_stage_deals_have_passed_through_is_refused_and_archiving_offered(org, head):
    stage = org.stage("Квалификация")
    deal = make_deal(org.manager1, org.pipeline)
    do_move_deal(org.manager1, deal, stage)
    do_move_deal(org.manager1, deal, org.stage("Встреча назначена"))
    url = reverse("sales:settings_stage_delete", args=[stage.id])
    response = head.post(url)
    assert response.status_code == 422
    assert response.context["error"].code == "stage_in_history"
    edit = reverse("sales:settings_stage_edit", args=[stage.id])
    assert f'action="{edit}"' in response.content.decode()
    archived = head.post(edit, {"form": "archive"})
    assert archived.status_code == 302
    stage.refresh_from_db()
    assert stage.is_archived


# --- History ---------------------------------------------------------------------------------


def test_the_pipeline_page_shows_who_changed_which_stage_from_what_to_what(org, head):
    stage = org.stage("Квалификация")
    head.post(
        reverse("sales:settings_stage_edit", args=[stage.id]),
        {"name": "Квалификация лида", "kind": "open", "normal_days": "6"},
    )
    response = head.get(reverse("sales:settings_pipeline", args=[org.pipeline.id]))
    latest = response.context["history"].entries[0]
    assert latest.who == org.head
    assert latest.action == "changed"
    changes = {(c.old, c.new) for c in latest.changes}
    assert ("Квалификация", "Квалификация лида") in changes
    assert ("5", "6") in changes
    page = response.content.decode()
    history = page[page.index('id="history"') :]
    assert "Квалификация лида" in history and str(org.head) in history


def test_the_stage_page_shows_its_own_history(org, head):
    stage = org.stage("КП отправлено")
    url = reverse("sales:settings_stage_edit", args=[stage.id])
    head.post(url, {"name": stage.name, "kind": "open", "normal_days": "12"})
    entries = head.get(url).context["history"].entries
    assert [(c.old, c.new) for c in entries[0].changes] == [("10", "12")]


# --- Stage requirements and order rules ------------------------------------------------------


def test_the_head_requires_the_invoice_number_and_amount_to_enter_invoice_sent(org, head):
    stage = org.stage("Счёт выставлен")
    url = reverse("sales:settings_stage_edit", args=[stage.id])
    page = head.get(url).content.decode()
    assert 'value="invoice_no"' in page and 'value="invoice_amount"' in page
    response = head.post(
        url, {"form": "requirements", "required_fields": ["invoice_amount", "invoice_no"]}
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert stage.required_fields == ["invoice_no", "invoice_amount"]  # in the picker's order
    pipeline_page = head.get(reverse("sales:settings_pipeline", args=[org.pipeline.id]))
    [row] = [r for r in pipeline_page.context["stages"] if r.obj == stage]
    assert row.requirements == ("Номер счёта", "Сумма счёта")
    assert "data-requirement" in pipeline_page.content.decode()


def test_a_custom_deal_field_is_offered_as_a_requirement(org, head):
    make_field(org)
    stage = org.stage("КП отправлено")
    url = reverse("sales:settings_stage_edit", args=[stage.id])
    assert 'value="custom.tip_oplaty"' in head.get(url).content.decode()
    head.post(url, {"form": "requirements", "required_fields": ["custom.tip_oplaty"]})
    stage.refresh_from_db()
    assert stage.required_fields == ["custom.tip_oplaty"]


def test_an_unknown_requirement_is_refused_and_nothing_changes(org, head):
    stage = org.stage("Счёт выставлен")
    response = head.post(
        reverse("sales:settings_stage_edit", args=[stage.id]),
        {"form": "requirements", "required_fields": ["invoice_no", "custom.nope"]},
    )
    assert response.status_code == 422
    assert response.context["requirements_form"].errors
    stage.refresh_from_db()
    assert stage.required_fields == []


def test_a_lost_stage_always_shows_the_loss_reason_as_required(org, head):
    lost = org.stage("Проиграно")
    response = head.get(reverse("sales:settings_pipeline", args=[org.pipeline.id]))
    [row] = [r for r in response.context["stages"] if r.obj == lost]
    assert row.requirements == ("Причина проигрыша",)


def test_the_requirements_change_is_in_the_stage_history_in_words(org, head):
    stage = org.stage("Счёт выставлен")
    url = reverse("sales:settings_stage_edit", args=[stage.id])
    head.post(url, {"form": "requirements", "required_fields": ["invoice_no"]})
    entry = head.get(url).context["history"].entries[0]
    assert entry.who == org.head
    assert [(c.old, c.new) for c in entry.changes] == [("—", "Номер счёта")]


def test_the_order_rules_are_switched_on_the_pipeline_page(org, head):
    url = reverse("sales:settings_pipeline", args=[org.pipeline.id])
    response = head.post(url, {"form": "rules", "no_skipping": "on"})
    assert response.status_code == 302
    org.pipeline.refresh_from_db()
    assert (org.pipeline.no_skipping, org.pipeline.no_going_back) == (True, False)
    head.post(url, {"form": "rules", "no_going_back": "on"})
    org.pipeline.refresh_from_db()
    assert (org.pipeline.no_skipping, org.pipeline.no_going_back) == (False, True)
    changes = {c.new for e in head.get(url).context["history"].entries for c in e.changes}
    assert "да" in changes


# --- The funnel's self-check -----------------------------------------------------------------


def test_the_pipeline_page_warns_of_a_parking_stage_and_links_to_it(org, head):
    url = reverse("sales:settings_pipeline", args=[org.pipeline.id])
    head.post(url, {"form": "stage", "name": "Отложено", "kind": "open", "normal_days": "30"})
    parked = org.stage("Отложено")
    response = head.get(url)
    codes = [w.code for w in response.context["warnings"]]
    assert "parking_stage" in codes
    page = response.content.decode()
    assert 'id="funnel-warnings"' in page
    warnings = page[page.index('id="funnel-warnings"') : page.index('id="stages"')]
    assert reverse("sales:settings_stage_edit", args=[parked.id]) in warnings


def test_a_well_built_funnel_with_loss_reasons_has_no_warnings(org, head):
    do_create_loss_reason(org.head, name="Дорого")
    response = head.get(reverse("sales:settings_pipeline", args=[org.pipeline.id]))
    assert response.context["warnings"] == []
    assert 'id="funnel-warnings"' not in response.content.decode()


# --- Custom fields ---------------------------------------------------------------------------


def test_the_head_creates_a_choice_field_of_deals_with_a_key_from_its_label(org, head):
    response = head.post(
        reverse("sales:settings_fields") + "?entity=deal",
        {
            "form": "create",
            "entity": "deal",
            "label": "Тип оплаты",
            "key": "",
            "type": "choice",
            "choices": "Безнал\r\nНаличные\r\n\r\n",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get(workspace=org.workspace, entity="deal")
    assert (field.key, field.type, field.choices) == (
        "tip_oplaty",
        "choice",
        ["Безнал", "Наличные"],
    )
    listing = head.get(reverse("sales:settings_fields"))
    assert listing.context["active"] == [field]
    assert 'data-field-key="tip_oplaty"' in listing.content.decode()


def test_a_choice_field_without_choices_is_refused_on_the_choices(org, head):
    response = head.post(
        reverse("sales:settings_fields"),
        {"form": "create", "entity": "deal", "label": "Канал", "type": "choice", "choices": ""},
    )
    assert response.status_code == 422
    assert "choices" in response.context["form"].errors
    assert not CustomField.objects.exists()


def test_fields_are_listed_per_entity(org, head):
    make_field(org)
    do_create_custom_field(org.head, entity="company", label="ИНН", type="text")
    companies = head.get(reverse("sales:settings_fields") + "?entity=company")
    assert [f.key for f in companies.context["active"]] == ["inn"]
    tabs = {value: count for value, _label, count in companies.context["tabs"]}
    assert tabs == {"deal": 1, "company": 1, "contact": 0}


def test_editing_a_field_relabels_it_and_changes_its_choices(org, head):
    field = make_field(org)
    url = reverse("sales:settings_field_edit", args=[field.id])
    response = head.post(
        url,
        {"form": "field", "label": "Форма оплаты", "type": "choice", "choices": "Безнал\nКарта"},
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.choices) == ("Форма оплаты", ["Безнал", "Карта"])
    entry = head.get(url).context["history"].entries[0]
    assert ("Безнал, Наличные", "Безнал, Карта") in [(c.old, c.new) for c in entry.changes]


def test_the_type_of_a_field_with_values_is_locked_and_the_page_says_so(org, head):
    field = make_field(org, label="ИНН", type="text")
    deal = make_deal(org.manager1, org.pipeline)
    deal.custom = {"inn": "7701"}
    deal.save()
    url = reverse("sales:settings_field_edit", args=[field.id])
    page = head.get(url)
    assert page.context["type_locked"]
    assert page.context["form"].fields["type"].disabled
    head.post(url, {"form": "field", "label": "ИНН", "type": "number", "choices": ""})
    field.refresh_from_db()
    assert field.type == "text"


def test_archiving_a_field_asks_first_and_moves_it_to_the_archived_list(org, head):
    field = make_field(org)
    url = reverse("sales:settings_field_edit", args=[field.id])
    assert "confirm(" in head.get(url).content.decode()
    assert head.post(url, {"form": "archive"}).status_code == 302
    listing = head.get(reverse("sales:settings_fields"))
    assert listing.context["archived"] == [field]
    assert head.post(url, {"form": "unarchive"}).status_code == 302
    field.refresh_from_db()
    assert not field.is_archived


def test_a_field_a_stage_requires_is_not_archived_and_the_page_says_why(org, head):
    field = make_field(org)
    do_set_stage_requirements(org.head, org.stage("Счёт выставлен"), ["custom.tip_oplaty"])
    response = head.post(reverse("sales:settings_field_edit", args=[field.id]), {"form": "archive"})
    assert response.status_code == 422
    assert "Счёт выставлен" in response.content.decode()
    field.refresh_from_db()
    assert not field.is_archived


def test_fields_are_reordered_with_the_arrows(org, head):
    a = make_field(org, label="Альфа", type="text")
    b = make_field(org, label="Бета", type="text")
    head.post(
        reverse("sales:settings_fields"), {"form": "move", "entity": "deal", "move": f"{b.id}:up"}
    )
    listing = head.get(reverse("sales:settings_fields"))
    assert listing.context["active"] == [b, a]


def test_another_workspaces_field_is_absent(org, other_org, head):
    field = make_field(other_org)
    url = reverse("sales:settings_field_edit", args=[field.id])
    assert head.get(url).status_code == 404
    assert head.post(url, {"form": "archive"}).status_code == 404


# --- Loss reasons ----------------------------------------------------------------------------


def test_the_head_adds_renames_reorders_and_archives_loss_reasons(org, head):
    url = reverse("sales:settings_loss_reasons")
    assert head.post(url, {"form": "create", "name": "Дорого"}).status_code == 302
    assert head.post(url, {"form": "create", "name": "Выбрали конкурента"}).status_code == 302
    expensive = LossReason.objects.get(name="Дорого")
    rival = LossReason.objects.get(name="Выбрали конкурента")
    head.post(url, {"form": "rename", "id": expensive.id, "name": "Слишком дорого"})
    head.post(url, {"form": "move", "move": f"{rival.id}:up"})
    response = head.get(url)
    assert [r.name for r in response.context["active"]] == ["Выбрали конкурента", "Слишком дорого"]
    head.post(url, {"form": "archive", "id": rival.id})
    response = head.get(url)
    assert [r.name for r in response.context["active"]] == ["Слишком дорого"]
    assert [r.name for r in response.context["archived"]] == ["Выбрали конкурента"]
    assert response.context["history"].entries[0].who == org.head


def test_a_repeated_loss_reason_is_refused_naming_the_one_on_the_list(org, head):
    do_create_loss_reason(org.head, name="Дорого")
    response = head.post(
        reverse("sales:settings_loss_reasons"), {"form": "create", "name": "дорого"}
    )
    assert response.status_code == 422
    assert "Дорого" in response.context["form"].errors["name"][0]
    assert LossReason.objects.count() == 1


def test_renaming_a_reason_to_nothing_is_refused_on_its_row(org, head):
    reason = do_create_loss_reason(org.head, name="Дорого")
    response = head.post(
        reverse("sales:settings_loss_reasons"), {"form": "rename", "id": reason.id, "name": " "}
    )
    assert response.status_code == 422
    assert response.context["row_error_id"] == reason.id
    reason.refresh_from_db()
    assert reason.name == "Дорого"


def test_another_workspaces_reason_cannot_be_touched(org, other_org, head):
    theirs = do_create_loss_reason(other_org.head, name="Дорого")
    url = reverse("sales:settings_loss_reasons")
    assert head.post(url, {"form": "archive", "id": theirs.id}).status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_archived
    assert 'data-reason="Дорого"' not in head.get(url).content.decode()


def test_an_archived_reason_is_restored(org, head):
    reason = do_create_loss_reason(org.head, name="Дорого")
    do_update_loss_reason(org.head, reason, is_archived=True)
    head.post(reverse("sales:settings_loss_reasons"), {"form": "unarchive", "id": reason.id})
    reason.refresh_from_db()
    assert not reason.is_archived


# --- Task goals ------------------------------------------------------------------------------


def test_the_head_keeps_goals_per_stage_and_for_any_stage(org, head):
    url = reverse("sales:settings_goals")
    invoice = org.stage("Счёт выставлен")
    head.post(url, {"form": "create", "text": "Договориться о следующем звонке", "stage": ""})
    head.post(url, {"form": "create", "text": "Получить оплату", "stage": str(invoice.id)})
    response = head.get(url)
    lists = {
        (gl.stage.name if gl.stage else None): [g.text for g in gl.goals]
        for gl in response.context["lists"]
    }
    assert lists == {
        None: ["Договориться о следующем звонке"],
        "Счёт выставлен": ["Получить оплату"],
    }
    page = response.content.decode()
    assert f'id="goals-{invoice.id}"' in page and 'id="goals-any"' in page


def test_goals_are_reworded_reordered_and_archived(org, head):
    url = reverse("sales:settings_goals")
    first = do_create_task_goal(org.head, text="Назначить встречу")
    second = do_create_task_goal(org.head, text="Получить реквизиты")
    head.post(url, {"form": "move", "id": second.id, "direction": "up"})
    head.post(url, {"form": "rename", "id": first.id, "text": "Назначить встречу с ЛПР"})
    [any_stage] = head.get(url).context["lists"]
    assert [g.text for g in any_stage.goals] == ["Получить реквизиты", "Назначить встречу с ЛПР"]
    head.post(url, {"form": "archive", "id": second.id})
    response = head.get(url)
    assert [g.text for g in response.context["archived"]] == ["Получить реквизиты"]


def test_a_goal_for_a_closed_stage_is_not_offered_as_a_choice(org, head):
    form = head.get(reverse("sales:settings_goals")).context["form"]
    offered = {label for _group, items in form.fields["stage"].choices[1:] for _id, label in items}
    assert "Успешно" not in offered and "Счёт выставлен" in offered


def test_an_empty_goal_is_refused_on_the_field(org, head):
    response = head.post(reverse("sales:settings_goals"), {"form": "create", "text": "  "})
    assert response.status_code == 422
    assert "text" in response.context["form"].errors
    assert not TaskGoal.objects.exists()


# --- The tabs --------------------------------------------------------------------------------


def test_every_settings_tab_leads_to_its_page_and_marks_it_current(org, head):
    page = head.get(reverse("sales:settings_loss_reasons")).content.decode()
    for name in (
        "settings_pipelines",
        "settings_fields",
        "settings_loss_reasons",
        "settings_goals",
    ):
        assert f'href="{reverse("sales:" + name)}"' in page
    tabs = page[page.index("settings-tabs") :]
    current = tabs[: tabs.index('aria-current="page"')]
    assert current.rstrip().endswith(f'href="{reverse("sales:settings_loss_reasons")}"')
