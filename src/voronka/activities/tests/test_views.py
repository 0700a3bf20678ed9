"""My day and the task list, as the people who use them see them."""

import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override

from voronka.activities.actions import do_complete_task, do_create_task
from voronka.activities.models import Task
from voronka.activities.views import day_bounds
from voronka.clients.actions import do_create_contact
from voronka.sales.actions import do_move_deal
from voronka.testing.factories import make_deal

VLADIVOSTOK = zoneinfo.ZoneInfo("Asia/Vladivostok")


def signed_in(client, user):
    client.force_login(user)
    return client


def task(owner, goal, due_at, **fields):
    return do_create_task(owner, goal=goal, due_at=due_at, owner=owner, **fields)


def goals(rows) -> list[str]:
    return [t.goal for t in rows]


def local_day_start(tz, days_from_today=0):
    today = timezone.now().astimezone(tz).date() + timedelta(days=days_from_today)
    return datetime.combine(today, time.min, tzinfo=tz)


def russian(text: str) -> str:
    with override("ru"):
        return gettext(text)


# My day ----------------------------------------------------------------------------------


def test_my_day_is_where_a_manager_lands_after_signing_in(client, org):
    response = signed_in(client, org.manager1).get("/")
    assert response["Location"] == reverse("activities:my_day")


def test_overdue_tasks_come_oldest_first_and_todays_by_time(client, org):
    now = timezone.now()
    task(org.manager1, "Вчерашний звонок", now - timedelta(days=1))
    task(org.manager1, "Позавчерашняя встреча", now - timedelta(days=2))
    end_of_day = local_day_start(zoneinfo.ZoneInfo(org.manager1.timezone), 1)
    later = now + (end_of_day - now) * 2 / 3
    sooner = now + (end_of_day - now) / 3
    task(org.manager1, "Позже сегодня", later)
    task(org.manager1, "Скоро сегодня", sooner)
    ctx = signed_in(client, org.manager1).get(reverse("activities:my_day")).context
    assert goals(ctx["overdue"]["rows"]) == ["Позавчерашняя встреча", "Вчерашний звонок"]
    assert goals(ctx["due_today"]["rows"]) == ["Скоро сегодня", "Позже сегодня"]
    assert (ctx["overdue"]["count"], ctx["due_today"]["count"]) == (2, 2)


def test_overdue_tasks_are_shown_in_red(client, org):
    task(org.manager1, "Вчерашний звонок", timezone.now() - timedelta(days=1))
    page = signed_in(client, org.manager1).get(reverse("activities:my_day")).content.decode()
    overdue = page[page.index('id="overdue"') : page.index('id="today"')]
    assert "Вчерашний звонок" in overdue
    assert "text-danger" in overdue


def test_my_day_holds_only_the_signed_in_persons_tasks(client, org):
    soon = timezone.now() + timedelta(minutes=5)
    task(org.manager1, "Мой звонок", soon)
    task(org.manager2, "Звонок коллеги", soon)
    page = signed_in(client, org.manager1).get(reverse("activities:my_day")).content.decode()
    assert "Мой звонок" in page
    assert "Звонок коллеги" not in page


def test_a_seniors_day_is_their_own_not_their_teams(client, org):
    task(org.manager1, "Звонок менеджера", timezone.now() - timedelta(hours=1))
    ctx = signed_in(client, org.senior1).get(reverse("activities:my_day")).context
    assert ctx["overdue"]["rows"] == []


def test_a_task_names_its_deal_and_contact_with_links(client, org):
    ivan = do_create_contact(org.manager1, first_name="Иван", last_name="Петров")
    deal = make_deal(org.manager1, org.pipeline, title="Поставка", contact=ivan)
    task(org.manager1, "Согласовать встречу", timezone.now() + timedelta(minutes=5), deal=deal)
    page = signed_in(client, org.manager1).get(reverse("activities:my_day")).content.decode()
    assert reverse("sales:deal_detail", args=[deal.id]) in page
    assert reverse("clients:contact_detail", args=[ivan.id]) in page
    assert reverse("activities:task_complete", args=[Task.objects.get().id]) in page


def test_a_task_on_a_colleagues_deal_does_not_name_the_deal(client, org):
    theirs = make_deal(org.manager2, org.pipeline, title="Сделка коллеги")
    do_create_task(
        org.manager2,
        goal="Помочь с КП",
        due_at=timezone.now() + timedelta(minutes=5),
        deal=theirs,
        owner=org.manager1,
    )
    page = signed_in(client, org.manager1).get(reverse("activities:my_day")).content.decode()
    assert "Помочь с КП" in page
    assert "Сделка коллеги" not in page


