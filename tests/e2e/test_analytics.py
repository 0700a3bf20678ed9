"""The funnel analytics in a browser: the head reads which manager and stage hold deals back;
a manager sees only their own figures."""

from datetime import timedelta

from voronka.analytics.rollups import rebuild_workspace
from voronka.sales.actions import do_move_deal
from voronka.testing.factories import make_deal


def weak_meetings(org):
    """Everyone moves most qualified deals to a meeting; manager4 one deal in six."""
    qual = org.stage("Квалификация")
    meeting = org.stage("Встреча назначена")
    for manager, moved in (
        (org.manager1, 5),
        (org.manager2, 5),
        (org.manager3, 4),
        (org.manager4, 1),
    ):
        for i in range(6):
            deal = make_deal(manager, org.pipeline, owner=manager, days_ago=12, amount=150_000)
            do_move_deal(manager, deal, qual, at=deal.stage_entered_at + timedelta(hours=20))
            if i < moved:
                do_move_deal(manager, deal, meeting, at=deal.stage_entered_at + timedelta(days=1))
    rebuild_workspace(org.workspace)


def test_the_head_reads_the_bottleneck_and_a_manager_sees_only_their_own(org, login):
    weak_meetings(org)
    head = login(org.head)
    head.get_by_role("link", name="Аналитика").first.click()
    head.wait_for_url("**/analytics/funnel/")
    name = org.manager4.get_full_name() or org.manager4.username
    first = head.locator('[data-testid="bottlenecks"] li').first
    assert first.inner_text() == (
        f"{name}: «Квалификация» → «Встреча назначена» 17% против 78% у остальных"
    )
    assert head.locator("#funnel-chart svg").count() == 1
    assert (
        head.locator('#funnel-table tr[data-stage="Квалификация"] td').nth(1).inner_text() == "24"
    )
    head.screenshot(path="test-artifacts/analytics-head.png", full_page=True)

    manager = login(org.manager1, viewport=(390, 844))
    manager.goto("/analytics/funnel/")
    cells = manager.locator('#funnel-table tr[data-stage="Квалификация"] td')
    assert cells.nth(1).inner_text() == "6"
    assert manager.locator('[data-testid="csv-funnel"]').count() == 0
    manager.screenshot(path="test-artifacts/analytics-manager.png", full_page=True)


def test_the_head_chooses_a_product_and_the_funnel_counts_only_its_deals(org, login):
    from voronka.clients.actions import do_create_company, do_create_segment
    from voronka.sales.actions import do_create_product

    licences = do_create_product(org.head, name="Лицензии")
    do_create_product(org.head, name="Внедрение")
    retail = do_create_segment(org.head, name="Розница")
    shop = do_create_company(org.head, name="Магазин", segment=retail)
    qual = org.stage("Квалификация")
    for manager, product, company, count in (
        (org.manager1, licences, shop, 4),
        (org.manager2, licences, None, 2),
        (org.manager3, None, None, 3),
    ):
        for _ in range(count):
            deal = make_deal(
                manager,
                org.pipeline,
                owner=manager,
                days_ago=5,
                amount=50_000,
                product=product,
                company=company,
            )
            do_move_deal(manager, deal, qual, at=deal.stage_entered_at + timedelta(hours=3))
    rebuild_workspace(org.workspace)

    head = login(org.head, viewport=(1440, 900))
    head.goto("/analytics/funnel/")
    qualified = head.locator('#funnel-table tr[data-stage="Квалификация"] td').nth(1)
    assert qualified.inner_text() == "9"
    head.get_by_label("Продукт").select_option(label="Лицензии")
    head.get_by_role("button", name="Показать").click()
    head.wait_for_url(f"**product={licences.id}**")
    assert qualified.inner_text() == "6"
    selection = head.locator('[data-testid="selection"]')
    assert "Продукт: Лицензии" in selection.inner_text()
    assert f"product={licences.id}" in head.locator('[data-testid="csv-funnel"]').get_attribute(
        "href"
    )
    head.get_by_label("Сегмент клиентов").select_option(label="Розница")
    head.get_by_role("button", name="Показать").click()
    head.wait_for_url(f"**segment={retail.id}**")
    assert qualified.inner_text() == "4"
    head.screenshot(path="test-artifacts/analytics-filters-1440.png", full_page=True)

    phone = login(org.head, viewport=(390, 844))
    phone.goto(f"/analytics/funnel/?product={licences.id}&segment={retail.id}")
    cells = phone.locator('#funnel-table tr[data-stage="Квалификация"] td')
    assert cells.nth(1).inner_text() == "4"
    # The filter row fits the phone: no control wider than the screen.
    for box in phone.locator("#analytics-filters select, #analytics-filters input").all():
        if box.is_visible():
            edge = box.bounding_box()
            assert edge["x"] >= 0 and edge["x"] + edge["width"] <= 390, edge
    phone.screenshot(path="test-artifacts/analytics-filters-390.png", full_page=True)
