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
