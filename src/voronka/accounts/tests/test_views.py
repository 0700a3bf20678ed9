from voronka.accounts.models import ApiToken
from voronka.testing.factories import make_user

PASSWORD = "voronka-test-pass"


def test_signing_in_with_the_right_password_opens_the_app(org, client):
    response = client.post(
        "/accounts/login/", {"username": org.head.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200


def test_repeated_wrong_passwords_lock_the_login_even_for_the_right_one(org, client):
    for _ in range(5):
        client.post("/accounts/login/", {"username": org.manager1.username, "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": org.manager1.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "15" in response.content.decode()
    # Another person is not locked out by someone else's failures.
    other = client.post(
        "/accounts/login/", {"username": org.manager2.username, "password": PASSWORD}
    )
    assert other.status_code == 302


def test_pages_need_a_signed_in_person(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_session_cookie_is_http_only_and_pages_carry_security_headers(org, client):
    client.post("/accounts/login/", {"username": org.head.username, "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    response = client.get("/accounts/profile/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_choosing_english_in_the_profile_switches_the_pages_language(org, client):
    client.force_login(org.manager1)
    assert "Профиль" in client.get("/accounts/profile/").content.decode()
    response = client.post(
        "/accounts/profile/",
        {
            "form": "profile",
            "first_name": "Oleg",
            "last_name": "",
            "email": "",
            "phone": "",
            "language": "en",
            "timezone": "Asia/Vladivostok",
        },
    )
    assert response.status_code == 302
    page = client.get("/accounts/profile/").content.decode()
    assert "Profile" in page and "Профиль" not in page
    org.manager1.refresh_from_db()
    assert org.manager1.timezone == "Asia/Vladivostok"


def test_an_unknown_time_zone_is_refused_with_a_message(org, client):
    client.force_login(org.manager1)
    response = client.post(
        "/accounts/profile/",
        {
            "form": "profile",
            "first_name": "",
            "last_name": "",
            "email": "",
            "phone": "",
            "language": "ru",
            "timezone": "Mars/Olympus",
        },
    )
    assert response.status_code == 200
    assert "Mars/Olympus" in response.content.decode()
    org.manager1.refresh_from_db()
    assert org.manager1.timezone == "Europe/Moscow"


def test_a_weak_new_password_is_refused_with_the_reason(org, client):
    client.force_login(org.manager1)
    response = client.post(
        "/accounts/profile/", {"form": "password", "old_password": PASSWORD, "new_password": "123"}
    )
    assert response.status_code == 200
    org.manager1.refresh_from_db()
    assert org.manager1.check_password(PASSWORD)


def test_a_token_is_shown_once_stored_hashed_and_can_be_revoked(org, client):
    client.force_login(org.manager1)
    page = client.post("/accounts/profile/", {"form": "token", "name": "BI"}).content.decode()
    token = ApiToken.objects.get(user=org.manager1)
    raw = page.split('id="new-token">')[1].split("<")[0]
    assert raw.startswith("vrk_") and token.key_hash != raw and raw not in token.key_hash
    assert client.get("/accounts/profile/").content.decode().count(raw) == 0
    client.post(f"/accounts/profile/tokens/{token.id}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_someone_elses_token(org, client):
    from voronka.accounts.actions import do_create_token

    token, _raw = do_create_token(None, org.manager2, name="x")
    client.force_login(make_user(org.workspace))
    assert client.post(f"/accounts/profile/tokens/{token.id}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_time_zones_are_offered_by_city_and_offset_russias_first_the_iana_name_stored(org, client):
    import re

    client.force_login(org.manager1)
    page = client.get("/accounts/profile/").content.decode()
    select = page.split('name="timezone"', 1)[1].split("</select>", 1)[0]
    assert '<option value="Europe/Moscow" selected>(UTC+03:00) Москва</option>' in select
    assert '<option value="Asia/Kamchatka">(UTC+12:00) Петропавловск-Камчатский</option>' in select
    values = re.findall(r'<option value="([^"]+)"', select)
    assert values[:2] == ["Europe/Kaliningrad", "Europe/Moscow"]
    assert values.index("Asia/Vladivostok") < values.index("Europe/London")
    assert "Europe/Moscow" not in page.split("(UTC+03:00) Москва", 1)[1]  # offered once
    org.manager1.language = "en"
    org.manager1.save()
    page = client.get("/accounts/profile/").content.decode()
    assert "(UTC+03:00) Moscow</option>" in page


def test_the_token_table_scrolls_inside_its_card_on_a_phone(org, client):
    client.force_login(org.manager1)
    page = client.get("/accounts/profile/").content.decode()
    wrapper = page.split('id="tokens"', 1)[0].rsplit("<div", 1)[1]
    assert 'class="table-responsive"' in wrapper
