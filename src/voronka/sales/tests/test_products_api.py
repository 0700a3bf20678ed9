"""Products and client segments over the API: everyone reads the lists, the head changes them;
deals take ``product_id`` and companies ``segment_id``, refused (422) when unknown, another
workspace's or archived."""

import pytest

from voronka.api.tests.caller import PREFIX, Caller
from voronka.clients.actions import do_create_company, do_create_segment, do_update_segment
from voronka.clients.models import Segment
from voronka.sales.actions import do_create_deal, do_create_product, do_update_product
from voronka.sales.models import Product
from voronka.testing.factories import make_deal

EVERYONE = ["owner", "head", "senior1", "manager1", "assistant", "qc"]
OUTSIDERS = ["senior1", "manager1", "assistant", "qc"]


def delete(caller, path):
    return caller.client.delete(PREFIX + path)


def write_routes(product, segment):
    return [
        ("post", "/settings/products", {"name": "Взлом"}),
        ("patch", f"/settings/products/{product}", {"name": "Взлом 2"}),
        ("delete", f"/settings/products/{product}", None),
        ("post", "/settings/segments", {"name": "Взлом"}),
        ("patch", f"/settings/segments/{segment}", {"name": "Взлом 2"}),
        ("delete", f"/settings/segments/{segment}", None),
    ]


def call(caller, method, path, body):
    if method == "delete":
        return delete(caller, path)
    return getattr(caller, method)(path, body)


@pytest.fixture
def lists(org):
    audit = do_create_product(org.head, name="Аудит")
    old = do_create_product(org.head, name="Старый тариф")
    do_update_product(org.head, old, is_archived=True)
    retail = do_create_segment(org.head, name="Розница")
    gone = do_create_segment(org.head, name="Госзаказ")
    do_update_segment(org.head, gone, is_archived=True)
    return audit, old, retail, gone


@pytest.mark.parametrize("role", EVERYONE)
def test_everyone_in_the_workspace_reads_the_products_and_segments_offered(org, lists, role):
    caller = Caller(getattr(org, role))
    assert [p["name"] for p in caller.get("/products").json()["items"]] == ["Аудит"]
    assert [s["name"] for s in caller.get("/segments").json()["items"]] == ["Розница"]
    archived = caller.get("/products", include_archived="true").json()["items"]
    assert [(p["name"], p["is_archived"]) for p in archived] == [
        ("Аудит", False),
        ("Старый тариф", True),
    ]


def test_another_workspaces_lists_are_not_shown(org, other_org, lists):
    caller = Caller(other_org.manager1)
    assert caller.get("/products", include_archived="true").json()["items"] == []
    assert caller.get("/segments", include_archived="true").json()["items"] == []


@pytest.mark.parametrize("role", OUTSIDERS)
def test_only_the_head_and_the_owner_change_the_lists(org, lists, role):
    audit, _old, retail, _gone = lists
    caller = Caller(getattr(org, role))
    for method, path, body in write_routes(audit.id, retail.id):
        response = call(caller, method, path, body)
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "not_allowed"
    assert Product.objects.get(pk=audit.pk).name == "Аудит"
    assert not Segment.objects.filter(name__startswith="Взлом").exists()


@pytest.mark.parametrize("role", ["head", "owner"])
def test_the_head_and_the_owner_add_rename_and_delete(org, lists, role):
    audit, _old, retail, _gone = lists
    caller = Caller(getattr(org, role))
    for method, path, body in write_routes(audit.id, retail.id):
        response = call(caller, method, path, body)
        assert response.status_code in (200, 201, 204), (method, path, response.content)
    assert not Product.objects.filter(pk=audit.pk).exists()


def test_another_workspaces_entries_are_404_to_the_head(org, other_org):
    theirs = do_create_product(other_org.head, name="Аудит")
    segment = do_create_segment(other_org.head, name="Розница")
    caller = Caller(org.head)
    for method, path, body in write_routes(theirs.id, segment.id):
        if "/products/" in path or "/segments/" in path:
            assert call(caller, method, path, body).status_code == 404, (method, path)
    assert Product.objects.get(pk=theirs.pk).name == "Аудит"


