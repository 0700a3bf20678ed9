"""Companies and contacts over the API."""

from voronka.api.tests.caller import Caller
from voronka.clients.actions import do_create_company, do_create_contact
from voronka.clients.models import Company, Contact
from voronka.testing.factories import make_deal


def test_a_manager_creates_a_company_and_owns_it(org):
    response = Caller(org.manager1).post(
        "/companies", {"name": "ООО Ромашка", "phone": "8 (916) 123-45-67", "city": "Тверь"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["owner_id"] == org.manager1.id
    assert body["phone"] == "+79161234567"
    assert Company.objects.get(id=body["id"]).city == "Тверь"


def test_an_invalid_phone_is_422_on_phone(org):
    response = Caller(org.manager1).post("/companies", {"name": "Ромашка", "phone": "12"})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"phone"}
    assert not Company.objects.exists()


def test_a_company_without_a_name_is_422_on_name(org):
    response = Caller(org.manager1).post("/companies", {"name": "  "})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"name"}


def test_a_head_hands_a_company_to_a_manager(org):
    response = Caller(org.head).post("/companies", {"name": "Лютик", "owner_id": org.manager3.id})
    assert response.status_code == 201
    assert response.json()["owner_id"] == org.manager3.id


def test_a_manager_cannot_hand_a_company_to_a_colleague(org):
    response = Caller(org.manager1).post(
        "/companies", {"name": "Лютик", "owner_id": org.manager2.id}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"owner_id"}


def test_a_manager_lists_only_own_companies_and_gets_404_for_a_colleagues(org):
    own = do_create_company(org.manager1, name="Своя")
    theirs = do_create_company(org.manager2, name="Чужая")
    caller = Caller(org.manager1)
    assert caller.ids("/companies") == [own.id]
    assert caller.get(f"/companies/{theirs.id}").status_code == 404
    assert caller.patch(f"/companies/{theirs.id}", {"city": "Тверь"}).status_code == 404


def test_a_senior_sees_the_teams_companies(org):
    mine = do_create_company(org.manager1, name="Альфа")
    teammate = do_create_company(org.manager2, name="Бета")
    do_create_company(org.manager3, name="Гамма")
    assert Caller(org.senior1).ids("/companies") == [mine.id, teammate.id]


def test_another_workspaces_company_is_404(org, other_org):
    foreign = do_create_company(other_org.manager1, name="Чужая")
    assert Caller(org.head).get(f"/companies/{foreign.id}").status_code == 404


def test_companies_are_searched_by_name_and_filtered_by_owner(org):
    a = do_create_company(org.manager1, name="Ромашка")
    do_create_company(org.manager1, name="Лютик")
    b = do_create_company(org.manager2, name="Ромашка-2")
    caller = Caller(org.head)
    assert caller.ids("/companies", q="ромаш") == [a.id, b.id]
    assert caller.ids("/companies", q="Ромаш", owner_id=org.manager2.id) == [b.id]


def test_a_company_is_updated_by_patch_and_only_the_fields_sent_change(org):
    company = do_create_company(org.manager1, name="Ромашка", city="Тверь")
    response = Caller(org.manager1).patch(f"/companies/{company.id}", {"phone": "+7 916 765 43 21"})
    assert response.status_code == 200
    company.refresh_from_db()
    assert (company.phone, company.city) == ("+79167654321", "Тверь")


def test_the_quality_controller_reads_companies_but_may_not_change_them(org):
    company = do_create_company(org.manager1, name="Ромашка")
    caller = Caller(org.qc)
    assert caller.get(f"/companies/{company.id}").status_code == 200
    response = caller.patch(f"/companies/{company.id}", {"city": "Тверь"})
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert caller.post("/companies", {"name": "Лютик"}).status_code == 403


