"""The companies and contacts pages, as the people who use them see them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.clients.actions import do_create_company, do_create_contact, do_update_company
from voronka.clients.models import Company, Contact
from voronka.inbox.actions import do_log_communication
from voronka.testing.factories import make_deal


def signed_in(client, user):
    client.force_login(user)
    return client


def company_of(owner, name="Ромашка", **fields):
    return do_create_company(owner, name=name, owner=owner, **fields)


def contact_of(owner, first_name="Иван", **fields):
    return do_create_contact(owner, first_name=first_name, owner=owner, **fields)


def names_on(response) -> str:
    return response.content.decode()


# Who sees what ---------------------------------------------------------------------------


def test_a_manager_sees_only_their_own_companies_in_the_list(client, org):
    company_of(org.manager1, "Ромашка")
    company_of(org.manager2, "Василёк")
    page = names_on(signed_in(client, org.manager1).get(reverse("clients:company_list")))
    assert "Ромашка" in page
    assert "Василёк" not in page


def test_a_manager_cannot_open_or_edit_a_colleagues_company(client, org):
    theirs = company_of(org.manager2, "Василёк")
    c = signed_in(client, org.manager1)
    assert c.get(reverse("clients:company_detail", args=[theirs.id])).status_code == 404
    assert c.get(reverse("clients:company_edit", args=[theirs.id])).status_code == 404
    response = c.post(reverse("clients:company_edit", args=[theirs.id]), {"name": "Моё"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Василёк"


def test_a_senior_sees_the_teams_clients_but_not_the_other_teams(client, org):
    company_of(org.manager1, "Ромашка")
    company_of(org.manager3, "Одуванчик")
    page = names_on(signed_in(client, org.senior1).get(reverse("clients:company_list")))
    assert "Ромашка" in page
    assert "Одуванчик" not in page


def test_the_head_sees_every_company_of_the_workspace_and_none_of_another(client, org, other_org):
    company_of(org.manager1, "Ромашка")
    company_of(org.manager3, "Одуванчик")
    company_of(other_org.manager1, "Чужая фирма")
    page = names_on(signed_in(client, org.head).get(reverse("clients:company_list")))
    assert "Ромашка" in page and "Одуванчик" in page
    assert "Чужая фирма" not in page


def test_a_manager_cannot_open_a_colleagues_contact_and_the_list_hides_it(client, org):
    contact_of(org.manager1, "Иван", last_name="Мой")
    theirs = contact_of(org.manager2, "Пётр", last_name="Чужой")
    c = signed_in(client, org.manager1)
    page = names_on(c.get(reverse("clients:contact_list")))
    assert "Мой" in page and "Чужой" not in page
    assert c.get(reverse("clients:contact_detail", args=[theirs.id])).status_code == 404
    assert c.get(reverse("clients:contact_edit", args=[theirs.id])).status_code == 404


def test_searching_never_finds_a_colleagues_contact(client, org):
    contact_of(org.manager2, "Пётр", phone="+79161234567")
    response = signed_in(client, org.manager1).get(
        reverse("clients:contact_list"), {"q": "+79161234567"}
    )
    assert response.context["page"].rows == []
    assert "Пётр" not in names_on(response)


def test_the_quality_controller_reads_clients_but_may_not_create_or_edit_them(client, org):
    company = company_of(org.manager1)
    c = signed_in(client, org.qc)
    assert c.get(reverse("clients:company_detail", args=[company.id])).status_code == 200
    assert c.get(reverse("clients:company_create")).status_code == 404
    assert c.get(reverse("clients:company_edit", args=[company.id])).status_code == 404


# Search, filters, sorting, pages ---------------------------------------------------------


def test_a_phone_written_any_way_finds_the_contact(client, org):
    contact_of(org.manager1, "Иван", last_name="Петров", phone="+79161234567")
    contact_of(org.manager1, "Пётр", last_name="Сидоров", phone="+79035550000")
    c = signed_in(client, org.manager1)
    for query in ("8 916 123-45-67", "+7 (916) 123 45 67", "9161234567", "123-45-67"):
        page = names_on(c.get(reverse("clients:contact_list"), {"q": query}))
        assert "Петров" in page, query
        assert "Сидоров" not in page, query


def test_contacts_are_found_by_email_and_by_name_in_any_case(client, org):
    contact_of(org.manager1, "Иван", last_name="Петров", email="ivan@romashka.ru")
    contact_of(org.manager1, "Пётр", last_name="Сидоров")
    c = signed_in(client, org.manager1)
    page = names_on(c.get(reverse("clients:contact_list"), {"q": "IVAN@romashka"}))
    assert "Петров" in page and "Сидоров" not in page
    page = names_on(c.get(reverse("clients:contact_list"), {"q": "иван петров"}))
    assert "Петров" in page and "Сидоров" not in page


def test_companies_are_found_by_name_and_phone(client, org):
    company_of(org.manager1, "ООО Ромашка", phone="+74951234567")
    company_of(org.manager1, "Василёк")
    c = signed_in(client, org.manager1)
    page = names_on(c.get(reverse("clients:company_list"), {"q": "ромаш"}))
    assert "Ромашка" in page and "Василёк" not in page
    page = names_on(c.get(reverse("clients:company_list"), {"q": "8 (495) 123-45-67"}))
    assert "Ромашка" in page and "Василёк" not in page


def test_companies_filter_by_owner_and_city(client, org):
    company_of(org.manager1, "Ромашка", city="Москва")
    company_of(org.manager1, "Лютик", city="Казань")
    company_of(org.manager2, "Василёк", city="Москва")
    c = signed_in(client, org.senior1)
    page = names_on(c.get(reverse("clients:company_list"), {"city": "Москва"}))
    assert "Ромашка" in page and "Василёк" in page and "Лютик" not in page
    page = names_on(
        c.get(reverse("clients:company_list"), {"city": "Москва", "owner": org.manager2.id})
    )
    assert "Василёк" in page and "Ромашка" not in page


def test_a_manager_cannot_filter_by_a_colleague_to_see_their_companies(client, org):
    company_of(org.manager2, "Василёк")
    page = names_on(
        signed_in(client, org.manager1).get(
            reverse("clients:company_list"), {"owner": org.manager2.id}
        )
    )
    assert "Василёк" not in page


def test_contacts_filter_by_company(client, org):
    romashka = company_of(org.manager1, "Ромашка")
    contact_of(org.manager1, "Иван", last_name="Петров", company=romashka)
    contact_of(org.manager1, "Пётр", last_name="Сидоров")
    c = signed_in(client, org.manager1)
    page = names_on(c.get(reverse("clients:contact_list"), {"company": romashka.id}))
    assert "Петров" in page and "Сидоров" not in page
    page = names_on(c.get(reverse("clients:contact_list"), {"company_name": "ромаш"}))
    assert "Петров" in page and "Сидоров" not in page


def test_companies_sort_by_name_either_way(client, org):
    for name in ("Бета", "Альфа", "Гамма"):
        company_of(org.manager1, name)
    c = signed_in(client, org.manager1)
    page = names_on(c.get(reverse("clients:company_list")))
    assert page.index("Альфа") < page.index("Бета") < page.index("Гамма")
    page = names_on(c.get(reverse("clients:company_list"), {"sort": "-name"}))
    assert page.index("Гамма") < page.index("Бета") < page.index("Альфа")


def test_the_list_comes_in_pages_of_fifty_with_the_total(client, org):
    Company.objects.bulk_create(
        Company(workspace=org.workspace, owner=org.manager1, name=f"Фирма {i:03d}")
        for i in range(120)
    )
    c = signed_in(client, org.manager1)
    first = c.get(reverse("clients:company_list"))
    assert len(first.context["page"].rows) == 50
    assert first.context["page"].count == 120
    third = c.get(reverse("clients:company_list"), {"page": 3})
    assert [co.name for co in third.context["page"].rows][0] == "Фирма 100"
    assert len(third.context["page"].rows) == 20
    assert not third.context["page"].has_next


def test_an_empty_list_says_what_to_do_next(client, org):
    page = names_on(signed_in(client, org.manager1).get(reverse("clients:company_list")))
    assert reverse("clients:company_create") in page


# The page of one client ------------------------------------------------------------------


def test_the_company_page_shows_only_the_viewers_deals(client, org):
    company = company_of(org.manager1, "Ромашка")
    make_deal(org.manager1, org.pipeline, title="Моя сделка", company=company)
    make_deal(org.manager2, org.pipeline, title="Сделка коллеги", company=company)
    page = names_on(
        signed_in(client, org.manager1).get(reverse("clients:company_detail", args=[company.id]))
    )
    assert "Моя сделка" in page
    assert "Сделка коллеги" not in page


def test_the_company_page_lists_contacts_open_tasks_and_recent_communications(client, org):
    company = company_of(org.manager1, "Ромашка")
    ivan = contact_of(org.manager1, "Иван", last_name="Петров", company=company)
    deal = make_deal(org.manager1, org.pipeline, title="Поставка", company=company, contact=ivan)
    do_create_task(org.manager1, goal="Согласовать встречу", due_at=timezone.now(), deal=deal)
    do_log_communication(org.manager1, kind="call", deal=deal, comment="Обсудили объём, ждут КП")
    page = names_on(
        signed_in(client, org.manager1).get(reverse("clients:company_detail", args=[company.id]))
    )
    for text in ("Петров", "Поставка", "Согласовать встречу", "Обсудили объём, ждут КП"):
        assert text in page
    assert f"{reverse('sales:deal_create')}?company={company.id}" in page
    assert f"{reverse('clients:contact_create')}?company={company.id}" in page


def test_the_company_page_shows_who_changed_which_field_from_what_to_what(client, org):
    company = company_of(org.manager1, "Ромашка", city="Москва")
    do_update_company(org.senior1, company, city="Казань")
    page = names_on(
        signed_in(client, org.manager1).get(reverse("clients:company_detail", args=[company.id]))
    )
    history = page[page.index('id="history"') :]
    assert "Москва" in history and "Казань" in history
    assert str(org.senior1) in history


def test_the_contact_page_offers_a_call_an_email_and_the_messengers(client, org):
    ivan = contact_of(
        org.manager1,
        "Иван",
        phone="8 916 123-45-67",
        whatsapp="+7 916 765-43-21",
        telegram="@ivan_p",
        email="ivan@romashka.ru",
    )
    page = names_on(
        signed_in(client, org.manager1).get(reverse("clients:contact_detail", args=[ivan.id]))
    )
    assert 'href="tel:+79161234567"' in page
    assert "+7 916 123-45-67" in page
    assert 'href="mailto:ivan@romashka.ru"' in page
    assert 'href="https://wa.me/79167654321"' in page
    assert 'href="https://t.me/ivan_p"' in page


# Forms -----------------------------------------------------------------------------------


def test_a_manager_creates_a_company_of_their_own(client, org):
    response = signed_in(client, org.manager1).post(
        reverse("clients:company_create"),
        {"name": "Ромашка", "owner": org.manager1.id, "phone": "8 (495) 123-45-67"},
    )
    company = Company.objects.get(name="Ромашка")
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:company_detail", args=[company.id])
    assert (company.owner, company.phone) == (org.manager1, "+74951234567")


def test_a_manager_may_not_give_a_company_to_a_colleague(client, org):
    response = signed_in(client, org.manager1).post(
        reverse("clients:company_create"), {"name": "Ромашка", "owner": org.manager2.id}
    )
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    assert not Company.objects.filter(name="Ромашка").exists()


def test_a_senior_gives_a_company_to_a_team_member(client, org):
    signed_in(client, org.senior1).post(
        reverse("clients:company_create"), {"name": "Ромашка", "owner": org.manager2.id}
    )
    assert Company.objects.get(name="Ромашка").owner == org.manager2


def test_a_wrong_phone_is_a_field_error_with_the_reason(client, org):
    response = signed_in(client, org.manager1).post(
        reverse("clients:contact_create"),
        {"first_name": "Иван", "owner": org.manager1.id, "phone": "12"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["phone"]
    assert any("+7 916 123-45-67" in e for e in errors)
    assert not Contact.objects.filter(first_name="Иван").exists()


def test_editing_a_company_saves_the_changes_and_records_who_made_them(client, org):
    company = company_of(org.manager1, "Ромашка")
    response = signed_in(client, org.manager1).post(
        reverse("clients:company_edit", args=[company.id]),
        {"name": "Ромашка-Юг", "owner": org.manager1.id, "city": "Краснодар"},
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert (company.name, company.city) == ("Ромашка-Юг", "Краснодар")
    assert company.history.latest().history_user == org.manager1


def test_a_contact_is_created_for_the_company_it_was_started_from(client, org):
    company = company_of(org.manager1, "Ромашка")
    c = signed_in(client, org.manager1)
    form = c.get(reverse("clients:contact_create"), {"company": company.id}).context["form"]
    assert form.initial["company"] == company.id
    c.post(
        reverse("clients:contact_create"),
        {"first_name": "Иван", "owner": org.manager1.id, "company": company.id},
    )
    assert Contact.objects.get(first_name="Иван").company == company


def test_a_contact_cannot_be_put_at_a_colleagues_company(client, org):
    theirs = company_of(org.manager2, "Василёк")
    response = signed_in(client, org.manager1).post(
        reverse("clients:contact_create"),
        {"first_name": "Иван", "owner": org.manager1.id, "company": theirs.id},
    )
    assert "company" in response.context["form"].errors
    assert not Contact.objects.filter(first_name="Иван").exists()


# Duplicate warnings ----------------------------------------------------------------------


def test_while_typing_a_visible_duplicate_is_named_with_a_link(client, org):
    mine = company_of(org.manager1, "Ромашка", phone="+79161234567")
    response = signed_in(client, org.manager1).get(
        reverse("clients:duplicates"), {"kind": "company", "phone": "8 916 123-45-67"}
    )
    page = names_on(response)
    assert "Ромашка" in page
    assert reverse("clients:company_detail", args=[mine.id]) in page


def test_while_typing_a_colleagues_duplicate_is_reported_without_its_name(client, org):
    theirs = company_of(org.manager2, "Василёк", phone="+79161234567")
    response = signed_in(client, org.manager1).get(
        reverse("clients:duplicates"), {"kind": "company", "phone": "+7 916 123 45 67"}
    )
    page = names_on(response)
    assert response.context["duplicates"]["hidden_reasons"] == ["phone"]
    assert "Василёк" not in page
    assert reverse("clients:company_detail", args=[theirs.id]) not in page


def test_a_contact_with_a_colleagues_email_is_warned_about_without_naming_them(client, org):
    contact_of(org.manager2, "Пётр", last_name="Чужой", email="petr@vasilek.ru")
    response = signed_in(client, org.manager1).get(
        reverse("clients:duplicates"), {"kind": "contact", "email": "PETR@vasilek.ru"}
    )
    assert response.context["duplicates"]["hidden_reasons"] == ["email"]
    assert "Чужой" not in names_on(response)


def test_nothing_to_warn_about_gives_an_empty_fragment(client, org):
    response = signed_in(client, org.manager1).get(
        reverse("clients:duplicates"), {"kind": "company", "name": "Совсем новая"}
    )
    assert response.status_code == 200
    assert not response.context["duplicates"]["any"]


def test_creating_a_company_with_a_taken_phone_asks_to_confirm_then_creates(client, org):
    company_of(org.manager2, "Василёк", phone="+79161234567")
    c = signed_in(client, org.manager1)
    data = {"name": "Ромашка", "owner": org.manager1.id, "phone": "8 916 123-45-67"}
    first = c.post(reverse("clients:company_create"), data)
    assert first.status_code == 200
    assert first.context["duplicates"]["hidden_reasons"] == ["phone"]
    assert "Василёк" not in names_on(first)
    assert 'name="confirm_duplicates"' in names_on(first)
    assert not Company.objects.filter(name="Ромашка").exists()

    second = c.post(reverse("clients:company_create"), {**data, "confirm_duplicates": "on"})
    assert second.status_code == 302
    assert Company.objects.filter(name="Ромашка").exists()


def test_creating_a_contact_with_a_visible_duplicate_names_it(client, org):
    mine = contact_of(org.manager1, "Иван", last_name="Петров", phone="+79161234567")
    response = signed_in(client, org.manager1).post(
        reverse("clients:contact_create"),
        {"first_name": "Иван", "owner": org.manager1.id, "phone": "89161234567"},
    )
    assert [d.id for d in response.context["duplicates"]["visible"]] == [mine.id]
    assert reverse("clients:contact_detail", args=[mine.id]) in names_on(response)
    assert Contact.objects.filter(phone="+79161234567").count() == 1


@pytest.mark.parametrize("kind", ["", "deal"])
def test_the_duplicate_check_wants_a_known_kind(client, org, kind):
    response = signed_in(client, org.manager1).get(reverse("clients:duplicates"), {"kind": kind})
    assert response.status_code == 404


def test_an_assistant_sees_only_the_clients_of_deals_handed_to_them(client, org):
    handed = company_of(org.manager1, "Ромашка")
    company_of(org.manager1, "Василёк")
    make_deal(org.manager1, org.pipeline, company=handed, assistant=org.assistant)
    make_deal(org.manager1, org.pipeline, company=handed, assistant=org.assistant)
    c = signed_in(client, org.assistant)
    response = c.get(reverse("clients:company_list"))
    assert [co.name for co in response.context["page"].rows] == ["Ромашка"]
    assert response.context["page"].count == 1
    assert c.get(reverse("clients:company_detail", args=[handed.id])).status_code == 200
    assert c.get(reverse("clients:company_create")).status_code == 404


def test_a_contacts_time_zone_is_chosen_on_the_form_and_shown_on_the_page(client, org):
    contact = contact_of(org.manager1, "Олег", last_name="Ким")
    c = signed_in(client, org.manager1)
    page = names_on(c.get(reverse("clients:contact_detail", args=[contact.id])))
    assert "Europe/Moscow" in page  # the default zone until the client has their own
    form = c.get(reverse("clients:contact_edit", args=[contact.id])).context["form"]
    zones = [value for value, _label in form.fields["timezone"].choices]
    assert zones[0] == "" and "Asia/Vladivostok" in zones

    response = c.post(
        reverse("clients:contact_edit", args=[contact.id]),
        {
            "first_name": "Олег",
            "last_name": "Ким",
            "owner": org.manager1.id,
            "timezone": "Asia/Vladivostok",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.timezone == "Asia/Vladivostok"
    page = names_on(c.get(reverse("clients:contact_detail", args=[contact.id])))
    assert 'data-testid="contact-timezone">Asia/Vladivostok' in page
    assert contact.history.latest().history_user == org.manager1


def test_an_unknown_time_zone_on_the_form_is_named_under_its_field(client, org):
    contact = contact_of(org.manager1, "Олег", timezone="Europe/Samara")
    response = signed_in(client, org.manager1).post(
        reverse("clients:contact_edit", args=[contact.id]),
        {"first_name": "Олег", "owner": org.manager1.id, "timezone": "Владивосток"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["timezone"] and "Владивосток" in errors["timezone"][0]
    contact.refresh_from_db()
    assert contact.timezone == "Europe/Samara"
