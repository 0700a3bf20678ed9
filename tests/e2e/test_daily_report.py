"""Issue 5's daily report in a browser: the head opens it from the control screen, picks the
day and reads a manager's row against plan; a manager on a phone sees only their own."""

from voronka.control.tests.daily_history import DAY, known_week, plan_week


def test_the_head_opens_the_daily_report_from_the_control_screen(org, login):
    known_week(org)
    plan_week(org, org.manager1)

    head = login(org.head)
    head.goto("/control/")
    head.locator("#daily-report-link").click()
    head.wait_for_url("**/control/daily/")
    head.fill("#daily-date", DAY.isoformat())
    head.locator("#daily-day").get_by_role("button", name="Показать").click()
    head.wait_for_url(f"**/control/daily/?date={DAY.isoformat()}")
    assert "18 ноября 2026" in head.locator("h1").inner_text()
    row = head.locator(f'#daily-table tr[data-manager="{org.manager1.id}"]')
    calls = row.locator('[data-metric="calls"]')
    assert calls.locator('[data-testid="fact"]').inner_text() == "3"
    assert "/ 64" in calls.inner_text()
    assert "Дорого" in row.locator('[data-metric="lost"]').inner_text()
    assert head.locator("#daily-table tbody tr[data-manager]").count() == 4
    head.screenshot(path="test-artifacts/daily-head.png", full_page=True)
    head.get_by_test_id("prev-day").click()
    head.wait_for_url("**/control/daily/?date=2026-11-17")

    manager = login(org.manager1, viewport=(390, 844))
    assert manager.locator('#main-nav a[href="/control/daily/"]').count() == 1
    manager.goto(f"/control/daily/?date={DAY.isoformat()}")
    assert manager.locator("#daily-table tbody tr[data-manager]").count() == 1
    card = manager.locator(f'#daily-cards [data-card-manager="{org.manager1.id}"]')
    assert card.is_visible()
    assert "3 / 64" in card.locator('[data-metric="calls"]').inner_text()
    manager.screenshot(path="test-artifacts/daily-manager-phone.png", full_page=True)
