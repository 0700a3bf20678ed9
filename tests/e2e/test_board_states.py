"""The board in a browser: a card shows its deal's control state, and the order control sorts
the columns by next step (overdue first) and stays in the address."""

import os
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.control.actions import do_snooze_deal, do_update_rule_settings
from voronka.testing.factories import make_deal

SHOTS = Path(os.environ.get("BOARD_SHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


def titles(page, stage):
    return page.locator(f'.board-cards[data-stage="{stage.id}"] .deal-card-title').all_inner_texts()


def test_a_card_shows_its_state_and_the_sort_puts_overdue_first(org, login):
    now = timezone.now()
    new_lead = org.stage("Новый лид")
    later = make_deal(org.manager1, org.pipeline, title="Поставка позже")
    do_create_task(org.manager1, deal=later, goal="Отправить КП", due_at=now + timedelta(days=3))
    overdue = make_deal(org.manager1, org.pipeline, title="Просроченный звонок", days_ago=6)
    do_create_task(org.manager1, deal=overdue, goal="Перезвонить", due_at=now - timedelta(hours=3))
    make_deal(org.manager1, org.pipeline, title="Новая без шага")
    # Two more kinds of state, in a stage of their own so the order above stays short.
    meeting = org.stage("Встреча назначена")
    do_update_rule_settings(org.head, next_contact_gap_days=7)
    far = make_deal(org.manager1, org.pipeline, title="Звонок через месяц", stage=meeting)
    do_create_task(org.manager1, deal=far, goal="Уточнить бюджет", due_at=now + timedelta(days=30))
    paused = make_deal(
        org.manager1, org.pipeline, title="Ждём директора", stage=meeting, days_ago=20
    )
    do_create_task(org.manager1, deal=paused, goal="Созвон", due_at=now + timedelta(days=2))
    do_snooze_deal(
        org.manager1, paused, until=now + timedelta(days=10), reason="Директор в отпуске"
    )

    page = login(org.manager1)
    page.goto("/board/")
    card = page.locator(f'.deal-card[data-deal="{overdue.id}"]')
    assert card.get_attribute("data-next-step") == "overdue"
    assert "просрочена" in card.locator(".next-step").inner_text()
    stalled = card.locator('[data-flag="stalled"]')
    assert stalled.inner_text() == "завис"
    assert "норма" in stalled.get_attribute("title")
    assert titles(page, new_lead) == ["Новая без шага", "Поставка позже", "Просроченный звонок"]
    far_card = page.locator(f'.deal-card[data-deal="{far.id}"]')
    assert far_card.locator('[data-flag="too-far"]').inner_text() == "контакт слишком далеко"
    paused_card = page.locator(f'.deal-card[data-deal="{paused.id}"]')
    snoozed = paused_card.locator('[data-flag="snoozed"]')
    assert snoozed.inner_text().startswith("пауза до ")
    assert "Директор в отпуске" in snoozed.get_attribute("title")
    assert paused_card.locator('[data-flag="stalled"]').count() == 0  # paused, not a violation

    with page.expect_navigation():
        page.select_option('select[name="sort"]', "next_step")
    assert "sort=next_step" in page.url
    assert titles(page, new_lead) == ["Просроченный звонок", "Поставка позже", "Новая без шага"]
    SHOTS.mkdir(exist_ok=True)
    page.locator(".board-legend summary").click()
    page.screenshot(path=str(SHOTS / "board-states-desktop.png"))

    page.reload()  # the order is in the address: it survives a reload
    assert page.locator('select[name="sort"]').input_value() == "next_step"
    assert titles(page, new_lead)[0] == "Просроченный звонок"

    phone = login(org.manager1, viewport=(390, 844))
    phone.goto(page.url)
    phone_card = phone.locator(f'.deal-card[data-deal="{overdue.id}"]')
    assert phone_card.locator('[data-flag="stalled"]').is_visible()
    phone.screenshot(path=str(SHOTS / "board-states-phone.png"))
