"""Products: the head's list (add, rename, reorder, archive, delete while unused) and a deal's
product."""

import pytest

from voronka.clients.actions import (
    do_create_company,
    do_create_segment,
    do_delete_segment,
    do_reorder_segments,
    do_update_company,
    do_update_segment,
)
from voronka.clients.models import Segment
from voronka.core.errors import Invalid, NotAllowed
from voronka.sales.actions import (
    do_create_deal,
    do_create_product,
    do_delete_product,
    do_reorder_products,
    do_update_deal,
    do_update_product,
)
from voronka.sales.models import Product
from voronka.testing.factories import make_deal


def _names(model, workspace):
    return list(model.objects.filter(workspace=workspace).values_list("name", flat=True))


def test_the_head_adds_products_to_the_end_of_the_list(org):
    do_create_product(org.head, name="  Аудит   отдела ")
    do_create_product(org.owner, name="Внедрение CRM")
    assert _names(Product, org.workspace) == ["Аудит отдела", "Внедрение CRM"]


def test_a_manager_may_not_change_the_products(org):
    with pytest.raises(NotAllowed):
        do_create_product(org.manager1, name="Аудит")
    product = do_create_product(org.head, name="Аудит")
    with pytest.raises(NotAllowed):
        do_update_product(org.senior1, product, name="Обучение")


def test_a_product_name_is_unique_in_the_workspace_whatever_its_case(org, other_org):
    do_create_product(org.head, name="Аудит")
    with pytest.raises(Invalid) as exc:
        do_create_product(org.head, name="аудит")
    assert exc.value.code == "duplicate" and "name" in exc.value.fields
    do_create_product(other_org.head, name="Аудит")  # another company's list is its own


def test_renaming_to_an_archived_products_name_says_to_restore_it(org):
    old = do_create_product(org.head, name="Обучение")
    do_update_product(org.head, old, is_archived=True)
    other = do_create_product(org.head, name="Аудит")
    with pytest.raises(Invalid) as exc:
        do_update_product(org.head, other, name="обучение")
    assert "restore" in exc.value.message or "восстановите" in exc.value.message


def test_products_are_reordered_and_moved(org):
    a = do_create_product(org.head, name="A")
    b = do_create_product(org.head, name="B")
    c = do_create_product(org.head, name="C")
    do_reorder_products(org.head, [c.id, a.id, b.id])
    assert _names(Product, org.workspace) == ["C", "A", "B"]
    do_update_product(org.head, b, position=1)
    assert _names(Product, org.workspace) == ["B", "C", "A"]
    with pytest.raises(Invalid):
        do_reorder_products(org.head, [a.id, b.id])


def test_a_deal_takes_a_product_and_its_history_records_the_change(org):
    audit = do_create_product(org.head, name="Аудит")
    crm = do_create_product(org.head, name="CRM")
    deal = do_create_deal(org.manager1, pipeline=org.pipeline, title="Ромашка", product=audit)
    assert deal.product == audit
    do_update_deal(org.manager1, deal, product=crm)
    deal.refresh_from_db()
    assert deal.product == crm
    assert [h.product_id for h in deal.history.order_by("history_id")] == [audit.id, crm.id]
    do_update_deal(org.manager1, deal, product=None)
    deal.refresh_from_db()
    assert deal.product is None


def test_a_deal_cannot_take_an_archived_product_but_keeps_the_one_it_has(org):
    audit = do_create_product(org.head, name="Аудит")
    deal = do_create_deal(org.manager1, pipeline=org.pipeline, title="Ромашка", product=audit)
    do_update_product(org.head, audit, is_archived=True)
    with pytest.raises(Invalid) as exc:
        do_create_deal(org.manager1, pipeline=org.pipeline, title="Лютик", product=audit)
    assert list(exc.value.fields) == ["product"]
    do_update_deal(org.manager1, deal, product=audit, title="Ромашка и К")  # unchanged: fine
    deal.refresh_from_db()
    assert deal.product == audit and deal.title == "Ромашка и К"


def test_a_deal_cannot_take_another_workspaces_product(org, other_org):
    theirs = do_create_product(other_org.head, name="Аудит")
    deal = make_deal(org.manager1, org.pipeline)
    with pytest.raises(Invalid) as exc:
        do_update_deal(org.manager1, deal, product=theirs)
    assert list(exc.value.fields) == ["product"]


