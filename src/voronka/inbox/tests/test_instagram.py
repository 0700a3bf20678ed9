"""Instagram direct messages delivered by Meta's messaging webhooks in the documented format and
signed with the app secret, and the replies sent back through the Send API."""

import hashlib
import hmac
import json
import re
import time

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from voronka.activities.models import Task
from voronka.clients.models import Contact
from voronka.core.errors import DomainError
from voronka.inbox.actions import do_create_channel, do_send_reply
from voronka.inbox.models import (
    Attachment,
    Communication,
    Conversation,
    DeadLetter,
    MessengerIdentity,
    ReceivedEvent,
)
from voronka.sales.models import Deal

APP_SECRET = "c0ffee00a1b2c3d4e5f60718293a4b5c"
VERIFY_TOKEN = "ig-verify-token-5521"
PAGE_TOKEN = "EAAIgPageAccessTokenForTests9876"
IG_ACCOUNT = "17841405822304914"
IGSID = "1254459154682919"
MID = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAxMjM0NTY3ODk5"


@pytest.fixture
def channel(org):
    return do_create_channel(
        org.head,
        kind="instagram",
        name="Instagram магазина",
        credentials={
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": PAGE_TOKEN,
            "ig_account_id": IG_ACCOUNT,
        },
    )


def url(channel):
    return reverse("inbox:webhook", kwargs={"kind": "instagram", "key": channel.webhook_key})


def envelope(*items):
    """A notification as Meta documents it for Instagram: one entry with its messaging items."""
    now = int(time.time() * 1000)
    return {
        "object": "instagram",
        "entry": [{"id": IG_ACCOUNT, "time": now, "messaging": list(items)}],
    }


def incoming(mid=MID, text="Здравствуйте! Есть размер M?", *, sender=IGSID, **message):
    return {
        "sender": {"id": sender},
        "recipient": {"id": IG_ACCOUNT},
        "timestamp": int(time.time() * 1000) - 5000,
        "message": {"mid": mid, **({"text": text} if text is not None else {}), **message},
    }


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, channel, payload, *, secret=APP_SECRET, header=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if header is None:
        header = signature(body, secret)
    headers = {"X-Hub-Signature-256": header} if header else {}
    return client.post(url(channel), body, content_type="application/json", headers=headers)


def handshake(client, channel, token):
    return client.get(
        url(channel),
        {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "4122318472"},
    )


def test_meta_verifies_the_url_with_the_right_token_and_gets_the_challenge(client, channel):
    response = handshake(client, channel, VERIFY_TOKEN)
    assert (response.status_code, response.content) == (200, b"4122318472")
    assert response["Content-Type"].startswith("text/plain")


def test_a_handshake_with_a_wrong_verify_token_is_forbidden(client, channel):
    assert handshake(client, channel, "guess").status_code == 403
    assert handshake(client, channel, "").status_code == 403


def test_a_handshake_for_anything_but_subscribe_is_a_bad_request(client, channel):
    response = client.get(
        url(channel), {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN}
    )
    assert response.status_code == 400


def test_an_unknown_sender_becomes_a_contact_a_deal_and_a_task_to_answer(client, org, channel):
    response = deliver(client, channel, envelope(incoming()))
    assert response.status_code == 200, response.content
    contact = Contact.objects.get(workspace=org.workspace)
    assert MessengerIdentity.objects.get(contact=contact).external_id == IGSID
    deal = Deal.objects.get(contact=contact)
    assert deal.pipeline == org.pipeline and deal.owner.role == "manager"
    task = Task.objects.get(deal=deal)
    assert task.owner == deal.owner and task.done_at is None
    comm = Communication.objects.get(deal=deal)
    assert (comm.kind, comm.direction, comm.channel, comm.body, comm.external_id) == (
        "message",
        "in",
        "instagram",
        "Здравствуйте! Есть размер M?",
        MID,
    )
    assert (comm.counterpart, comm.line) == (IGSID, IG_ACCOUNT)
    conversation = comm.conversation
    assert (conversation.external_id, conversation.unread_count) == (IGSID, 1)


def test_the_next_message_finds_the_sender_by_their_instagram_id(client, org, channel):
    known = Contact.objects.create(workspace=org.workspace, first_name="Ира", owner=org.manager4)
    MessengerIdentity.objects.create(
        workspace=org.workspace, contact=known, messenger="instagram", external_id=IGSID
    )
    deliver(client, channel, envelope(incoming()))
    deliver(client, channel, envelope(incoming("mid.second", "И в синем?")))
    assert Contact.objects.filter(workspace=org.workspace).count() == 1
    assert Communication.objects.filter(contact=known).count() == 2
    assert Deal.objects.get(contact=known).owner == org.manager4


def test_a_repeated_delivery_answers_200_and_changes_nothing(client, org, channel):
    payload = envelope(incoming())
    assert deliver(client, channel, payload).status_code == 200
    again = deliver(client, channel, payload)
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert Communication.objects.count() == 1 and ReceivedEvent.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


@pytest.mark.parametrize("how, status", [("missing", 401), ("wrong", 403), ("changed", 403)])
def test_an_unsigned_or_forged_delivery_is_refused_and_nothing_is_stored(
    client, org, channel, how, status
):
    body = json.dumps(envelope(incoming())).encode()
    header = {
        "missing": "",
        "wrong": signature(body, "not-the-app-secret"),
        "changed": signature(body + b" "),
    }[how]
    assert deliver(client, channel, body, header=header).status_code == status
    assert not ReceivedEvent.objects.exists() and not DeadLetter.objects.exists()
    assert not Communication.objects.exists() and not Contact.objects.exists()