def test_open_deals_without_a_next_step_are_listed_to_plan_one(client, org):
    lonely = make_deal(org.manager1, org.pipeline, title="Без задачи", days_ago=10)
    planned = make_deal(org.manager1, org.pipeline, title="С задачей")
    task(org.manager1, "Позвонить", timezone.now() + timedelta(days=3), deal=planned)
    won = make_deal(org.manager1, org.pipeline, title="Выиграна")
    do_move_deal(org.manager1, won, org.stage("Успешно"))
    make_deal(org.manager2, org.pipeline, title="Чужая без задачи")
    response = signed_in(client, org.manager1).get(reverse("activities:my_day"))
    rows = response.context["no_next_step"]["rows"]
    assert [d.title for d in rows] == ["Без задачи"]
    assert rows[0].days_in_stage == 10
    assert reverse("sales:deal_detail", args=[lonely.id]) in response.content.decode()


def test_a_deal_whose_only_task_is_done_has_no_next_step(client, org):
    deal = make_deal(org.manager1, org.pipeline, title="Звонок сделан")
    done = task(org.manager1, "Позвонить", timezone.now(), deal=deal)
    do_complete_task(org.manager1, done, result="Договорились о встрече")
    ctx = signed_in(client, org.manager1).get(reverse("activities:my_day")).context
    assert [d.title for d in ctx["no_next_step"]["rows"]] == ["Звонок сделан"]
    assert goals(ctx["done_today"]["rows"]) == ["Позвонить"]


def test_tomorrows_tasks_are_shown_briefly_and_later_ones_not_at_all(client, org):
    tz = zoneinfo.ZoneInfo(org.manager1.timezone)
    task(org.manager1, "Завтра утром", local_day_start(tz, 1) + timedelta(hours=9))
    task(org.manager1, "Послезавтра", local_day_start(tz, 2) + timedelta(hours=9))
    ctx = signed_in(client, org.manager1).get(reverse("activities:my_day")).context
    assert goals(ctx["due_tomorrow"]["rows"]) == ["Завтра утром"]
    assert ctx["due_today"]["rows"] == []


def test_an_empty_day_says_so(client, org):
    page = signed_in(client, org.manager1).get(reverse("activities:my_day")).content.decode()
    assert russian("Nothing overdue — good.") in page


def test_today_is_the_day_in_the_persons_own_time_zone(client, org):
    """In Vladivostok (UTC+10) the day turns ten hours before it does in UTC and seven before
    Moscow: a task at 00:30 local tomorrow is tomorrow's, though it is still today in Moscow."""
    org.manager1.timezone = "Asia/Vladivostok"
    org.manager1.save()
    tomorrow_start = local_day_start(VLADIVOSTOK, 1)
    task(org.manager1, "Ночью по Владивостоку", tomorrow_start + timedelta(minutes=30))
    task(org.manager1, "Поздно вечером", tomorrow_start - timedelta(seconds=1))
    ctx = signed_in(client, org.manager1).get(reverse("activities:my_day")).context
    assert goals(ctx["due_tomorrow"]["rows"]) == ["Ночью по Владивостоку"]
    assert goals(ctx["due_today"]["rows"]) == ["Поздно вечером"]
    assert ctx["today"] == local_day_start(VLADIVOSTOK)


def test_times_on_my_day_are_shown_in_the_persons_time_zone(client, org):
    org.manager1.timezone = "Asia/Vladivostok"
    org.manager1.save()
    due = local_day_start(VLADIVOSTOK, 1) + timedelta(hours=9, minutes=15)
    task(org.manager1, "Звонок в 9:15", due)
    page = signed_in(client, org.manager1).get(reverse("activities:my_day")).content.decode()
    tomorrow = page[page.index('id="tomorrow"') :]
    assert "09:15" in tomorrow


