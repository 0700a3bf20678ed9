"""The deal page in a browser: a manager logs a call and plans the next step without a reload."""

from datetime import timedelta

from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.activities.models import Task
from voronka.inbox.models import Communication
from voronka.testing.factories import make_deal


def test_a_manager_logs_a_call_and_plans_the_next_task_on_the_deal_page(org, login):
    deal = make_deal(org.manager1, org.pipeline, title="Оснащение склада")
    page = login(org.manager1)
    page.goto(f"/deals/{deal.id}/")
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    assert page.get_by_text("Нет следующего шага").first.is_visible()

    log = page.locator("form.communication-form")
    log.get_by_label("Комментарий").fill("   ")
    log.get_by_role("button", name="Записать").click()  # an empty comment is refused in place
    log.locator(".invalid-feedback").filter(has_text="договорились").wait_for()
    assert Communication.objects.count() == 0
    log = page.locator("form.communication-form")
    log.get_by_label("Комментарий").fill("Клиент ждёт КП до пятницы, встреча в офисе во вторник.")
    log.get_by_role("button", name="Записать").click()
    timeline = page.locator("#deal-timeline")
    timeline.locator(".timeline-comment", has_text="Клиент ждёт КП до пятницы").wait_for()
    assert log.get_by_label("Комментарий").input_value() == ""  # ready for the next one

    page.get_by_role("tab", name="Запланировать задачу").click()
    plan = page.locator("form.task-form")
    plan.get_by_label("Тип").select_option("proposal")
    plan.get_by_label("Цель").fill("Отправить КП и договориться о встрече")
    plan.get_by_role("button", name="Запланировать").click()
    timeline.get_by_text("Отправить КП и договориться о встрече").wait_for()
    next_step = page.locator("#deal-next-step")
    next_step.get_by_text("Отправить КП и договориться о встрече").wait_for()
    assert next_step.get_by_text("Нет следующего шага").count() == 0

    assert page.evaluate("window.sameDocument") is True
    comm = Communication.objects.get(deal=deal)
    assert (comm.kind, comm.author, comm.channel) == ("call", org.manager1, "phone")
    task = Task.objects.get(deal=deal)
    assert (task.type, task.owner, task.done_at) == ("proposal", org.manager1, None)


def test_a_manager_completes_the_next_task_with_its_result(org, login):
    deal = make_deal(org.manager1, org.pipeline, title="Годовой сервис")
    task = do_create_task(
        org.manager1,
        deal=deal,
        goal="Получить реквизиты",
        due_at=timezone.now() + timedelta(hours=1),
    )
    page = login(org.manager1)
    page.goto(f"/deals/{deal.id}/")
    next_step = page.locator("#deal-next-step")
    next_step.get_by_text("Выполнить").click()
    next_step.get_by_label("Результат").fill("Реквизиты получены, счёт выставлен")
    next_step.get_by_role("button", name="Отметить выполненной").click()
    page.locator("#deal-timeline").get_by_text("Реквизиты получены, счёт выставлен").wait_for()
    next_step.get_by_text("Нет следующего шага").wait_for()
    task.refresh_from_db()
    assert task.done_at is not None and task.result == "Реквизиты получены, счёт выставлен"


def test_the_quality_controller_reads_the_deal_page_without_forms(org, login):
    deal = make_deal(org.manager1, org.pipeline, title="Проверяемая сделка")
    page = login(org.qc)
    page.goto(f"/deals/{deal.id}/")
    assert page.get_by_role("heading", name="Проверяемая сделка").is_visible()
    assert page.locator("form").filter(has=page.locator("[name=comment]")).count() == 0
    assert page.locator("#deal-actions").count() == 0
    assert page.get_by_role("link", name="Изменить").count() == 0