def test_attachments_keep_their_links(client, org, channel):
    link = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17895695668004550&signature=Ab"
    payload = envelope(
        incoming(text=None, attachments=[{"type": "image", "payload": {"url": link}}])
    )
    assert deliver(client, channel, payload).status_code == 200
    attachment = Attachment.objects.get()
    assert (attachment.external_id, attachment.name, attachment.content_type) == (
        link,
        "image.jpg",
        "image/jpeg",
    )


def test_an_echo_of_our_own_message_is_not_a_new_incoming_message(
    client, org, channel, provider_api
):
    deliver(client, channel, envelope(incoming()))
    conversation = Conversation.objects.get()
    provider_api.answer(200, {"recipient_id": IGSID, "message_id": "mid.ours.1"})
    do_send_reply(conversation.assignee, conversation, text="Да, есть!")
    echo = {
        "sender": {"id": IG_ACCOUNT},
        "recipient": {"id": IGSID},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": "mid.ours.1", "text": "Да, есть!", "is_echo": True},
    }
    assert deliver(client, channel, envelope(echo)).status_code == 200
    assert list(Communication.objects.order_by("id").values_list("direction", flat=True)) == [
        "in",
        "out",
    ]
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert Contact.objects.count() == 1


def test_a_reply_goes_to_the_send_api_and_a_read_receipt_marks_it_read(
    client, org, channel, provider_api
):
    deliver(client, channel, envelope(incoming()))
    conversation = Conversation.objects.get()
    provider_api.answer(200, {"recipient_id": IGSID, "message_id": "mid.reply.1"})
    comm = do_send_reply(conversation.assignee, conversation, text="Размер M есть, 3 900 ₽")
    [request] = provider_api.requests
    assert (request.method, request.path) == ("POST", f"/v23.0/{IG_ACCOUNT}/messages")
    assert request.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "recipient": {"id": IGSID},
        "message": {"text": "Размер M есть, 3 900 ₽"},
    }
    assert (comm.direction, comm.external_id) == ("out", "mid.reply.1")

    seen = {
        "sender": {"id": IGSID},
        "recipient": {"id": IG_ACCOUNT},
        "timestamp": int(time.time() * 1000),
        "read": {"mid": "mid.reply.1"},
    }
    assert deliver(client, channel, envelope(seen)).status_code == 200
    comm.refresh_from_db()
    assert comm.delivery_status == "read"


def test_without_an_account_id_replies_go_to_me_messages(org, channel, provider_api):
    from voronka.inbox.actions import do_update_channel

    channel.set_credentials({**channel.credentials, "ig_account_id": ""})
    channel.save()
    do_update_channel(org.head, channel, name="Instagram")
    conversation = Conversation.objects.create(
        workspace=org.workspace, channel=channel, external_id=IGSID
    )
    provider_api.answer(200, {"recipient_id": IGSID, "message_id": "mid.2"})
    do_send_reply(org.manager1, conversation, text="Добрый день")
    assert provider_api.requests[0].path == "/v23.0/me/messages"


def test_a_refused_reply_says_why_and_is_not_recorded(client, org, channel, provider_api):
    deliver(client, channel, envelope(incoming()))
    conversation = Conversation.objects.get()
    provider_api.answer(
        400,
        {
            "error": {
                "message": "This message is sent outside of allowed window.",
                "type": "OAuthException",
                "code": 10,
                "error_subcode": 2534022,
                "fbtrace_id": "AdcWmS3gnyO5d3qNRmgLp9C",
            }
        },
    )
    with pytest.raises(DomainError, match="outside of allowed window"):
        do_send_reply(conversation.assignee, conversation, text="Вы ещё здесь?")
    assert not Communication.objects.filter(direction="out").exists()


def test_a_file_cannot_be_sent_and_nothing_is_called(client, org, channel, provider_api):
    deliver(client, channel, envelope(incoming()))
    conversation = Conversation.objects.get()
    refusal = gettext("Instagram takes files only by a public link: send the link in the text.")
    with pytest.raises(DomainError, match=re.escape(refusal)):
        do_send_reply(
            conversation.assignee, conversation, attachments=[("a.pdf", b"%PDF", "application/pdf")]
        )
    assert provider_api.requests == []


def test_reactions_and_comment_changes_are_acknowledged_and_file_nothing(client, org, channel):
    reaction = {
        "sender": {"id": IGSID},
        "recipient": {"id": IG_ACCOUNT},
        "timestamp": int(time.time() * 1000),
        "reaction": {"mid": MID, "action": "react", "reaction": "love", "emoji": "❤"},
    }
    comments = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_ACCOUNT,
                "time": 1,
                "changes": [{"field": "comments", "value": {"id": "1", "text": "Круто"}}],
            }
        ],
    }
    assert deliver(client, channel, envelope(reaction)).status_code == 200
    assert deliver(client, channel, comments).status_code == 200
    assert not Communication.objects.exists() and not DeadLetter.objects.exists()


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"{{", "not JSON"),
        ({"object": "page", "entry": []}, "instagram"),
        ({"object": "instagram", "entry": {}}, "entry"),
        (envelope({**incoming(), "sender": {}}), "sender.id"),
        (envelope({**incoming(), "timestamp": "soon"}), "timestamp"),
        (envelope(incoming(mid=None)), "message.mid"),
        (envelope(incoming(attachments=[{"payload": {"url": "x"}}])), "attachments[].type"),
    ],
)
def test_a_signed_but_malformed_delivery_gets_400_and_is_kept(
    client, org, channel, payload, reason
):
    response = deliver(client, channel, payload)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    letter = DeadLetter.objects.get(channel=channel)
    assert letter.reason == response.json()["error"]
    assert not Communication.objects.exists()
