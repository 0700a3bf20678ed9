"""The conversations API walked with every role: lists, details and writes answer exactly for the
conversations the role sees (404 for the rest, another workspace's included), and a reply goes
out through the channel."""

import pytest

from voronka.api.tests.caller import Caller
from voronka.inbox.models import Communication, Conversation
from voronka.testing.fixtures import ROLES

from .inbox_world import BOT_TOKEN, chat_with, telegram_channel


@pytest.fixture
def worlds(org, other_org):
    def build(o):
        channel = telegram_channel(o)
        managers = [o.manager1, o.manager2, o.manager3, o.manager4]
        return {m.id: chat_with(channel, m, n) for n, m in enumerate(managers, 1)}

    return build(org), build(other_org)


def expected(user, org, chats) -> set[int]:
    """The conversations ``user`` must see by the product's rules."""
    if user.workspace_id != org.workspace.id:
        return set()
    if user.role in ("owner", "head", "qc"):
        return {c.id for c in chats.values()}
    if user.role == "senior":
        team = org.team1 if user.id == org.senior1.id else org.team2
        group = {m.id for m in team.members.all()}
        return {c.id for m, c in chats.items() if m in group}
    return {c.id for m, c in chats.items() if m == user.id}


@pytest.mark.parametrize("role", ROLES)
def test_the_list_and_details_answer_only_for_what_the_role_sees(org, worlds, role):
    chats, foreign = worlds
    user = getattr(org, role)
    caller = Caller(user)
    visible = expected(user, org, chats)
    assert set(caller.ids("/conversations")) == visible
    for person in (org.manager1, org.manager3):
        found = set(caller.ids("/conversations", assignee_id=person.id))
        assert found == visible & {chats[person.id].id}
    assert set(caller.ids("/conversations", state="closed")) == set()
    for c in list(chats.values()) + list(foreign.values()):
        status = caller.get(f"/conversations/{c.id}").status_code
        assert status == (200 if c.id in visible else 404), c.id
        messages = caller.get(f"/conversations/{c.id}/messages")
        assert messages.status_code == (200 if c.id in visible else 404)
        if c.id in visible:
            [message] = messages.json()["items"]
            assert message["direction"] == "in" and message["body"]


@pytest.mark.parametrize("role", ROLES)
def test_writes_to_what_the_role_cannot_see_answer_404_and_change_nothing(
    org, worlds, role, provider_api
):
    chats, foreign = worlds
    user = getattr(org, role)
    caller = Caller(user)
    visible = expected(user, org, chats)
    for c in list(chats.values()) + list(foreign.values()):
        if c.id in visible:
            continue
        for path, body in (
            ("read", None),
            ("reply", {"text": "Здравствуйте"}),
            ("assign", {"assignee_id": user.id}),
            ("close", None),
            ("reopen", None),
        ):
            response = caller.post(f"/conversations/{c.id}/{path}", body)
            assert response.status_code == 404, (path, c.id)
    assert not provider_api.requests
    assert not Communication.objects.filter(direction="out").exists()
    untouched = Conversation.objects.exclude(id__in=visible)
    assert all(c.unread_count == 1 and c.state == "open" for c in untouched)


def test_a_reply_over_the_api_goes_out_through_telegram(org, worlds, provider_api):
    chats, _foreign = worlds
    mine = chats[org.manager1.id]
    response = Caller(org.manager1).post(
        f"/conversations/{mine.id}/reply", {"text": "Добрый день!"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["direction"] == "out"
    [sent] = provider_api.requests
    assert sent.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert sent.json() == {"chat_id": int(mine.external_id), "text": "Добрый день!"}


def test_a_refused_reply_is_a_422_with_the_providers_reason(org, worlds, provider_api):
    chats, _foreign = worlds
    provider_api.answer(403, {"ok": False, "description": "Forbidden: bot was blocked by the user"})
    mine = chats[org.manager1.id]
    response = Caller(org.manager1).post(f"/conversations/{mine.id}/reply", {"text": "Алло"})
    assert response.status_code == 422
    assert "blocked" in response.json()["message"]
    assert not Communication.objects.filter(direction="out").exists()


def test_reading_and_handing_over_over_the_api(org, worlds):
    chats, _foreign = worlds
    mine = chats[org.manager1.id]
    caller = Caller(org.manager1)
    assert caller.post(f"/conversations/{mine.id}/read").json()["unread_count"] == 0
    refused = caller.post(f"/conversations/{mine.id}/assign", {"assignee_id": org.manager3.id})
    assert refused.status_code == 403 and set(refused.json()["fields"]) == {"assignee_id"}
    handed = caller.post(f"/conversations/{mine.id}/assign", {"assignee_id": org.manager2.id})
    assert handed.status_code == 200 and handed.json()["assignee_id"] == org.manager2.id
    assert caller.get(f"/conversations/{mine.id}").status_code == 404
    stranger = caller.post(f"/conversations/{mine.id}/assign", {"assignee_id": 10**9})
    assert stranger.status_code == 404


def test_the_quality_controller_reads_but_may_not_write(org, worlds):
    chats, _foreign = worlds
    caller = Caller(org.qc)
    mine = chats[org.manager1.id]
    assert caller.get(f"/conversations/{mine.id}").status_code == 200
    assert caller.post(f"/conversations/{mine.id}/close").status_code == 403
    assert caller.post(f"/conversations/{mine.id}/reply", {"text": "x"}).status_code == 403
