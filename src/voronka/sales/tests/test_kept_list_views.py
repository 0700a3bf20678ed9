"""The settings pages of products and client segments, as the head uses them."""

import pytest

from voronka.clients.actions import do_create_company, do_create_segment
from voronka.clients.models import Segment
from voronka.sales.actions import do_create_deal, do_create_product
from voronka.sales.models import Product


def _names(model, org, archived=False):
    rows = model.objects.filter(workspace=org.workspace, is_archived=archived)
    return list(rows.order_by("position", "id").values_list("name", flat=True))


@pytest.mark.parametrize("role", ["senior1", "manager1", "assistant", "qc"])
def test_the_pages_are_absent_for_anyone_but_the_head_and_the_owner(org, client, role):
    client.force_login(getattr(org, role))
    for url in ("/settings/products/", "/settings/segments/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"form": "create", "name": "Взлом"}).status_code == 404
    assert not Product.objects.exists() and not Segment.objects.exists()


def test_an_empty_list_says_what_to_add(org, client):
    client.force_login(org.head)
    page = client.get("/settings/products/").content.decode()
    assert "Add your products" in page or "Добавьте" in page
    assert 'href="/settings/segments/"' in page  # the settings tab


def test_the_head_adds_renames_reorders_and_archives_products(org, client):
    client.force_login(org.owner)
    url = "/settings/products/"
    for name in ("Аудит", "Внедрение", "Обучение"):
        assert client.post(url, {"form": "create", "name": name}).status_code == 302
    audit, crm, training = Product.objects.filter(workspace=org.workspace).order_by("position")
    client.post(url, {"form": "rename", "id": crm.id, "name": "Внедрение CRM"})
    client.post(url, {"form": "move", "move": f"{training.id}:up"})
    assert _names(Product, org) == ["Аудит", "Обучение", "Внедрение CRM"]
    client.post(url, {"form": "archive", "id": audit.id})
    assert _names(Product, org) == ["Обучение", "Внедрение CRM"]
    assert _names(Product, org, archived=True) == ["Аудит"]
    page = client.get(url).content.decode()
    assert "Аудит" in page and 'value="unarchive"' in page
    client.post(url, {"form": "unarchive", "id": audit.id})
    assert "Аудит" in _names(Product, org)


def test_a_duplicate_name_is_shown_on_the_form(org, client):
    do_create_product(org.head, name="Аудит")
    client.force_login(org.head)
    response = client.post("/settings/products/", {"form": "create", "name": "аудит"})
    assert response.status_code == 422
    assert "Аудит" in response.content.decode()
    assert Product.objects.count() == 1


def test_deleting_a_product_in_use_is_refused_with_the_way_out(org, client):
    audit = do_create_product(org.head, name="Аудит")
    typo = do_create_product(org.head, name="Аудт")
    do_create_deal(org.manager1, pipeline=org.pipeline, title="Ромашка", product=audit)
    client.force_login(org.head)
    page = client.get("/settings/products/").content.decode()
    # Only the unused one offers deletion, behind a confirmation.
    assert page.count('value="delete"') == 1 and "confirm(" in page
    response = client.post("/settings/products/", {"form": "delete", "id": audit.id})
    assert response.status_code == 422
    text = response.content.decode()
    assert 'role="alert"' in text and ("archive" in text or "архив" in text)
    assert Product.objects.filter(pk=audit.pk).exists()
    assert client.post("/settings/products/", {"form": "delete", "id": typo.id}).status_code == 302
    assert not Product.objects.filter(pk=typo.pk).exists()


def test_the_segments_page_counts_companies_and_refuses_deleting_a_used_one(org, client):
    retail = do_create_segment(org.head, name="Розница")
    do_create_company(org.manager1, name="Ромашка", segment=retail)
    client.force_login(org.head)
    page = client.get("/settings/segments/").content.decode()
    assert "Розница" in page and ("1 company" in page or "1 компания" in page)
    response = client.post("/settings/segments/", {"form": "delete", "id": retail.id})
    assert response.status_code == 422
    assert Segment.objects.filter(pk=retail.pk).exists()


def test_another_workspaces_entry_cannot_be_touched(org, other_org, client):
    theirs = do_create_product(other_org.head, name="Аудит")
    client.force_login(org.head)
    for form in ("rename", "archive", "delete"):
        client.post("/settings/products/", {"form": form, "id": theirs.id, "name": "Взлом"})
    theirs.refresh_from_db()
    assert (theirs.name, theirs.is_archived) == ("Аудит", False)
