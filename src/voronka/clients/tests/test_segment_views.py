"""A company's segment on its pages: the form offers the head's segments, the company page
shows it, and the company list filters by it."""

from voronka.clients.actions import do_create_company, do_create_segment, do_update_segment
from voronka.clients.models import Company


def test_the_company_form_asks_no_segment_while_the_head_keeps_none(org, client):
    client.force_login(org.manager1)
    assert 'name="segment"' not in client.get("/companies/new/").content.decode()


def test_a_manager_creates_a_company_in_a_segment_and_sees_it(org, client):
    retail = do_create_segment(org.head, name="Розница")
    gone = do_create_segment(org.head, name="Госзаказ")
    do_update_segment(org.head, gone, is_archived=True)
    client.force_login(org.manager1)
    form = client.get("/companies/new/").content.decode()
    assert 'name="segment"' in form and "Розница" in form and "Госзаказ" not in form
    response = client.post(
        "/companies/new/", {"name": "Ромашка", "owner": org.manager1.id, "segment": retail.id}
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    company = Company.objects.get(name="Ромашка")
    assert company.segment == retail
    assert "Розница" in client.get(f"/companies/{company.id}/").content.decode()


def test_an_archived_segment_is_refused_on_the_form_but_kept_on_edit(org, client):
    gone = do_create_segment(org.head, name="Госзаказ")
    do_create_segment(org.head, name="Розница")
    company = do_create_company(org.manager1, name="Лютик", segment=gone)
    do_update_segment(org.head, gone, is_archived=True)
    client.force_login(org.manager1)
    response = client.post(
        "/companies/new/", {"name": "Ромашка", "owner": org.manager1.id, "segment": gone.id}
    )
    assert "invalid-feedback" in response.content.decode()  # the form again, with the error
    assert not Company.objects.filter(name="Ромашка").exists()
    edit = f"/companies/{company.id}/edit/"
    assert "Госзаказ" in client.get(edit).content.decode()
    data = {"name": "Лютик 2", "owner": org.manager1.id, "segment": gone.id}
    assert client.post(edit, data).status_code == 302
    company.refresh_from_db()
    assert (company.name, company.segment) == ("Лютик 2", gone)


def test_the_company_list_filters_by_segment(org, client):
    retail = do_create_segment(org.head, name="Розница")
    do_create_company(org.manager1, name="Ромашка", segment=retail)
    do_create_company(org.manager1, name="Лютик")
    client.force_login(org.manager1)
    page = client.get("/companies/", {"segment": retail.id}).content.decode()
    assert "Ромашка" in page and "Лютик" not in page
    assert "Лютик" in client.get("/companies/").content.decode()
