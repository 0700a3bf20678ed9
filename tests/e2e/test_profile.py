"""The profile page on a phone: the token form and list fit the screen."""


def test_on_a_phone_the_profile_fits_the_screen_and_the_create_token_button_is_whole(org, login):
    page = login(org.manager1, viewport=(390, 844))
    page.goto("/accounts/profile/")
    page.fill("#token-form input[name=name]", "Выгрузка в BI")
    page.get_by_role("button", name="Создать токен").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#new-token").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    box = page.get_by_role("button", name="Создать токен").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.locator("#tokens").get_by_text("Выгрузка в BI").is_visible()
