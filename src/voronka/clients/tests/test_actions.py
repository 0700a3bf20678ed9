import pytest

from voronka.clients.actions import (
    do_create_company,
    do_create_contact,
    do_update_contact,
    find_duplicates,
)
from voronka.clients.rules import clean_timezone, company_name_key
from voronka.core.errors import Invalid


def test_phones_are_stored_in_e164_whatever_way_they_are_written(org):
    contact = do_create_contact(org.manager1, first_name="Олег", phone="8 (916) 123-45-67")
    assert contact.phone == "+79161234567"


def test_a_phone_that_is_not_a_number_is_refused_naming_the_field(org):
    with pytest.raises(Invalid) as exc:
        do_create_contact(org.manager1, first_name="Олег", phone="звоните утром")
    assert set(exc.value.fields) == {"phone"}


def test_company_names_match_without_legal_form_quotes_or_case():
    assert company_name_key('ООО "Ромашка"') == company_name_key("ромашка")
    assert company_name_key("ИП Иванов") == company_name_key("Иванов")
    assert company_name_key("Ромашка") != company_name_key("Ромашка Плюс")


def test_a_duplicate_the_creator_may_see_is_named(org):
    first = do_create_company(org.manager1, name='ООО "Ромашка"', phone="+7 916 000-00-01")
    dups = find_duplicates(org.manager1, kind="company", name="Ромашка")
    assert [(d.id, d.reason, d.visible) for d in dups] == [(first.id, "name", True)]


def test_a_colleagues_duplicate_is_reported_without_being_revealed(org):
    theirs = do_create_contact(org.manager3, first_name="Анна", phone="+79160000002")
    dups = find_duplicates(org.manager1, kind="contact", phone="8 916 000-00-02")
    assert [(d.id, d.reason, d.visible) for d in dups] == [(theirs.id, "phone", False)]


def test_another_workspaces_clients_are_never_duplicates(org, other_org):
    do_create_contact(other_org.manager1, first_name="Анна", phone="+79160000003")
    assert find_duplicates(org.manager1, kind="contact", phone="+79160000003") == []


def test_a_contacts_time_zone_is_stored_as_the_time_zone_database_spells_it(org):
    contact = do_create_contact(org.manager1, first_name="Олег", timezone=" asia/vladivostok ")
    assert contact.timezone == "Asia/Vladivostok"
    do_update_contact(org.manager1, contact, timezone="")
    contact.refresh_from_db()
    assert contact.timezone == ""  # the workspace default then


def test_an_unknown_time_zone_is_refused_naming_the_field_and_nothing_changes(org):
    contact = do_create_contact(org.manager1, first_name="Олег", timezone="Europe/Moscow")
    for wrong in ("Москва", "UTC+3", "Europe/Atlantis", "../etc/passwd"):
        with pytest.raises(Invalid) as exc:
            do_update_contact(org.manager1, contact, timezone=wrong, position="Директор")
        assert set(exc.value.fields) == {"timezone"}
        assert wrong in exc.value.fields["timezone"]
    contact.refresh_from_db()
    assert (contact.timezone, contact.position) == ("Europe/Moscow", "")


def test_time_zone_names_are_known_zones_only():
    assert clean_timezone("Europe/Kaliningrad") == "Europe/Kaliningrad"
    assert clean_timezone("  ") == ""
    assert clean_timezone("Mars/Olympus") is None
