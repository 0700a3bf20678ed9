"""A manager's day in the browser: completing a task with its result, without a reload."""

from datetime import timedelta

from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.activities.models import Task
from voronka.testing.factories import make_deal


def test_a_manager_completes_an_overdue_task_with_its_result_without_a_reload(org, login):
    deal = make_deal(org.manager1, org.pipeline, title="Поставка бумаги")
    do_create_task(
        org.manager1,
        goal="Договориться о встрече",
        due_at=timezone.now() - timedelta(hours=2),
        deal=deal,
    )
    page = login(org.manager1)
    page.goto("/my-day/")
    assert page.get_by_test_id("count-overdue").inner_text() == "1"
    page.evaluate("window.sameDocument = true")

    item = page.get_by_test_id("task").filter(has_text="Договориться о встрече")
    assert item.get_by_role("link", name="Поставка бумаги").is_visible()
    item.get_by_placeholder("Результат: чем закончилось?").fill("Встреча в четверг в 11:00")
    item.get_by_role("button", name="Выполнено").click()

    done = page.get_by_test_id("done-task").filter(has_text="Встреча в четверг в 11:00")
    done.wait_for()
    assert page.get_by_test_id("count-overdue").inner_text() == "0"
    assert page.get_by_text("Ничего не просрочено — отлично.").is_visible()
    # The deal now has no open task: My day asks for its next step.
    assert page.get_by_test_id("deal-without-next-step").filter(has_text="Поставка бумаги").count()
    assert page.evaluate("window.sameDocument") is True
    task = Task.objects.get()
    assert task.done_at is not None and task.result == "Встреча в четверг в 11:00"
