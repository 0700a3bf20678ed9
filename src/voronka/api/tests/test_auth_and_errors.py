"""Tokens, the caller, and the shape of every refusal."""

from django.test import Client
from django.utils import translation

from voronka.accounts.actions import do_create_token, do_revoke_token
from voronka.testing.factories import make_deal

from .caller import PREFIX, Caller


def test_without_a_token_the_api_answers_401_with_a_json_error(org):
    response = Client().get(PREFIX + "/deals")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_an_unknown_token_is_401(org):
    response = Caller(org.manager1, raw_token="vrk_not-a-real-token").get("/deals")
    assert response.status_code == 401


def test_a_malformed_authorization_header_is_401(org):
    client = Client(headers={"Authorization": "Basic bWFuYWdlcjE6cGFzcw=="})
    assert client.get(PREFIX + "/me").status_code == 401


def test_a_revoked_token_is_401(org):
    token, raw = do_create_token(org.manager1, org.manager1, name="ci")
    caller = Caller(org.manager1, raw_token=raw)
    assert caller.get("/me").status_code == 200
    do_revoke_token(org.manager1, token)
    assert caller.get("/me").status_code == 401


def test_the_token_of_a_person_switched_off_is_401(org):
    caller = Caller(org.manager1)
    org.manager1.is_active = False
    org.manager1.save()
    assert caller.get("/me").status_code == 401


def test_a_session_cookie_is_not_a_token(org):
    client = Client()
    client.force_login(org.manager1)
    assert client.get(PREFIX + "/me").status_code == 401


def test_me_says_who_the_token_belongs_to(org):
    body = Caller(org.manager1).get("/me").json()
    assert body["id"] == org.manager1.id
    assert body["role"] == "manager"
    assert (body["team_id"], body["team"]) == (org.team1.id, "Team 1")


def test_users_lists_the_people_of_the_workspace_by_role(org, other_org):
    caller = Caller(org.manager1)
    managers = caller.ids("/users", role="manager")
    assert sorted(managers) == sorted(
        u.id for u in (org.manager1, org.manager2, org.manager3, org.manager4)
    )
    assert sorted(caller.ids("/users", team_id=org.team2.id)) == sorted(
        u.id for u in (org.senior2, org.manager3, org.manager4)
    )


def test_an_unknown_field_is_422_naming_it(org):
    response = Caller(org.manager1).post("/companies", {"name": "Ромашка", "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"colour"}


def test_a_wrong_type_is_422_naming_the_field(org):
    caller = Caller(org.manager1)
    response = caller.post("/deals", {"title": 5, "pipeline_id": "один"})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"title", "pipeline_id"}


def test_an_id_given_as_a_string_is_a_wrong_type(org):
    response = Caller(org.manager1).post(
        "/deals", {"title": "Поставка", "pipeline_id": str(org.pipeline.id)}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"pipeline_id"}


def test_a_page_larger_than_200_is_422_naming_limit(org):
    response = Caller(org.manager1).get("/deals", limit=201)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"limit"}


def test_a_body_that_is_not_json_is_400_with_a_json_error(org):
    caller = Caller(org.manager1)
    response = caller.client.post(
        PREFIX + "/companies", "{name: Ромашка", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_an_unknown_id_in_the_path_is_404_with_a_json_error(org):
    response = Caller(org.manager1).get("/deals/987654321")
    assert response.status_code == 404
    body = response.json()
    assert (body["code"], body["fields"]) == ("not_found", {})
    assert body["message"]


def test_the_refusals_of_the_actions_come_in_the_callers_language(org):
    deal = make_deal(org.manager1, org.pipeline)
    org.manager1.language = "en"
    org.manager1.save()
    response = Caller(org.manager1).post(
        f"/deals/{deal.id}/move", {"stage_id": org.stage("Проиграно").id}
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"loss_reason": "Give the reason the deal was lost."}
    assert response.headers["Content-Language"] == "en"
    # The caller's language was for that response only.
    assert translation.get_language() == "ru"


def test_the_schema_is_published_without_a_token(client):
    response = client.get(PREFIX + "/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Voronka API"
    assert "/api/v1/deals/{deal_id}/move" in schema["paths"]


def test_text_with_a_nul_character_is_422_not_a_database_error(org):
    caller = Caller(org.manager1)
    response = caller.post("/companies", {"name": "Ромашка\x00"})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"name"}
    assert caller.get("/companies", q="Ром\x00").status_code == 422


def test_a_moment_outside_the_years_the_databases_hold_is_422(org):
    response = Caller(org.manager1).post(
        "/tasks", {"goal": "Позвонить", "due_at": "0001-01-01T00:00:00+03:00"}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"due_at"}


def test_an_id_beyond_64_bits_is_422_not_a_database_error(org):
    caller = Caller(org.manager1)
    assert caller.get(f"/deals/{2**64}").status_code == 422
    response = caller.post("/deals", {"title": "Поставка", "pipeline_id": 2**64})
    assert response.status_code == 422


def test_the_last_moment_python_holds_is_422_too(org):
    response = Caller(org.manager1).get("/deals", updated_since="9999-12-31T23:59:59-05:00")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"updated_since"}


def test_the_api_docs_page_loads_its_scripts_from_our_own_static_files(client):
    page = client.get(PREFIX + "/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "cdn." not in page and "https://" not in page
