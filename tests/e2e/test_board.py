"""The board in a browser: drag a deal to the next stage, a loss that needs its reason, and a
deal without an open task that gets its next step planned with the move."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from voronka.activities.actions import do_create_task, do_create_task_goal
from voronka.activities.models import Task
from voronka.sales.actions import do_set_stage_requirements
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


def test_head_drags_a_deal_to_the_next_stage_and_sees_it_on_the_timeline(org, login):
    deal = make_deal(org.manager1, org.pipeline, title="Поставка станков")
    # With an open task the drop asks for nothing: the next step is there already.
    do_create_task(
        org.manager1, deal=deal, goal="Уточнить объём", due_at=timezone.now() + timedelta(days=1)
    )
    qualification = org.stage("Квалификация")
    page = login(org.head)
    page.goto("/board/")
    assert card(page, deal).is_visible()

    with page.expect_response(is_move) as answer:
        drag(page, card(page, deal), column(page, qualification))
    assert answer.value.status == 200

    moved = column(page, qualification).locator(f'.deal-card[data-deal="{deal.id}"]')
    moved.wait_for()
    counter = page.locator(f'.board-column[data-stage="{qualification.id}"] [data-count]')
    # The count is written once the answer is read, a moment after the card lands.
    expect(counter).to_have_text("1")
    deal.refresh_from_db()
    assert deal.stage == qualification

    moved.get_by_role("link", name="Поставка станков").click()
    page.wait_for_url(f"**/deals/{deal.id}/")
    stage_entry = page.locator('.timeline-event[data-kind="stage"]').first
    assert "Новый лид" in stage_entry.inner_text()
    assert "Квалификация" in stage_entry.inner_text()


def test_a_loss_asks_for_the_reason_and_is_refused_when_cancelled(org, login):
    invoiced = org.stage("Счёт выставлен")
    deal = make_deal(org.manager1, org.pipeline, title="Сомнительная сделка", stage=invoiced)
    lost = org.stage("Проиграно")
    page = login(org.head)
    page.goto("/board/")
    page.locator("#board").evaluate("board => { board.scrollLeft = board.scrollWidth; }")

    drag(page, card(page, deal), column(page, lost))
    dialog = page.locator("#lost-dialog")
    dialog.wait_for(state="visible")
    assert "Сомнительная сделка" in dialog.inner_text()
    with page.expect_response(is_move) as answer:
        dialog.get_by_role("button", name="Отмена").click()
    assert answer.value.status == 422

    alert = page.locator("#board-alert")
    alert.wait_for(state="visible")
    assert "причину" in alert.inner_text()
    column(page, invoiced).locator(f'.deal-card[data-deal="{deal.id}"]').wait_for()
    assert column(page, lost).locator(".deal-card").count() == 0
    deal.refresh_from_db()
    assert deal.stage == invoiced

    drag(page, card(page, deal), column(page, lost))
    dialog.wait_for(state="visible")
    dialog.locator("textarea").fill("Выбрали конкурента")
    with page.expect_response(is_move) as answer:
        dialog.get_by_role("button", name="Проиграна").click()
    assert answer.value.status == 200
    alert.wait_for(state="hidden")  # hidden once the board has placed the answer's card
    deal = Deal.objects.get(pk=deal.pk)
    assert (deal.stage, deal.loss_reason) == (lost, "Выбрали конкурента")
    assert StageChange.objects.filter(deal=deal).count() == 2


def test_a_card_dropped_on_a_stage_wanting_fields_asks_for_exactly_those(org, login):
    proposal = org.stage("КП отправлено")
    invoiced = org.stage("Счёт выставлен")
    do_set_stage_requirements(org.head, invoiced, ["invoice_no"])
    deal = make_deal(org.manager1, org.pipeline, title="Поставка труб", stage=proposal)
    page = login(org.head)
    page.goto("/board/")
    page.locator("#board").evaluate("board => { board.scrollLeft = board.scrollWidth; }")

    with page.expect_response(is_move) as answer:
        drag(page, card(page, deal), column(page, invoiced))
    assert answer.value.status == 422
    dialog = page.locator("#entry-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_label("Номер счёта").fill("С-2026-17")
    with page.expect_response(is_move) as answer:
        dialog.get_by_role("button", name="Сохранить и перенести").click()
    assert answer.value.status == 200
    column(page, invoiced).locator(f'.deal-card[data-deal="{deal.id}"]').wait_for()
    deal = Deal.objects.get(pk=deal.pk)
    assert (deal.stage, deal.invoice_no) == (invoiced, "С-2026-17")


def test_a_deal_without_an_open_task_gets_its_next_step_planned_with_the_drop(org, login):
    qualification = org.stage("Квалификация")
    do_create_task_goal(org.head, text="Назначить встречу с директором", stage=qualification)
    deal = make_deal(org.manager1, org.pipeline, title="Поставка котлов")
    page = login(org.manager1)
    page.goto("/board/")

    with page.expect_response(is_move) as answer:
        drag(page, card(page, deal), column(page, qualification))
    assert answer.value.status == 422
    dialog = page.locator("#entry-dialog")
    dialog.wait_for(state="visible")
    assert "Запланируйте следующий шаг" in dialog.locator("h3").inner_text()
    goal = dialog.get_by_label("Цель")
    assert dialog.locator("datalist option").first.get_attribute("value") == (
        "Назначить встречу с директором"
    )
    assert deal.stage_id != qualification.id

    dialog.get_by_label("Тип").select_option("meeting")
    goal.fill("Назначить встречу с директором")
    with page.expect_response(is_move) as answer:
        dialog.get_by_role("button", name="Сохранить и перенести").click()
    assert answer.value.status == 200
    column(page, qualification).locator(f'.deal-card[data-deal="{deal.id}"]').wait_for()
    assert dialog.is_hidden()
    deal.refresh_from_db()
    assert deal.stage == qualification
    [task] = Task.objects.filter(deal=deal, done_at__isnull=True)
    assert (task.type, task.goal, task.owner) == (
        "meeting",
        "Назначить встречу с директором",
        org.manager1,
    )
