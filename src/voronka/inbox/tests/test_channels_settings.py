"""The channel settings: the head and the owner connect channels, see their webhook URLs and
masked credentials, and replay dead letters — on the pages and over the API; nobody else can."""

import pytest
from django.urls import reverse

from voronka.api.tests.caller import Caller
from voronka.inbox.actions import do_create_channel
from voronka.inbox.models import ChannelConfig, Communication, DeadLetter
from voronka.inbox.webhooks import keep_dead_letter
from voronka.testing.fixtures import ROLES

from .test_telegram import BOT_TOKEN, update


@pytest.fixture
def channel(org):
    return do_create_channel(
        org.head, kind="telegram", name="Бот", credentials={"bot_token": BOT_TOKEN}
    )


@pytest.fixture
def letter(org, channel):
    import json

    return keep_dead_letter(channel, json.dumps(update(5)).encode(), {}, "no pipeline")


def test_the_head_connects_a_telegram_bot_and_sees_its_url_and_masked_token(client, org):
    client.force_login(org.head)
    page = client.get(reverse("inbox:settings_channels"))
    assert page.status_code == 200
    assert "?kind=telegram" in page.content.decode()
    response = client.post(
        reverse("inbox:settings_channel_create") + "?kind=telegram",
        {
            "kind": "telegram",
            "name": "Бот продаж",
            "enabled": "on",
            "credential_bot_token": BOT_TOKEN,
        },
        follow=True,
    )
    assert response.status_code == 200
    channel = ChannelConfig.objects.get(workspace=org.workspace)
    html = response.content.decode()
    assert f"/hooks/telegram/{channel.webhook_key}/" in html
    assert BOT_TOKEN not in html and "••••ew11" in html
    secret = channel.credentials["secret_token"]
    assert len(secret) >= 32 and html.count(secret) == 1  # shown once, to copy into nothing else
    again = client.get(reverse("inbox:settings_channel_edit", args=[channel.id])).content.decode()
    assert secret not in again and BOT_TOKEN not in again


def test_a_token_left_empty_on_edit_is_kept_and_the_channel_can_be_switched_off(
    client, org, channel
):
    client.force_login(org.head)
    response = client.post(
        reverse("inbox:settings_channel_edit", args=[channel.id]),
        {"name": "Бот-2", "credential_bot_token": ""},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.enabled) == ("Бот-2", False)
    assert channel.credentials["bot_token"] == BOT_TOKEN


def test_a_bot_without_a_token_is_not_connected(client, org):
    client.force_login(org.head)
    response = client.post(
        reverse("inbox:settings_channel_create") + "?kind=telegram",
        {"kind": "telegram", "name": "Бот"},
    )
    assert response.status_code == 422
    assert not ChannelConfig.objects.exists()


def test_the_register_button_calls_setwebhook(client, org, channel, provider_api):
    client.force_login(org.head)
    response = client.post(
        reverse("inbox:settings_channel_register_webhook", args=[channel.id]), follow=True
    )
    assert response.status_code == 200
    [request] = provider_api.requests
    assert request.path == f"/bot{BOT_TOKEN}/setWebhook"
    assert request.json()["url"] == f"http://testserver/hooks/telegram/{channel.webhook_key}/"


def test_the_head_sees_a_dead_letter_and_replays_it(client, org, letter):
    client.force_login(org.head)
    listing = client.get(reverse("inbox:settings_dead_letters")).content.decode()
    assert "no pipeline" in listing
    detail = client.get(reverse("inbox:settings_dead_letter", args=[letter.id])).content.decode()
    assert "update_id" in detail
    client.post(reverse("inbox:settings_dead_letter_replay", args=[letter.id]))
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    assert Communication.objects.filter(workspace=org.workspace).count() == 1


def test_the_head_chooses_the_pipeline_for_new_inbound_leads(client, org):
    from voronka.inbox.ingest import inbound_pipeline
    from voronka.testing.factories import make_pipeline

    other = make_pipeline(org.workspace, name="Входящие с сайта")
    client.force_login(org.head)
    response = client.post(
        reverse("inbox:settings_channels"),
        {"inbound_pipeline": other.id, "answer_within_minutes": 30},
    )
    assert response.status_code == 302
    assert inbound_pipeline(org.workspace.id) == other


