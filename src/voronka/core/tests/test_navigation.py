"""The top navigation: the pages used all day in the row, the rarer ones under «Ещё»."""

import re

import pytest


def navigation(client, user, path="/board/"):
    client.force_login(user)
    html = client.get(path).content.decode()
    nav = html.split('id="main-nav"', 1)[1].split("</ul>", 1)[0]
    row, _, more = nav.partition('class="nav-item dropdown')
    labels = lambda part: re.findall(r'class="(?:nav-link|dropdown-item)[^"]*"[^>]*>([^<]+)', part)  # noqa: E731
    return labels(row), labels(more.split('class="dropdown-menu"', 1)[1]) if more else []


def test_the_head_keeps_the_daily_pages_in_the_row_and_the_rest_under_more(org, client):
    row, more = navigation(client, org.head)
    assert row[:3] == ["Доска", "Контроль", "Мой день"]
    assert {"Сделки", "Задачи", "Входящие", "План", "Аналитика"} <= set(row)
    assert more == ["Планёрка", "Настройки"]


@pytest.mark.parametrize(
    ("role", "last"), [("senior1", "Планёрка"), ("manager1", "Ежедневный отчёт")]
)
def test_a_menu_of_one_page_is_a_plain_item_at_the_end_of_the_row(org, client, role, last):
    row, more = navigation(client, getattr(org, role))
    assert more == [] and row[-1] == last


def test_more_lights_up_on_the_pages_it_holds(org, client):
    client.force_login(org.head)
    html = client.get("/settings/pipelines/").content.decode()
    assert 'class="nav-item dropdown active"' in html
    html = client.get("/board/").content.decode()
    assert 'class="nav-item dropdown active"' not in html