def test_day_bounds_follow_the_given_time_zone():
    # 15:00 UTC on 10 March is already 01:00 on 11 March in Vladivostok.
    now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    today, tomorrow, day_after = day_bounds(now, VLADIVOSTOK)
    assert today == datetime(2026, 3, 11, tzinfo=VLADIVOSTOK)
    assert today.astimezone(UTC) == datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert tomorrow - today == day_after - tomorrow == timedelta(days=1)
    moscow = day_bounds(now, zoneinfo.ZoneInfo("Europe/Moscow"))[0]
    assert moscow == datetime(2026, 3, 10, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"))


def test_htmx_reloads_only_the_sections(client, org):
    response = signed_in(client, org.manager1).get(
        reverse("activities:my_day"), headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert page.lstrip().startswith("<div") or 'id="my-day"' in page[:200]
    assert "<html" not in page


# The task list ---------------------------------------------------------------------------


def test_a_manager_never_sees_a_colleagues_task(client, org):
    soon = timezone.now() + timedelta(hours=1)
    task(org.manager1, "Мой звонок", soon)
    task(org.manager2, "Звонок коллеги", soon)
    response = signed_in(client, org.manager1).get(reverse("activities:task_list"))
    assert goals(response.context["page"].rows) == ["Мой звонок"]
    assert "Звонок коллеги" not in response.content.decode()


def test_a_manager_cannot_edit_a_colleagues_task(client, org):
    theirs = task(org.manager2, "Звонок коллеги", timezone.now())
    c = signed_in(client, org.manager1)
    assert c.get(reverse("activities:task_edit", args=[theirs.id])).status_code == 404


def test_a_senior_sees_the_teams_tasks_and_filters_by_person(client, org):
    soon = timezone.now() + timedelta(hours=1)
    task(org.manager1, "Звонок первого", soon)
    task(org.manager2, "Звонок второго", soon)
    task(org.manager3, "Звонок из другой команды", soon)
    c = signed_in(client, org.senior1)
    everyone = c.get(reverse("activities:task_list"))
    assert sorted(goals(everyone.context["page"].rows)) == ["Звонок второго", "Звонок первого"]
    one = c.get(reverse("activities:task_list"), {"owner": org.manager2.id})
    assert goals(one.context["page"].rows) == ["Звонок второго"]
    other_team = c.get(reverse("activities:task_list"), {"owner": org.manager3.id})
    assert other_team.context["page"].rows == []


def test_the_task_list_filters_by_state(client, org):
    now = timezone.now()
    tz = zoneinfo.ZoneInfo(org.manager1.timezone)
    task(org.manager1, "Просрочена", now - timedelta(days=2))
    task(org.manager1, "Через неделю", now + timedelta(days=7))
    task(org.manager1, "Сегодня", local_day_start(tz, 1) - timedelta(seconds=1))
    done = task(org.manager1, "Сделана", now - timedelta(days=1))
    do_complete_task(org.manager1, done, result="Готово")
    c = signed_in(client, org.manager1)

    def state(name):
        return goals(c.get(reverse("activities:task_list"), {"state": name}).context["page"].rows)

    assert state("open") == ["Просрочена", "Сегодня", "Через неделю"]
    assert state("overdue") == ["Просрочена"]
    assert state("today") == ["Сегодня"]
    assert state("done") == ["Сделана"]
    assert len(state("all")) == 4


def test_the_task_list_searches_goals_and_filters_by_type_and_due_range(client, org):
    tz = zoneinfo.ZoneInfo(org.manager1.timezone)
    in_three_days = local_day_start(tz, 3) + timedelta(hours=12)
    task(org.manager1, "Получить реквизиты", in_three_days, type="bank_details")
    task(org.manager1, "Договориться о встрече", in_three_days, type="call")
    task(
        org.manager1,
        "Отправить КП",
        local_day_start(tz, 10) + timedelta(hours=12),
        type="proposal",
    )
    c = signed_in(client, org.manager1)
    url = reverse("activities:task_list")
    assert goals(c.get(url, {"q": "реквизит"}).context["page"].rows) == ["Получить реквизиты"]
    assert goals(c.get(url, {"type": "call"}).context["page"].rows) == ["Договориться о встрече"]
    day = in_three_days.astimezone(tz).date().isoformat()
    in_range = goals(c.get(url, {"due_from": day, "due_to": day}).context["page"].rows)
    assert sorted(in_range) == ["Договориться о встрече", "Получить реквизиты"]


def test_the_task_list_sorts_by_due_either_way(client, org):
    now = timezone.now()
    for days in (3, 1, 2):
        task(org.manager1, f"Через {days}", now + timedelta(days=days))
    c = signed_in(client, org.manager1)
    url = reverse("activities:task_list")
    assert goals(c.get(url).context["page"].rows) == ["Через 1", "Через 2", "Через 3"]
    latest_first = c.get(url, {"sort": "-due"}).context["page"].rows
    assert goals(latest_first) == ["Через 3", "Через 2", "Через 1"]


def test_the_task_list_comes_in_pages_of_fifty(client, org):
    now = timezone.now()
    Task.objects.bulk_create(
        Task(
            workspace=org.workspace,
            owner=org.manager1,
            goal=f"Звонок {i:03d}",
            due_at=now + timedelta(minutes=i),
        )
        for i in range(70)
    )
    c = signed_in(client, org.manager1)
    first = c.get(reverse("activities:task_list")).context["page"]
    second = c.get(reverse("activities:task_list"), {"page": 2}).context["page"]
    assert (len(first.rows), first.count, first.has_next) == (50, 70, True)
    assert goals(second.rows)[0] == "Звонок 050" and len(second.rows) == 20


def test_another_workspaces_tasks_never_show(client, org, other_org):
    task(other_org.manager1, "Чужой звонок", timezone.now() - timedelta(hours=1))
    c = signed_in(client, org.head)
    assert c.get(reverse("activities:task_list"), {"state": "all"}).context["page"].rows == []


def test_the_quality_controller_reads_tasks_but_is_not_offered_to_plan_one(client, org):
    task(org.manager1, "Звонок", timezone.now() - timedelta(hours=1))
    response = signed_in(client, org.qc).get(reverse("activities:task_list"))
    assert goals(response.context["page"].rows) == ["Звонок"]
    assert reverse("activities:task_create") not in response.content.decode()