@pytest.mark.parametrize("role", ["senior1", "manager1", "assistant", "qc"])
def test_nobody_else_reaches_the_channel_pages(client, org, channel, letter, role):
    client.force_login(getattr(org, role))
    for url in (
        reverse("inbox:settings_channels"),
        reverse("inbox:settings_channel_edit", args=[channel.id]),
        reverse("inbox:settings_dead_letters"),
        reverse("inbox:settings_dead_letter", args=[letter.id]),
    ):
        assert client.get(url).status_code == 404
    assert (
        client.post(reverse("inbox:settings_dead_letter_replay", args=[letter.id])).status_code
        == 404
    )
    assert DeadLetter.objects.get().replayed_at is None


def test_another_workspaces_head_does_not_reach_the_channel(client, other_org, channel, letter):
    client.force_login(other_org.head)
    assert client.get(reverse("inbox:settings_channel_edit", args=[channel.id])).status_code == 404
    assert client.get(reverse("inbox:settings_dead_letter", args=[letter.id])).status_code == 404


# --- The API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_channels_over_the_api_are_for_the_head_and_the_owner_only(org, other_org, role):
    mine = do_create_channel(
        org.head, kind="telegram", name="Бот", credentials={"bot_token": BOT_TOKEN}
    )
    foreign = do_create_channel(
        other_org.head, kind="generic_pbx", name="АТС", credentials={"secret": "x" * 20}
    )
    letter = keep_dead_letter(mine, b"{", {}, "not JSON")
    api = Caller(getattr(org, role))
    configures = role in ("owner", "head")
    routes = [
        ("get", "/settings/channels", None),
        ("post", "/settings/channels", {"kind": "generic_pbx", "name": "АТС", "credentials": {}}),
        ("get", f"/settings/channels/{mine.id}", None),
        ("patch", f"/settings/channels/{mine.id}", {"name": "Бот 2"}),
        ("get", "/settings/dead-letters", None),
        ("post", f"/settings/dead-letters/{letter.id}/replay", None),
    ]
    for method, path, body in routes:
        response = (
            getattr(api, method)(path, body)
            if body is not None or method != "get"
            else api.get(path)
        )
        if not configures:
            assert response.status_code == 403, (role, path)
        else:
            assert response.status_code in (200, 201, 422), (path, response.content)
            assert BOT_TOKEN not in response.content.decode()
    if configures:
        listed = api.get("/settings/channels").json()["items"]
        assert {c["id"] for c in listed} == {
            mine.id,
            *ChannelConfig.objects.filter(workspace=org.workspace).values_list("id", flat=True),
        }
        assert foreign.id not in {c["id"] for c in listed}
        assert api.get(f"/settings/channels/{foreign.id}").status_code == 404
        assert api.patch(f"/settings/channels/{foreign.id}", {"enabled": False}).status_code == 404
        assert ChannelConfig.objects.get(pk=foreign.pk).enabled


def test_the_api_creates_a_channel_with_write_only_credentials(org):
    api = Caller(org.head)
    response = api.post(
        "/settings/channels",
        {"kind": "telegram", "name": "Бот", "credentials": {"bot_token": BOT_TOKEN}},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["credentials"]["bot_token"] == "••••ew11"
    assert set(body["credentials"]) == {"bot_token", "secret_token"}
    assert body["webhook_url"].endswith(
        f"/hooks/telegram/{ChannelConfig.objects.get().webhook_key}/"
    )
    refused = api.post(
        "/settings/channels", {"kind": "telegram", "name": "Бот", "credentials": {"x": "y"}}
    )
    assert refused.status_code == 422 and "x" in refused.json()["fields"]
    switched = api.patch(f"/settings/channels/{body['id']}", {"enabled": False})
    assert switched.json()["enabled"] is False
    assert ChannelConfig.objects.get().credentials["bot_token"] == BOT_TOKEN


def test_the_api_lists_and_replays_dead_letters(org, letter):
    api = Caller(org.head)
    [item] = api.get("/settings/dead-letters").json()["items"]
    assert item["reason"] == "no pipeline" and '"update_id": 5' in item["body"]
    assert api.post(f"/settings/dead-letters/{letter.id}/replay").json() == {
        "stored": 1,
        "duplicates": 0,
    }
    assert api.get("/settings/dead-letters").json()["items"] == []
    assert len(api.get("/settings/dead-letters", waiting="false").json()["items"]) == 1
