"""What a person sees when a page is not there for them: our frame in their language, a way on."""


def test_a_page_a_manager_may_not_open_says_not_found_in_russian_inside_the_frame(org, client):
    client.force_login(org.manager1)
    response = client.get("/control/meeting/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Страница не найдена" in html
    assert "Такой страницы нет или она вам недоступна." in html
    assert "На главную" in html
    assert 'id="main-nav"' in html
    assert 'href="/"' in html


def test_every_page_names_its_icon_so_the_browser_does_not_ask_for_a_missing_one(org, client):
    client.force_login(org.head)
    html = client.get("/plan/").content.decode()
    from django.contrib.staticfiles import finders

    assert 'rel="icon"' in html and "voronka/favicon.svg" in html
    assert finders.find("voronka/favicon.svg")
