"""The head's control screen in a browser: counts by manager, the drill-down to a deal, and the
count dropping once the manager fixes the deal."""

from datetime import timedelta

from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.control.evaluate import evaluate_workspace
from voronka.control.models import Violation
from voronka.testing.factories import make_deal


def cell(page, user, kind):
    row = page.locator(f'[data-testid="matrix-row"][data-manager="{user.username}"]')
    return row.locator(f'[data-kind="{kind}"]')


def test_the_head_drills_down_to_a_deal_and_sees_the_count_drop_when_the_manager_fixes_it(
    org, login
):
    deal = make_deal(org.manager2, org.pipeline, title="Оснащение склада")
    make_deal(org.manager2, org.pipeline, title="Сервер для бухгалтерии")
    other = make_deal(org.manager3, org.pipeline, title="Видеонаблюдение")
    do_create_task(
        org.manager3, goal="Перезвонить", due_at=timezone.now() - timedelta(hours=3), deal=other
    )
    evaluate_workspace(org.workspace.id)

    head = login(org.head)
    head.get_by_role("link", name="Контроль").first.click()
    head.wait_for_url("**/control/")
    assert cell(head, org.manager2, "no_next_step").inner_text() == "2"
    assert cell(head, org.manager3, "overdue_task").inner_text() == "1"
    assert cell(head, org.manager1, "no_next_step").inner_text() == "0"
    assert head.locator("#trend-chart svg").count() == 1  # the chart is drawn

    cell(head, org.manager2, "no_next_step").click()
    drilldown = head.locator("#drilldown")
    drilldown.get_by_role("heading", name="Нет следующего шага").wait_for()
    assert drilldown.get_by_test_id("violation").count() == 2
    drilldown.get_by_role("link", name="Оснащение склада").click()
    head.wait_for_url(f"**/deals/{deal.id}/")

    manager = login(org.manager2)
    manager.goto(f"/deals/{deal.id}/")
    manager.get_by_role("tab", name="Запланировать задачу").click()
    plan = manager.locator("form.task-form")
    plan.get_by_label("Цель").fill("Отправить КП и договориться о встрече")
    plan.get_by_role("button", name="Запланировать").click()
    manager.locator("#deal-next-step").get_by_text(
        "Отправить КП и договориться о встрече"
    ).wait_for()

    head.goto("/control/")
    assert cell(head, org.manager2, "no_next_step").inner_text() == "1"
    assert head.get_by_test_id("count-no_next_step").inner_text() == "1"
    resolved = Violation.objects.get(deal=deal, kind="no_next_step")
    assert resolved.resolved_at is not None


def test_a_senior_pauses_a_stalled_deal_from_the_drill_down_and_sees_it_among_the_snoozed(
    org, login
):
    deal = make_deal(org.manager1, org.pipeline, title="Монтаж СКС", days_ago=10)
    do_create_task(
        org.manager1, goal="Согласовать смету", due_at=timezone.now() + timedelta(days=1), deal=deal
    )
    evaluate_workspace(org.workspace.id)

    page = login(org.senior1, viewport=(390, 844))  # a phone
    page.goto("/control/")
    page.get_by_test_id("card-stalled").click()
    row = page.get_by_test_id("violation").filter(has_text="Монтаж СКС")
    row.get_by_role("button", name="Приостановить…").click()
    row.get_by_label("Причина").fill("Директор клиента в отпуске до 10-го")
    row.get_by_role("button", name="Приостановить отметки").click()
    row.get_by_test_id("snooze-active").wait_for()

    page.goto("/control/")
    assert page.get_by_test_id("count-stalled").inner_text() == "0"
    snoozed = page.get_by_test_id("snooze-row")
    assert "Директор клиента в отпуске до 10-го" in snoozed.inner_text()
