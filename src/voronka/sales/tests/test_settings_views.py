"""The funnel settings pages: pipelines and stages, for the head of sales and the owner only."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from voronka.sales.actions import do_move_deal
from voronka.sales.models import Pipeline, Stage, StageKind
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
    ]


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
    assert org.pipeline.stages.filter(name="Взлом").count() == 0
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
