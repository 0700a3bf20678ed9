"""A deal's product on its pages: the form offers the head's products, the deal page shows it,
and the deal list and the board filter by it."""

from voronka.sales.actions import do_create_deal, do_create_product, do_update_product
from voronka.testing.factories import make_deal


def _new_deal(org, **extra):
    return {
        "title": "Ромашка",
        "pipeline": org.pipeline.id,
        "owner": org.manager1.id,
        "currency": "RUB",
        "amount": "1000",
        **extra,
    }


def test_the_deal_form_asks_no_product_while_the_head_keeps_none(org, client):
    client.force_login(org.manager1)
    page = client.get("/deals/new/").content.decode()
    assert 'name="product"' not in page


def test_a_manager_creates_a_deal_with_a_product_and_sees_it_on_the_deal(org, client):
    audit = do_create_product(org.head, name="Аудит")
    old = do_create_product(org.head, name="Старый тариф")
    do_update_product(org.head, old, is_archived=True)
    client.force_login(org.manager1)
    form = client.get("/deals/new/").content.decode()
    assert 'name="product"' in form and "Аудит" in form and "Старый тариф" not in form
    response = client.post("/deals/new/", _new_deal(org, product=audit.id))
    assert response.status_code == 302, response.content.decode()[:2000]
    deal = org.pipeline.deals.get(title="Ромашка")
    assert deal.product == audit
    assert "Аудит" in client.get(f"/deals/{deal.id}/").content.decode()


def test_an_archived_product_is_refused_on_the_form(org, client):
    old = do_create_product(org.head, name="Старый тариф")
    do_create_product(org.head, name="Аудит")
    do_update_product(org.head, old, is_archived=True)
    client.force_login(org.manager1)
    response = client.post("/deals/new/", _new_deal(org, product=old.id))
    assert response.status_code == 422
    assert not org.pipeline.deals.filter(title="Ромашка").exists()


def test_a_deal_keeps_its_archived_product_when_edited(org, client):
    old = do_create_product(org.head, name="Старый тариф")
    deal = do_create_deal(org.manager1, pipeline=org.pipeline, title="Ромашка", product=old)
    do_update_product(org.head, old, is_archived=True)
    client.force_login(org.manager1)
    form = client.get(f"/deals/{deal.id}/edit/").content.decode()
    assert "Старый тариф" in form
    data = {
        "title": "Ромашка 2",
        "owner": org.manager1.id,
        "currency": "RUB",
        "amount": "0",
        "product": old.id,
    }
    assert client.post(f"/deals/{deal.id}/edit/", data).status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.product) == ("Ромашка 2", old)


def test_the_deal_list_and_the_board_filter_by_product(org, client):
    audit = do_create_product(org.head, name="Аудит")
    do_create_product(org.head, name="Обучение")
    with_product = do_create_deal(
        org.manager1, pipeline=org.pipeline, title="Сделка с аудитом", product=audit
    )
    make_deal(org.manager1, org.pipeline, title="Сделка без продукта")
    client.force_login(org.head)
    listed = client.get("/deals/", {"product": audit.id}).content.decode()
    assert with_product.title in listed and "Сделка без продукта" not in listed
    board = client.get("/board/", {"product": audit.id}).content.decode()
    assert with_product.title in board and "Сделка без продукта" not in board
    assert f'data-product="{audit.id}"' in board
    unfiltered = client.get("/board/").content.decode()
    assert "Сделка без продукта" in unfiltered
    assert "All products" in unfiltered or "Все продукты" in unfiltered


def test_another_workspaces_product_filters_nothing_in(org, other_org, client):
    theirs = do_create_product(other_org.head, name="Аудит")
    make_deal(org.manager1, org.pipeline, title="Наша сделка")
    client.force_login(org.head)
    board = client.get("/board/", {"product": theirs.id}).content.decode()
    assert "Наша сделка" in board  # an unknown product is no filter, not a leak
    assert "Аудит" not in board
