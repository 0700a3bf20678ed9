"""Importing deals from CSV and XLSX: every row through the same gates, all rows or none."""

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import gettext as _

from voronka.clients.actions import do_create_contact
from voronka.clients.models import Company
from voronka.core.actions import do_create_custom_field
from voronka.core.errors import Invalid
from voronka.sales import importer
from voronka.sales.actions import do_create_loss_reason, do_set_stage_requirements
from voronka.sales.models import Deal, DealImport, StageChange

URL = reverse("sales:deal_import")


def label(name: str) -> str:
    text = str(Deal._meta.get_field(name).verbose_name)
    return text[:1].upper() + text[1:]


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.strip().encode(encoding) + b"\n"


def xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, content: bytes, name: str = "deals.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, content)})


def preview(client, content: bytes, name: str = "deals.csv"):
    answer = upload(client, content, name)
    assert answer.status_code == 302, answer.content.decode()
    return client.get(answer["Location"])


def import_all(client, response, **mapping_overrides):
    """Submit the preview's form as it was guessed (the pipeline and each column's target)."""
    form = response.context["form"]
    data = {"upload": response.context["upload"].id, "pipeline": form["pipeline"].value()}
    for name in form.columns:
        data[name] = form[name].value() or ""
    data.update(mapping_overrides)
    return client.post(URL, data)


def require_invoice(org):
    stage = org.stage("Счёт выставлен")
    return do_set_stage_requirements(org.head, stage, ["invoice_no", "invoice_amount"])


GOOD_CSV = """
Название;Этап;Ответственный;Компания;Сумма;Номер счёта;Сумма счёта
Станки для завода;Квалификация;{m1};Завод «Прогресс»;150 000,50;;
Поставка труб;Счёт выставлен;{m1};Завод «Прогресс»;90000;С-17;90000
Ремонт;;;ООО Ромашка;;;
"""


def test_a_csv_is_previewed_with_its_columns_guessed_then_every_row_becomes_a_deal(client, org):
    require_invoice(org)
    client.force_login(org.senior1)
    content = csv_bytes(GOOD_CSV.format(m1=org.manager1.username), "cp1251")
    page = preview(client, content)
    assert page.status_code == 200
    form = page.context["form"]
    guessed = [form[name].value() for name in form.columns]
    assert guessed == [
        "title", "stage", "owner", "company", "amount", "invoice_no", "invoice_amount"
    ]  # fmt: skip
    assert "Станки для завода" in page.content.decode()

    done = import_all(client, page)
    assert done.status_code == 302
    deals = {d.title: d for d in Deal.objects.filter(workspace=org.workspace)}
    assert set(deals) == {"Станки для завода", "Поставка труб", "Ремонт"}
    machines, pipes, repair = deals["Станки для завода"], deals["Поставка труб"], deals["Ремонт"]
    assert (machines.stage.name, machines.owner, machines.amount) == (
        "Квалификация",
        org.manager1,
        Decimal("150000.50"),
    )
    assert (pipes.invoice_no, pipes.invoice_amount) == ("С-17", Decimal("90000.00"))
    assert machines.company == pipes.company  # one company, created once
    assert Company.objects.filter(workspace=org.workspace).count() == 2
    assert (repair.stage.name, repair.owner) == ("Новый лид", org.senior1)
    assert StageChange.objects.filter(deal=pipes).count() == 1


def test_a_row_the_stage_gate_refuses_leaves_the_whole_import_undone_with_a_report(client, org):
    require_invoice(org)
    client.force_login(org.manager1)
    content = csv_bytes(
        """
title,stage,company,invoice_no
Первая,Квалификация,Новая компания,
Вторая,Счёт выставлен,Новая компания,С-1
Третья,Нет такого этапа,,
"""
    )
    page = preview(client, content)
    answer = import_all(client, page)
    assert answer.status_code == 422
    report = [(e.row, e.field, e.message) for e in answer.context["result"].errors]
    required = _("Required to enter «%(stage)s».") % {"stage": "Счёт выставлен"}
    no_stage = _("«%(pipeline)s» has no stage «%(stage)s».") % {
        "pipeline": "Входящие",
        "stage": "Нет такого этапа",
    }
    assert report == [(3, label("invoice_amount"), required), (4, "stage", no_stage)]
    html = answer.content.decode()
    assert 'id="import-report"' in html and 'data-row="3"' in html
    assert not Deal.objects.filter(workspace=org.workspace).exists()
    assert not Company.objects.filter(workspace=org.workspace).exists()
    assert DealImport.objects.get().imported_at is None  # fix the mapping or the file, retry


def test_the_same_file_imports_once(client, org):
    client.force_login(org.manager1)
    content = csv_bytes("Название\nОдна\nДругая")
    page = preview(client, content)
    assert import_all(client, page).status_code == 302
    again = import_all(client, page)  # the form submitted a second time
    assert again.status_code == 200 and 'id="import-done"' in again.content.decode()
    assert Deal.objects.filter(workspace=org.workspace).count() == 2
    reupload = preview(client, content)
    assert 'id="import-done"' in reupload.content.decode()
    assert Deal.objects.filter(workspace=org.workspace).count() == 2
    assert DealImport.objects.get().deal_count == 2


