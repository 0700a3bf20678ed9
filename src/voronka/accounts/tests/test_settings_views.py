"""The people settings pages: users and teams, for the head of sales and the owner only."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from voronka.accounts.models import Role, Team, User
from voronka.testing.factories import make_user

OUTSIDERS = ["manager1", "senior1", "assistant", "qc"]


def settings_urls(org):
    return [
        reverse("accounts:settings_users"),
        reverse("accounts:settings_user_create"),
        reverse("accounts:settings_user_edit", args=[org.manager1.id]),
        reverse("accounts:settings_teams"),
        reverse("accounts:settings_team_edit", args=[org.team1.id]),
    ]


def new_user(**overrides):
    data = {
        "username": "manager9",
        "first_name": "Ольга",
        "last_name": "Смирнова",
        "email": "olga@example.com",
        "phone": "",
        "role": "manager",
        "team": "",
        "language": "ru",
        "timezone": "Asia/Yekaterinburg",
        "password": "Кактус-на-подоконнике-7",
        "password2": "Кактус-на-подоконнике-7",
    }
    return data | overrides


def user_form_data(person, **overrides):
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "role": person.role,
        "team": person.team_id or "",
        "language": person.language,
        "timezone": person.timezone,
        "is_active": "on" if person.is_active else "",
    }
    return data | overrides


@pytest.fixture
def head(org, client):
    client.force_login(org.head)
    return client


# --- Who reaches these pages -----------------------------------------------------------------


@pytest.mark.parametrize("role", OUTSIDERS)
def test_the_people_settings_are_absent_for_everyone_but_the_head_and_the_owner(org, client, role):
    client.force_login(getattr(org, role))
    for url in settings_urls(org):
        assert client.get(url).status_code == 404, url
        assert client.post(url, new_user(name="Взлом", role="head")).status_code == 404, url
    assert not User.objects.filter(username="manager9").exists()
    assert not Team.objects.filter(name="Взлом").exists()
    org.manager1.refresh_from_db()
    assert org.manager1.role == Role.MANAGER


@pytest.mark.parametrize("role", ["head", "owner"])
def test_the_head_and_the_owner_open_every_people_settings_page(org, client, role):
    client.force_login(getattr(org, role))
    for url in settings_urls(org):
        assert client.get(url).status_code == 200, url


def test_another_workspaces_people_and_teams_are_absent(org, other_org, head):
    urls = [
        reverse("accounts:settings_user_edit", args=[other_org.manager1.id]),
        reverse("accounts:settings_team_edit", args=[other_org.team1.id]),
    ]
    for url in urls:
        assert head.get(url).status_code == 404, url
        assert head.post(url, {"name": "Чужая", "role": "manager"}).status_code == 404, url
    listing = head.get(reverse("accounts:settings_users") + "?state=all")
    assert other_org.manager1 not in listing.context["page"].rows
    teams = head.get(reverse("accounts:settings_teams")).context["page"].rows
    assert set(teams) == {org.team1, org.team2}


# --- The list of users -----------------------------------------------------------------------


def test_the_user_list_shows_everyone_active_with_role_team_and_last_sign_in(org, head):
    response = head.get(reverse("accounts:settings_users"))
    rows = response.context["page"].rows
    assert set(rows) == set(org.people)
    page = response.content.decode()
    assert org.manager1.get_role_display() in page
    assert reverse("accounts:settings_team_edit", args=[org.team1.id]) in page


def test_the_user_list_filters_by_role_and_by_team(org, head):
    by_role = head.get(reverse("accounts:settings_users") + "?role=senior")
    assert set(by_role.context["page"].rows) == {org.senior1, org.senior2}
    by_team = head.get(reverse("accounts:settings_users") + f"?team={org.team2.id}")
    assert set(by_team.context["page"].rows) == {org.senior2, org.manager3, org.manager4}
    no_team = head.get(reverse("accounts:settings_users") + "?team=none")
    assert set(no_team.context["page"].rows) == {org.owner, org.head, org.assistant, org.qc}


def test_switched_off_people_are_listed_apart(org, head):
    org.manager4.is_active = False
    org.manager4.save()
    active = head.get(reverse("accounts:settings_users")).context["page"].rows
    assert org.manager4 not in active
    off = head.get(reverse("accounts:settings_users") + "?state=off").context["page"].rows
    assert list(off) == [org.manager4]


# --- Creating a user -------------------------------------------------------------------------


def test_the_head_adds_a_manager_who_can_then_sign_in(org, head, client):
    response = head.post(reverse("accounts:settings_user_create"), new_user(team=str(org.team1.id)))
    assert response.status_code == 302
    person = User.objects.get(username="manager9")
    assert (person.workspace, person.role, person.team) == (org.workspace, "manager", org.team1)
    assert person.timezone == "Asia/Yekaterinburg"
    assert person.check_password("Кактус-на-подоконнике-7")


def test_a_weak_password_is_refused_with_the_validators_message(org, head):
    response = head.post(
        reverse("accounts:settings_user_create"), new_user(password="12345", password2="12345")
    )
    assert response.status_code == 422
    with translation.override(org.head.language):
        with pytest.raises(ValidationError) as expected:
            validate_password("12345", User(username="manager9"))
        expected_text = " ".join(expected.value.messages)
    assert response.context["form"].errors["password"] == [expected_text]
    assert not User.objects.filter(username="manager9").exists()


def test_passwords_that_differ_are_refused(org, head):
    response = head.post(
        reverse("accounts:settings_user_create"), new_user(password2="Кактус-на-окне-8")
    )
    assert response.status_code == 422
    assert "password2" in response.context["form"].errors


def test_a_taken_login_is_refused_on_the_field(org, head):
    response = head.post(
        reverse("accounts:settings_user_create"), new_user(username=org.manager1.username)
    )
    assert response.status_code == 422
    assert "username" in response.context["form"].errors


def test_only_an_owner_may_make_an_owner(org, head, client):
    refused = head.post(reverse("accounts:settings_user_create"), new_user(role="owner"))
    assert refused.status_code == 422
    assert "role" in refused.context["form"].errors
    assert not User.objects.filter(username="manager9").exists()

    client.force_login(org.owner)
    made = client.post(reverse("accounts:settings_user_create"), new_user(role="owner"))
    assert made.status_code == 302
    assert User.objects.get(username="manager9").role == Role.OWNER


# --- Editing a user --------------------------------------------------------------------------


def test_the_head_moves_a_manager_to_another_team_and_makes_them_senior(org, head):
    url = reverse("accounts:settings_user_edit", args=[org.manager1.id])
    response = head.post(url, user_form_data(org.manager1, team=str(org.team2.id), role="senior"))
    assert response.status_code == 302
    org.manager1.refresh_from_db()
    assert (org.manager1.team, org.manager1.role) == (org.team2, Role.SENIOR)
    history = head.get(url).context["history"].entries
    assert history[0].who == org.head
    assert {c.new for c in history[0].changes} >= {"Team 2", str(Role.SENIOR.label)}


def test_switching_someone_off_asks_first(org, head):
    url = reverse("accounts:settings_user_edit", args=[org.manager2.id])
    data = user_form_data(org.manager2, is_active="")
    asked = head.post(url, data)
    assert asked.status_code == 200
    assert asked.context["confirm_switch_off"]
    assert 'id="confirm-switch-off"' in asked.content.decode()
    org.manager2.refresh_from_db()
    assert org.manager2.is_active

    done = head.post(url, data | {"confirmed": "switch-off"})
    assert done.status_code == 302
    org.manager2.refresh_from_db()
    assert not org.manager2.is_active


def test_nobody_switches_off_themselves(org, head):
    url = reverse("accounts:settings_user_edit", args=[org.head.id])
    form = head.get(url).context["form"]
    assert form.fields["is_active"].disabled
    head.post(url, user_form_data(org.head, is_active="", confirmed="switch-off"))
    org.head.refresh_from_db()
    assert org.head.is_active


def test_the_head_may_not_change_an_owners_account(org, head):
    url = reverse("accounts:settings_user_edit", args=[org.owner.id])
    page = head.get(url)
    assert page.context["locked"]
    assert 'id="user-form"' not in page.content.decode()
    response = head.post(url, user_form_data(org.owner, role="manager", is_active=""))
    assert response.status_code == 403
    org.owner.refresh_from_db()
    assert (org.owner.role, org.owner.is_active) == (Role.OWNER, True)


# --- Teams -----------------------------------------------------------------------------------


def test_the_teams_page_lists_each_team_with_its_lead_and_members(org, head):
    response = head.get(reverse("accounts:settings_teams"))
    teams = {t.name: t for t in response.context["page"].rows}
    assert teams["Team 1"].lead == org.senior1
    assert set(teams["Team 1"].members.all()) == {org.senior1, org.manager1, org.manager2}
    assert str(org.manager3) in response.content.decode()


def test_creating_a_team_with_a_senior_as_its_lead(org, head):
    senior = make_user(org.workspace, Role.SENIOR, username="senior3")
    response = head.post(
        reverse("accounts:settings_teams"), {"name": "Team 3", "lead": str(senior.id)}
    )
    assert response.status_code == 302
    assert Team.objects.get(workspace=org.workspace, name="Team 3").lead == senior


def test_a_team_lead_must_be_a_senior_or_a_head(org, head):
    response = head.post(
        reverse("accounts:settings_teams"), {"name": "Team 3", "lead": str(org.manager1.id)}
    )
    assert response.status_code == 422
    assert "lead" in response.context["form"].errors
    assert not Team.objects.filter(name="Team 3").exists()


def test_renaming_a_team_and_giving_it_another_lead_is_in_its_history(org, head):
    url = reverse("accounts:settings_team_edit", args=[org.team1.id])
    response = head.post(url, {"name": "Север", "lead": str(org.head.id)})
    assert response.status_code == 302
    org.team1.refresh_from_db()
    assert (org.team1.name, org.team1.lead) == ("Север", org.head)
    changes = head.get(url).context["history"].entries[0].changes
    assert {(c.old, c.new) for c in changes} == {
        ("Team 1", "Север"),
        (str(org.senior1), str(org.head)),
    }


def test_a_team_may_not_take_another_teams_name(org, head):
    url = reverse("accounts:settings_team_edit", args=[org.team1.id])
    response = head.post(url, {"name": "Team 2", "lead": str(org.senior1.id)})
    assert response.status_code == 422
    assert "name" in response.context["form"].errors


def test_members_join_a_team_on_their_user_page(org, head):
    head.post(
        reverse("accounts:settings_user_edit", args=[org.assistant.id]),
        user_form_data(org.assistant, team=str(org.team2.id)),
    )
    members = head.get(reverse("accounts:settings_team_edit", args=[org.team2.id])).context[
        "members"
    ]
    assert org.assistant in members
