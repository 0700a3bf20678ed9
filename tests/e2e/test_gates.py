"""Issue 3's «Done when», in Chromium: the head makes «Счёт выставлен» require the invoice number
and amount; manager2 drags a deal there, fills the two fields in the form that appears and the
move succeeds; the same move over the API without the fields is refused with 422 naming both."""

from decimal import Decimal

from playwright.sync_api import expect

from voronka.accounts.actions import do_create_token
from voronka.sales.models import Deal, StageChange
from voronka.testing.factories import make_deal


def card(page, deal):
    return page.locator(f'.deal-card[data-deal="{deal.id}"]')


def column(page, stage):
    return page.locator(f'.board-cards[data-stage="{stage.id}"]')


def is_move(response):
    return "/move/" in response.url and response.request.method == "POST"


def drag(page, source, target):
    """Drag with real mouse moves, as SortableJS expects them."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 12)
    page.mouse.down()
    target_box = target.bounding_box()
    x = target_box["x"] + target_box["width"] / 2
    y = target_box["y"] + 20
    page.mouse.move(x, y, steps=15)
    page.mouse.move(x, y + 5, steps=3)
    page.mouse.up()


def head_requires_the_invoice_fields(org, login):
    """As the head, on the stage's settings page: «Счёт выставлен» requires the two fields."""
    invoice = org.stage("Счёт выставлен")
    page = login(org.head)
    page.goto(f"/settings/stages/{invoice.id}/")
    form = page.locator("#requirements")
    form.locator('input[value="invoice_no"]').check()
    form.locator('input[value="invoice_amount"]').check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    invoice.refresh_from_db()
    assert invoice.required_fields == ["invoice_no", "invoice_amount"]
    page.context.close()
    return invoice


def test_a_drop_asks_for_the_invoice_fields_and_the_api_names_both_when_they_are_missing(
    org, login, live_server
):
    invoice = head_requires_the_invoice_fields(org, login)
    proposal = org.stage("КП отправлено")
    deal = make_deal(org.manager2, org.pipeline, title="Поставка насосов", stage=proposal)

    page = login(org.manager2)
    page.goto("/board/")
    page.locator("#board").evaluate("board => { board.scrollLeft = board.scrollWidth; }")

    # A first drop, cancelled: the card goes back and nothing changes.
    with page.expect_response(is_move) as answer:
        drag(page, card(page, deal), column(page, invoice))
    assert answer.value.status == 422
    dialog = page.locator("#entry-dialog")
    dialog.wait_for(state="visible")
    assert dialog.get_by_label("Номер счёта").is_visible()
    assert dialog.get_by_label("Сумма счёта").is_visible()
    dialog.get_by_role("button", name="Отмена").click()
    column(page, proposal).locator(f'.deal-card[data-deal="{deal.id}"]').wait_for()
    assert Deal.objects.get(pk=deal.pk).stage == proposal

    # Dropped again, the two fields filled in the form that appears: the move succeeds.
    with page.expect_response(is_move) as answer:
        drag(page, card(page, deal), column(page, invoice))
    assert answer.value.status == 422
    dialog.wait_for(state="visible")
    dialog.get_by_label("Номер счёта").fill("С-2026-041")
    dialog.get_by_label("Сумма счёта").fill("185000,50")
    with page.expect_response(is_move) as answer:
        dialog.get_by_role("button", name="Сохранить и перенести").click()
    assert answer.value.status == 200
    moved = column(page, invoice).locator(f'.deal-card[data-deal="{deal.id}"]')
    moved.wait_for()
    assert dialog.is_hidden()
    counter = page.locator(f'.board-column[data-stage="{invoice.id}"] [data-count]')
    # The count is written once the answer is read, a moment after the card lands.
    expect(counter).to_have_text("1")
    deal = Deal.objects.get(pk=deal.pk)
    assert (deal.stage, deal.invoice_no, deal.invoice_amount) == (
        invoice,
        "С-2026-041",
        Decimal("185000.50"),
    )
    assert StageChange.objects.filter(deal=deal, to_stage=invoice).count() == 1

    # The same move over the API, without the fields: 422 naming both.
    other = make_deal(org.manager2, org.pipeline, title="Поставка клапанов", stage=proposal)
    _token, raw = do_create_token(org.manager2, org.manager2, name="e2e")
    api = page.context.request
    headers = {"Authorization": f"Bearer {raw}"}
    refused = api.post(
        f"{live_server.url}/api/v1/deals/{other.id}/move",
        data={"stage_id": invoice.id},
        headers=headers,
    )
    assert refused.status == 422
    body = refused.json()
    assert body["code"] == "missing_fields"
    assert list(body["fields"]) == ["invoice_no", "invoice_amount"]
    assert Deal.objects.get(pk=other.pk).stage == proposal

    # With the fields in the same request it goes through.
    done = api.post(
        f"{live_server.url}/api/v1/deals/{other.id}/move",
        data={
            "stage_id": invoice.id,
            "fields": {"invoice_no": "С-2026-042", "invoice_amount": "99000.00"},
        },
        headers=headers,
    )
    assert done.status == 200
    assert done.json()["invoice_no"] == "С-2026-042"