def test_an_xlsx_file_gives_numbers_dates_and_custom_values(org):
    do_create_custom_field(
        org.head, entity="deal", label="Каналы", key="channels", type="multi_choice",
        choices=["Сайт", "Звонок", "Выставка"],
    )  # fmt: skip
    content = xlsx_bytes(
        [
            ["Название", "Сумма", "Ожидаемое закрытие", "Каналы", "Номер счёта"],
            ["Оборудование", 125000.5, datetime(2030, 3, 1), "Выставка; Сайт", 1234],
        ]
    )
    upload = importer.do_upload_deal_file(org.manager1, file_name="deals.xlsx", content=content)
    table = importer.read_table(bytes(upload.content), upload.file_name)
    mapping = importer.guess_mapping(table.headers, org.workspace.id)
    assert mapping == ["title", "amount", "expected_close", "custom.channels", "invoice_no"]
    result = importer.do_import_deals(org.manager1, upload, pipeline=org.pipeline, mapping=mapping)
    assert (result.created, result.errors) == (1, [])
    deal = Deal.objects.get(title="Оборудование")
    assert deal.amount == Decimal("125000.50") and deal.expected_close == date(2030, 3, 1)
    assert deal.custom == {"channels": ["Сайт", "Выставка"]}
    assert deal.invoice_no == "1234"


def test_lost_rows_need_a_reason_from_the_heads_list(org):
    do_create_loss_reason(org.head, name="Дорого")
    content = csv_bytes(
        "Название;Этап;Причина\nА;Проиграно;дорого\nБ;Проиграно;Не знаю\nВ;Проиграно;"
    )
    upload = importer.do_upload_deal_file(org.manager1, file_name="lost.csv", content=content)
    mapping = ["title", "stage", "loss_reason"]
    result = importer.do_import_deals(org.manager1, upload, pipeline=org.pipeline, mapping=mapping)
    assert [(e.row, e.field) for e in result.errors] == [(3, "Причина"), (4, "Причина")]
    assert not Deal.objects.exists()
    fixed = csv_bytes("Название;Этап;Причина\nА;Проиграно;дорого")
    upload = importer.do_upload_deal_file(org.manager1, file_name="lost.csv", content=fixed)
    result = importer.do_import_deals(org.manager1, upload, pipeline=org.pipeline, mapping=mapping)
    assert result.created == 1 and Deal.objects.get().loss_reason == "Дорого"


def test_a_manager_gives_deals_only_to_people_they_may_and_finds_only_their_contacts(org):
    do_create_contact(org.manager3, first_name="Иван", email="ivan@example.com")
    do_create_contact(org.manager1, first_name="Пётр", email="petr@example.com")
    content = csv_bytes(
        f"title,owner,contact\nА,{org.manager3.username},\nБ,,ivan@example.com\nВ,,PETR@example.com"
    )
    upload = importer.do_upload_deal_file(org.manager1, file_name="d.csv", content=content)
    result = importer.do_import_deals(
        org.manager1, upload, pipeline=org.pipeline, mapping=["title", "owner", "contact"]
    )
    assert [(e.row, e.field) for e in result.errors] == [(2, "owner"), (3, "contact")]
    assert not Deal.objects.exists()


def test_the_title_column_is_needed_and_each_field_comes_from_one_column(org):
    with pytest.raises(Invalid):
        importer.check_mapping(["", "amount"], org.workspace.id)
    with pytest.raises(Invalid) as exc:
        importer.check_mapping(["title", "amount", "amount"], org.workspace.id)
    assert f"«{label('amount')}»" in exc.value.message
    with pytest.raises(Invalid):
        importer.check_mapping(["title", "owner_id"], org.workspace.id)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "empty.csv"),
        (b"title\n", "header-only.csv"),
        (b"PK\x03\x04 not really a spreadsheet", "broken.xlsx"),
        (b"\xd0\xcf\x11\xe0", "old.xls"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_on_upload(client, org, content, name):
    client.force_login(org.manager1)
    answer = upload(client, content, name)
    assert answer.status_code == 422
    assert answer.context["upload_form"].errors["file"]
    assert not DealImport.objects.exists()


def test_too_many_rows_are_refused(org, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    with pytest.raises(Invalid) as exc:
        importer.read_table(csv_bytes("title\nа\nб\nв"), "d.csv")
    assert exc.value.code == "bad_file"


def test_the_quality_controller_has_no_import_page(client, org):
    client.force_login(org.qc)
    assert client.get(URL).status_code == 404


def test_someone_elses_pending_upload_is_not_found(client, org, other_org):
    mine = importer.do_upload_deal_file(
        org.manager1, file_name="d.csv", content=csv_bytes("title\nа")
    )
    client.force_login(org.manager2)
    assert client.get(URL, {"upload": mine.id}).status_code == 404
    client.force_login(other_org.manager1)
    assert client.get(URL, {"upload": mine.id}).status_code == 404
    client.force_login(org.manager1)
    assert client.get(URL, {"upload": mine.id}).status_code == 200


def test_the_upload_page_explains_the_rules(client, org):
    client.force_login(org.manager1)
    page = client.get(URL)
    assert page.status_code == 200
    assert 'id="import-upload"' in page.content.decode()
