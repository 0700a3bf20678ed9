"""A manager adds clients in the browser: a company, a warning about a duplicate, a contact."""

from voronka.clients.models import Company, Contact


def test_a_manager_creates_a_company_is_warned_of_a_duplicate_and_adds_a_contact(org, login):
    page = login(org.manager1)
    page.goto("/companies/")
    page.get_by_role("link", name="Новая компания").first.click()
    page.fill("#id_name", "ООО «Ромашка»")
    page.fill("#id_phone", "+7 916 123-45-67")
    page.fill("#id_city", "Москва")
    page.get_by_role("button", name="Создать компанию").click()
    page.wait_for_url("**/companies/*/")
    assert page.get_by_role("heading", name="ООО «Ромашка»").is_visible()
    first = Company.objects.get(name="ООО «Ромашка»")

    # A second company with the same phone, written another way: warned while typing...
    page.goto("/companies/new/")
    page.fill("#id_name", "Ромашка-Юг")
    page.fill("#id_phone", "8 916 123 45 67")
    warning = page.get_by_test_id("duplicates")
    warning.wait_for()
    assert warning.get_by_role("link", name="ООО «Ромашка»").get_attribute("href") == (
        f"/companies/{first.id}/"
    )
    # ...and again on submit, where the manager may confirm it is another client.
    page.get_by_role("button", name="Создать компанию").click()
    page.wait_for_load_state("networkidle")
    assert "/companies/new/" in page.url
    assert not Company.objects.filter(name="Ромашка-Юг").exists()
    page.get_by_label("Всё равно создать: это другой клиент").check()
    page.get_by_role("button", name="Создать компанию").click()
    page.wait_for_url("**/companies/*/")
    assert Company.objects.filter(name="Ромашка-Юг", phone="+79161234567").exists()

    # A contact for the first company, started from its page.
    page.goto(f"/companies/{first.id}/")
    page.get_by_role("link", name="Новый контакт").first.click()
    assert page.locator("#id_company").input_value() == str(first.id)
    page.fill("#id_first_name", "Иван")
    page.fill("#id_last_name", "Петров")
    page.fill("#id_phone", "8 (903) 555-12-34")
    page.get_by_role("button", name="Создать контакт").click()
    page.wait_for_url("**/contacts/*/")
    contact = Contact.objects.get(last_name="Петров")
    assert (contact.company, contact.phone) == (first, "+79035551234")
    call = page.get_by_test_id("contact-phone")
    assert call.get_attribute("href") == "tel:+79035551234"
    assert "+7 903 555-12-34" in call.inner_text()
