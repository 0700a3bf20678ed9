def test_a_person_signs_in_and_out_and_a_wrong_password_is_told(org, login, browser, live_server):
    page = login(org.head, through_form=True)
    assert page.locator("header.navbar").is_visible()
    page.get_by_label("Открыть меню пользователя").click()
    page.get_by_role("button", name="Выйти").click()
    page.wait_for_url("**/accounts/login/")

    ctx = browser.new_context(base_url=live_server.url, locale="ru-RU")
    wrong = ctx.new_page()
    wrong.goto("/accounts/login/")
    wrong.fill("#id_username", org.head.username)
    wrong.fill("#id_password", "not-the-password")
    wrong.click("button[type=submit]")
    assert wrong.get_by_role("alert").is_visible()
    assert "/accounts/login/" in wrong.url
    ctx.close()