def test_a_contact_is_created_at_a_visible_company_with_normalised_phones(org):
    company = do_create_company(org.manager1, name="Ромашка")
    response = Caller(org.manager1).post(
        "/contacts",
        {
            "first_name": "Анна",
            "last_name": "Петрова",
            "company_id": company.id,
            "phone": "8 916 123 45 67",
            "whatsapp": "+7 (916) 123-45-68",
            "telegram": "@anna_p",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["company_id"], body["phone"], body["whatsapp"], body["telegram"]) == (
        company.id,
        "+79161234567",
        "+79161234568",
        "anna_p",
    )


def test_a_contact_at_a_colleagues_company_is_422_on_company_id(org):
    theirs = do_create_company(org.manager2, name="Чужая")
    response = Caller(org.manager1).post(
        "/contacts", {"first_name": "Анна", "company_id": theirs.id}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"company_id"}
    assert not Contact.objects.exists()


def test_a_contact_is_found_by_any_notation_of_its_phone(org):
    anna = do_create_contact(org.manager1, first_name="Анна", phone="+79161234567")
    do_create_contact(org.manager1, first_name="Борис", phone="+79161234500")
    caller = Caller(org.manager1)
    assert caller.ids("/contacts", q="8 (916) 123-45-67") == [anna.id]
    assert caller.ids("/contacts", q="анна") == [anna.id]


def test_contacts_are_filtered_by_company_and_owner(org):
    company = do_create_company(org.manager1, name="Ромашка")
    at_company = do_create_contact(org.manager1, first_name="Анна", company=company)
    do_create_contact(org.manager1, first_name="Борис")
    caller = Caller(org.senior1)
    assert caller.ids("/contacts", company_id=company.id) == [at_company.id]
    assert caller.ids("/contacts", owner_id=org.manager2.id) == []


def test_a_contact_is_detached_from_its_company_by_patch(org):
    company = do_create_company(org.manager1, name="Ромашка")
    contact = do_create_contact(org.manager1, first_name="Анна", company=company)
    response = Caller(org.manager1).patch(f"/contacts/{contact.id}", {"company_id": None})
    assert response.status_code == 200
    assert response.json()["company_id"] is None


def test_a_senior_may_keep_a_contacts_company_the_senior_cannot_see(org):
    theirs = do_create_company(org.manager3, name="Чужая")
    contact = do_create_contact(org.head, first_name="Анна", owner=org.manager1, company=theirs)
    response = Caller(org.senior1).patch(
        f"/contacts/{contact.id}", {"company_id": theirs.id, "position": "Директор"}
    )
    assert response.status_code == 200
    assert response.json()["position"] == "Директор"


def test_the_assistant_sees_the_clients_of_deals_handed_to_them(org):
    company = do_create_company(org.manager1, name="Ромашка")
    contact = do_create_contact(org.manager1, first_name="Анна", company=company)
    do_create_company(org.manager1, name="Лютик")
    make_deal(org.manager1, org.pipeline, assistant=org.assistant, company=company, contact=contact)
    caller = Caller(org.assistant)
    assert caller.ids("/companies") == [company.id]
    assert caller.ids("/contacts") == [contact.id]


def test_a_null_for_a_required_field_is_422(org):
    company = do_create_company(org.manager1, name="Ромашка")
    response = Caller(org.manager1).patch(f"/companies/{company.id}", {"name": None})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"name"}


def test_a_contacts_time_zone_is_set_and_read_over_the_api(org):
    caller = Caller(org.manager1)
    created = caller.post("/contacts", {"first_name": "Анна", "timezone": "Asia/Vladivostok"})
    assert created.status_code == 201
    assert created.json()["timezone"] == "Asia/Vladivostok"
    contact_id = created.json()["id"]
    patched = caller.patch(f"/contacts/{contact_id}", {"timezone": "Asia/Yekaterinburg"})
    assert patched.status_code == 200
    assert caller.get(f"/contacts/{contact_id}").json()["timezone"] == "Asia/Yekaterinburg"
    assert caller.patch(f"/contacts/{contact_id}", {"timezone": ""}).json()["timezone"] == ""


def test_an_unknown_time_zone_is_422_on_timezone(org):
    caller = Caller(org.manager1)
    refused = caller.post("/contacts", {"first_name": "Анна", "timezone": "Владивосток"})
    assert refused.status_code == 422
    body = refused.json()
    assert list(body["fields"]) == ["timezone"] and "Владивосток" in body["fields"]["timezone"]
    assert not Contact.objects.filter(first_name="Анна").exists()
    contact = do_create_contact(org.manager1, first_name="Анна")
    refused = caller.patch(f"/contacts/{contact.id}", {"timezone": "GMT+3", "position": "Юрист"})
    assert refused.status_code == 422 and list(refused.json()["fields"]) == ["timezone"]
    contact.refresh_from_db()
    assert (contact.timezone, contact.position) == ("", "")