def test_a_product_in_use_is_not_deleted_and_an_unused_one_is(org):
    audit = do_create_product(org.head, name="Аудит")
    typo = do_create_product(org.head, name="Аудт")
    do_create_deal(org.manager1, pipeline=org.pipeline, title="Ромашка", product=audit)
    with pytest.raises(Invalid) as exc:
        do_delete_product(org.head, audit)
    assert exc.value.code == "in_use" and "1" in exc.value.message
    do_delete_product(org.head, typo)
    assert _names(Product, org.workspace) == ["Аудит"]


def test_the_head_keeps_the_segments_like_the_products(org):
    retail = do_create_segment(org.head, name="Розница")
    wholesale = do_create_segment(org.head, name="Опт")
    do_reorder_segments(org.head, [wholesale.id, retail.id])
    assert _names(Segment, org.workspace) == ["Опт", "Розница"]
    do_update_segment(org.head, retail, name="Розничные сети")
    with pytest.raises(Invalid):
        do_create_segment(org.head, name="ОПТ")
    with pytest.raises(NotAllowed):
        do_create_segment(org.manager1, name="Госзаказ")


def test_a_company_takes_a_segment_not_an_archived_or_foreign_one(org, other_org):
    retail = do_create_segment(org.head, name="Розница")
    gov = do_create_segment(org.head, name="Госзаказ")
    company = do_create_company(org.manager1, name="Ромашка", segment=retail)
    assert company.segment == retail
    do_update_segment(org.head, gov, is_archived=True)
    with pytest.raises(Invalid) as exc:
        do_update_company(org.manager1, company, segment=gov)
    assert list(exc.value.fields) == ["segment"]
    with pytest.raises(Invalid) as exc:
        do_create_company(
            org.manager1, name="Лютик", segment=do_create_segment(other_org.head, name="Опт")
        )
    assert list(exc.value.fields) == ["segment"]
    do_update_segment(org.head, retail, is_archived=True)
    do_update_company(org.manager1, company, segment=retail, city="Тверь")  # kept: fine
    company.refresh_from_db()
    assert company.segment == retail and company.city == "Тверь"


def test_a_segment_in_use_is_not_deleted(org):
    retail = do_create_segment(org.head, name="Розница")
    do_create_company(org.manager1, name="Ромашка", segment=retail)
    with pytest.raises(Invalid) as exc:
        do_delete_segment(org.head, retail)
    assert exc.value.code == "in_use"
    assert Segment.objects.filter(pk=retail.pk).exists()


def test_an_import_takes_the_product_by_name_and_refuses_one_not_on_the_list(org):
    from voronka.sales import importer

    audit = do_create_product(org.head, name="Аудит отдела")
    old = do_create_product(org.head, name="Старый тариф")
    do_update_product(org.head, old, is_archived=True)
    content = "Название;Продукт\nА;аудит  отдела\nБ;Старый тариф\nВ;Нет такого\nГ;\n".encode()
    upload = importer.do_upload_deal_file(org.manager1, file_name="p.csv", content=content)
    mapping = ["title", "product"]
    result = importer.do_import_deals(org.manager1, upload, pipeline=org.pipeline, mapping=mapping)
    assert [(e.row, e.field) for e in result.errors] == [(3, "Продукт"), (4, "Продукт")]
    fixed = "Название;Продукт\nА;аудит  отдела\nГ;\n".encode()
    upload = importer.do_upload_deal_file(org.manager1, file_name="p.csv", content=fixed)
    result = importer.do_import_deals(org.manager1, upload, pipeline=org.pipeline, mapping=mapping)
    assert result.created == 2
    assert dict(org.pipeline.deals.values_list("title", "product")) == {"А": audit.id, "Г": None}


@pytest.mark.django_db
def test_the_demo_company_spreads_its_deals_and_clients_over_products_and_segments():
    from django.db.models import Avg

    from voronka.core.demo import build_demo
    from voronka.sales.models import Deal

    summary = build_demo(seed=5, scale=0.1)
    ws = summary.workspace
    by_product = {
        row["product__name"]: row
        for row in Deal.objects.filter(workspace=ws, product__isnull=False)
        .values("product__name")
        .annotate(avg=Avg("amount"))
    }
    assert {"Аудит отдела продаж", "Внедрение CRM", "Обучение менеджеров"} <= set(by_product)
    assert by_product["Внедрение CRM"]["avg"] > by_product["Аудит отдела продаж"]["avg"]
    assert Product.objects.filter(workspace=ws, is_archived=True).exists()
    segments = set(
        Segment.objects.filter(workspace=ws, companies__isnull=False).values_list("name", flat=True)
    )
    assert {"Малый бизнес", "Средний бизнес", "Крупный бизнес"} <= segments
