"""Scenario 2, the Monday planning meeting: the head flags a call on a deal's timeline, opens
the meeting page from the navigation, walks through its sections, opens a deal, and prints it."""

from datetime import timedelta

from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.control.evaluate import evaluate_workspace
from voronka.inbox.actions import do_log_communication
from voronka.planning.actions import do_set_target
from voronka.planning.rules import period_start
from voronka.sales.actions import do_move_deal
from voronka.testing.factories import make_deal

SECTIONS = ["#meeting-plan", "#meeting-hot", "#meeting-stuck", "#meeting-closed", "#meeting-flags"]


def agenda(org):
    today = timezone.localdate()
    do_set_target(
        org.head,
        period_kind="month",
        period_start=period_start("month", today),
        scope="company",
        amount=6_000_000,
    )
    invoice = org.stage("Счёт выставлен")
    servers = make_deal(
        org.manager1, org.pipeline, title="Серверы для склада", stage=invoice, amount=900_000
    )
    do_create_task(
        org.manager1,
        goal="Получить платёжку",
        due_at=timezone.now() + timedelta(hours=5),
        deal=servers,
    )
    make_deal(org.manager3, org.pipeline, title="Камеры в офис", stage=invoice, amount=300_000)
    for n in range(3):
        make_deal(org.manager2, org.pipeline, title=f"Заявка с сайта {n}", days_ago=9 + n)
    yesterday = timezone.now() - timedelta(days=1)
    won = make_deal(org.manager1, org.pipeline, title="Ноутбуки для школы", amount=450_000)
    do_move_deal(org.manager1, won, org.stage("Успешно"), at=yesterday)
    lost = make_deal(org.manager4, org.pipeline, title="Принтеры", amount=120_000)
    do_move_deal(
        org.manager4, lost, org.stage("Проиграно"), loss_reason="Выбрали конкурента", at=yesterday
    )
    furniture = make_deal(org.manager3, org.pipeline, title="Мебель для переговорной")
    do_log_communication(
        org.manager3,
        kind="call",
        deal=furniture,
        comment="Клиент сказал, что дорого; договорились созвониться в пятницу.",
        duration_seconds=245,
    )
    evaluate_workspace(org.workspace.id)
    return servers, furniture


def test_the_head_opens_the_planning_meeting_and_prints_it(org, login):
    servers, furniture = agenda(org)
    head = login(org.head)
    # The call to discuss is flagged from the deal's timeline, with what to listen for.
    head.goto(f"/deals/{furniture.id}/")
    head.locator("summary", has_text="На разбор").click()
    head.get_by_label("Что послушать на планёрке").fill(
        "Возражение «дорого» на 2:10 осталось без ответа"
    )
    head.get_by_role("button", name="Отметить звонок").click()
    head.get_by_test_id("review-flag").wait_for()
    head.screenshot(path="test-artifacts/meeting-flag-on-timeline.png")

    head.get_by_role("button", name="Ещё").click()  # the navigation's less-used pages
    head.get_by_role("link", name="Планёрка", exact=True).first.click()
    head.wait_for_url("**/control/meeting/")
    for section in SECTIONS:
        assert head.locator(section).is_visible()
    assert head.locator("#meeting-plan-fact tbody tr").count() == 4
    hot = head.locator("#meeting-hot-deals tbody tr")
    assert hot.first.get_attribute("data-deal") == str(servers.id)
    assert "Получить платёжку" in hot.first.inner_text()
    assert "Заявка с сайта 2" in head.locator("#meeting-stuck").inner_text()
    assert "Выбрали конкурента" in head.locator("#meeting-lost").inner_text()
    assert "Ноутбуки для школы" in head.locator("#meeting-won").inner_text()
    assert "на 2:10" in head.locator("#meeting-flags").inner_text()
    head.screenshot(path="test-artifacts/meeting-head.png", full_page=True)

    head.emulate_media(media="print")
    assert not head.locator("header.navbar").is_visible()
    assert not head.get_by_test_id("print").is_visible()
    assert head.locator("#meeting-hot").is_visible()
    breaks = [
        head.locator(section).evaluate("e => getComputedStyle(e).breakBefore")
        for section in SECTIONS
    ]
    assert breaks == ["auto", "page", "page", "page", "page"]  # a section a page
    head.screenshot(path="test-artifacts/meeting-print.png", full_page=True)
    head.emulate_media(media="screen")

    hot.first.get_by_role("link", name="Серверы для склада").click()
    head.wait_for_url(f"**/deals/{servers.id}/")

    senior = login(org.senior2, viewport=(390, 844))
    senior.goto("/control/meeting/")
    assert "Камеры в офис" in senior.locator("#meeting-hot").inner_text()
    assert "Серверы для склада" not in senior.content()
    senior.screenshot(path="test-artifacts/meeting-phone.png", full_page=True)