def test_a_product_in_use_is_refused_deletion_and_can_be_archived(org, lists):
    audit = lists[0]
    do_create_deal(org.manager1, pipeline=org.pipeline, title="Ромашка", product=audit)
    caller = Caller(org.head)
    response = delete(caller, f"/settings/products/{audit.id}")
    assert response.status_code == 422
    assert response.json()["code"] == "in_use" and "product" in response.json()["fields"]
    response = caller.patch(f"/settings/products/{audit.id}", {"is_archived": True})
    assert response.json()["is_archived"] is True


def test_a_duplicate_name_is_a_422_naming_the_name(org, lists):
    response = Caller(org.head).post("/settings/segments", {"name": "розница"})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["name"]


# --- Deals and companies -------------------------------------------------------------------


def test_a_deal_is_created_with_a_product_and_reads_it_back(org, lists):
    audit = lists[0]
    caller = Caller(org.manager1)
    response = caller.post(
        "/deals", {"title": "Ромашка", "pipeline_id": org.pipeline.id, "product_id": audit.id}
    )
    assert response.status_code == 201, response.content
    deal_id = response.json()["id"]
    assert caller.get(f"/deals/{deal_id}").json()["product_id"] == audit.id
    assert caller.ids("/deals", product_id=audit.id) == [deal_id]


@pytest.mark.parametrize("which", ["unknown", "foreign", "archived"])
def test_a_deal_refuses_a_product_that_is_not_offered(org, other_org, lists, which):
    if which == "unknown":
        product_id = 999_999
    elif which == "foreign":
        product_id = do_create_product(other_org.head, name="Чужой").id
    else:
        product_id = lists[1].id
    caller = Caller(org.manager1)
    created = caller.post(
        "/deals", {"title": "Ромашка", "pipeline_id": org.pipeline.id, "product_id": product_id}
    )
    assert created.status_code == 422
    assert list(created.json()["fields"]) == ["product_id"]
    deal = make_deal(org.manager1, org.pipeline)
    patched = caller.patch(f"/deals/{deal.id}", {"product_id": product_id})
    assert patched.status_code == 422
    assert list(patched.json()["fields"]) == ["product_id"]
    deal.refresh_from_db()
    assert deal.product_id is None


def test_a_deal_keeps_its_archived_product_and_may_drop_it(org, lists):
    audit = lists[0]
    deal = do_create_deal(org.manager1, pipeline=org.pipeline, title="Ромашка", product=audit)
    do_update_product(org.head, audit, is_archived=True)
    caller = Caller(org.manager1)
    response = caller.patch(f"/deals/{deal.id}", {"product_id": audit.id, "amount": "100"})
    assert response.status_code == 200 and response.json()["product_id"] == audit.id
    response = caller.patch(f"/deals/{deal.id}", {"product_id": None})
    assert response.status_code == 200 and response.json()["product_id"] is None


def test_a_company_takes_a_segment_and_the_list_filters_by_it(org, lists):
    retail = lists[2]
    caller = Caller(org.manager1)
    response = caller.post("/companies", {"name": "Ромашка", "segment_id": retail.id})
    assert response.status_code == 201, response.content
    company_id = response.json()["id"]
    do_create_company(org.manager1, name="Лютик")
    assert caller.ids("/companies", segment_id=retail.id) == [company_id]
    assert caller.get(f"/companies/{company_id}").json()["segment_id"] == retail.id


@pytest.mark.parametrize("which", ["unknown", "foreign", "archived"])
def test_a_company_refuses_a_segment_that_is_not_offered(org, other_org, lists, which):
    if which == "unknown":
        segment_id = 999_999
    elif which == "foreign":
        segment_id = do_create_segment(other_org.head, name="Чужой").id
    else:
        segment_id = lists[3].id
    caller = Caller(org.manager1)
    created = caller.post("/companies", {"name": "Ромашка", "segment_id": segment_id})
    assert created.status_code == 422
    assert list(created.json()["fields"]) == ["segment_id"]
    company = do_create_company(org.manager1, name="Лютик")
    patched = caller.patch(f"/companies/{company.id}", {"segment_id": segment_id})
    assert patched.status_code == 422
    assert list(patched.json()["fields"]) == ["segment_id"]
