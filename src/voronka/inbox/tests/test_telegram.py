"""A Telegram bot's updates, delivered to the channel's webhook in the Bot API's Update format,
and the replies the CRM sends back through the Bot API."""

import json
import time

import pytest
from django.urls import reverse

from voronka.activities.models import Task
from voronka.clients.models import Contact
from voronka.inbox.actions import (
    do_create_channel,
    do_register_webhook,
    do_replay_dead_letter,
    do_send_reply,
)
from voronka.inbox.channels.telegram import SECRET_HEADER
from voronka.inbox.models import (
    Attachment,
    Communication,
    Conversation,
    DeadLetter,
    ReceivedEvent,
)
from voronka.sales.models import Deal

BOT_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "s3cr3t-token_for-the-webhook"


@pytest.fixture
def channel(org):
    return do_create_channel(
        org.head,
        kind="telegram",
        name="Бот отдела продаж",
        credentials={"bot_token": BOT_TOKEN, "secret_token": SECRET},
    )


def url(channel):
    return reverse("inbox:webhook", kwargs={"kind": "telegram", "key": channel.webhook_key})


def update(
    update_id=10001,
    *,
    user_id=555000111,
    username="irina_s",
    text="Здравствуйте, сколько стоит?",
    **message,
):
    """An Update as the Bot API documents it: a private chat's message from a user."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 42,
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Ирина",
                "last_name": "Соколова",
                "username": username,
                "language_code": "ru",
            },
            "chat": {
                "id": user_id,
                "first_name": "Ирина",
                "last_name": "Соколова",
                "username": username,
                "type": "private",
            },
            "date": int(time.time()) - 5,
            **({"text": text} if text is not None else {}),
            **message,
        },
    }


def deliver(client, channel, payload, *, secret=SECRET):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return client.post(url(channel), body, content_type="application/json", headers=headers)


def test_an_unknown_sender_becomes_a_contact_a_deal_and_a_task_to_answer(client, org, channel):
    response = deliver(client, channel, update())
    assert response.status_code == 200, response.content
    contact = Contact.objects.get(workspace=org.workspace)
    assert (contact.first_name, contact.last_name, contact.telegram) == (
        "Ирина",
        "Соколова",
        "irina_s",
    )
    deal = Deal.objects.get(contact=contact)
    assert deal.pipeline == org.pipeline and deal.owner == contact.owner
    assert deal.owner.role == "manager"
    task = Task.objects.get(deal=deal)
    assert task.owner == deal.owner and task.goal and task.done_at is None
    assert 0 < (task.due_at.timestamp() - time.time()) <= 16 * 60
    comm = Communication.objects.get(deal=deal)
    assert (comm.kind, comm.direction, comm.channel, comm.body, comm.comment) == (
        "message",
        "in",
        "telegram",
        "Здравствуйте, сколько стоит?",
        "",
    )
    assert comm.contact == contact and comm.author == deal.owner
    conversation = comm.conversation
    assert (conversation.external_id, conversation.unread_count, conversation.state) == (
        "555000111",
        1,
        "open",
    )
    assert conversation.assignee == deal.owner and conversation.deal == deal


def test_new_senders_go_to_the_managers_in_turn(client, org, channel):
    owners = []
    for i in range(5):
        deliver(client, channel, update(20000 + i, user_id=7000 + i, username=f"user{i}"))
        owners.append(
            Deal.objects.get(contact__messenger_identities__external_id=str(7000 + i)).owner
        )
    managers = [org.manager1, org.manager2, org.manager3, org.manager4]
    assert sorted(u.id for u in owners[:4]) == sorted(u.id for u in managers)
    assert owners[4] == owners[0]


def test_a_repeated_delivery_answers_200_and_changes_nothing(client, org, channel):
    assert deliver(client, channel, update(31)).status_code == 200
    again = deliver(client, channel, update(31))
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert Communication.objects.filter(workspace=org.workspace).count() == 1
    assert ReceivedEvent.objects.filter(channel=channel).count() == 1
    assert Conversation.objects.get(channel=channel).unread_count == 1


def test_the_next_message_joins_the_same_conversation_and_deal(client, org, channel):
    deliver(client, channel, update(41))
    deliver(client, channel, update(42, text="Жду ответа"))
    assert Contact.objects.filter(workspace=org.workspace).count() == 1
    assert Deal.objects.filter(workspace=org.workspace).count() == 1
    conversation = Conversation.objects.get(channel=channel)
    assert conversation.unread_count == 2
    assert conversation.communications.count() == 2


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_stored(client, org, channel, secret):
    response = deliver(client, channel, update(), secret=secret)
    assert response.status_code in (401, 403)
    assert (response.status_code == 401) == (not secret)
    assert not ReceivedEvent.objects.exists()
    assert not DeadLetter.objects.exists()
    assert not Communication.objects.exists()


def test_an_unknown_key_or_a_disabled_channel_is_not_found(client, org, channel):
    bad = reverse("inbox:webhook", kwargs={"kind": "telegram", "key": "nope"})
    response = client.post(
        bad, b"{}", content_type="application/json", headers={SECRET_HEADER: SECRET}
    )
    assert response.status_code == 404
    channel.enabled = False
    channel.save()
    assert deliver(client, channel, update()).status_code == 404


def test_a_known_phone_finds_the_contact(client, org, channel):
    known = Contact.objects.create(
        workspace=org.workspace, first_name="Пётр", owner=org.manager2, phone="+79161234567"
    )
    payload = update(51, text=None)
    payload["message"]["contact"] = {
        "phone_number": "79161234567",
        "first_name": "Пётр",
        "user_id": 555000111,
    }
    assert deliver(client, channel, payload).status_code == 200
    comm = Communication.objects.get()
    assert comm.contact == known
    assert comm.deal.owner == org.manager2  # the contact's own manager, no round robin
    # …and the next message finds them by their Telegram id alone.
    deliver(client, channel, update(52, text="Ещё вопрос"))
    assert Communication.objects.filter(contact=known).count() == 2


def test_a_known_username_finds_the_contact_and_their_open_deal(client, org, channel):
    from voronka.testing.factories import make_deal

    known = Contact.objects.create(
        workspace=org.workspace, first_name="Ира", owner=org.manager3, telegram="irina_s"
    )
    deal = make_deal(org.manager3, org.pipeline, contact=known)
    deliver(client, channel, update(61))
    comm = Communication.objects.get()
    assert (comm.contact, comm.deal) == (known, deal)
    assert Deal.objects.filter(workspace=org.workspace).count() == 1


def test_photos_documents_and_voice_notes_keep_their_file_ids(client, org, channel):
    photo = update(
        71,
        text=None,
        caption="Вот фото",
        photo=[
            {
                "file_id": "small-id",
                "file_unique_id": "a",
                "file_size": 1200,
                "width": 90,
                "height": 90,
            },
            {
                "file_id": "large-id",
                "file_unique_id": "b",
                "file_size": 81000,
                "width": 1280,
                "height": 960,
            },
        ],
    )
    document = update(
        72,
        text=None,
        document={
            "file_id": "doc-id",
            "file_unique_id": "c",
            "file_name": "реквизиты.pdf",
            "mime_type": "application/pdf",
            "file_size": 5120,
        },
    )
    voice = update(
        73,
        text=None,
        voice={
            "file_id": "voice-id",
            "file_unique_id": "d",
            "duration": 4,
            "mime_type": "audio/ogg",
            "file_size": 9000,
        },
    )
    for payload in (photo, document, voice):
        assert deliver(client, channel, payload).status_code == 200
    rows = list(
        Attachment.objects.order_by("id").values_list("external_id", "name", "content_type", "size")
    )
    assert rows == [
        ("large-id", "photo.jpg", "image/jpeg", 81000),
        ("doc-id", "реквизиты.pdf", "application/pdf", 5120),
        ("voice-id", "voice.ogg", "audio/ogg", 9000),
    ]
    assert Communication.objects.get(attachments__external_id="large-id").body == "Вот фото"


def test_an_update_without_a_message_is_acknowledged_and_files_nothing(client, org, channel):
    payload = {"update_id": 80, "my_chat_member": {"chat": {"id": 1, "type": "private"}}}
    assert deliver(client, channel, payload).status_code == 200
    assert not Communication.objects.exists() and not DeadLetter.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"[1, 2, 3]",
        b'{"message": {"chat": {"id": 1}, "date": 1}}',
        b'{"update_id": "ten", "message": {}}',
        b'{"update_id": 5, "message": {"chat": {"id": "x"}, "date": 1}}',
        b'{"update_id": 5, "message": {"chat": {"id": 1}, "date": 1, "photo": [{"width": 1}]}}',
    ],
)
def test_a_malformed_update_gets_400_with_a_reason_and_is_kept(client, org, channel, body):
    response = deliver(client, channel, body)
    assert response.status_code == 400
    assert response.json()["error"]
    letter = DeadLetter.objects.get(channel=channel)
    assert bytes(letter.body) == body and letter.reason
    assert letter.headers["content-type"] == "application/json"
    assert not Communication.objects.exists()


def test_a_dead_letter_replays_once_the_cause_is_fixed(client, org, channel):
    org.pipeline.is_archived = True  # nowhere for a new lead to go
    org.pipeline.save()
    response = deliver(client, channel, update(91))
    assert response.status_code == 400
    letter = DeadLetter.objects.get()
    assert "воронки" in letter.reason  # said in the workspace's language
    assert not Communication.objects.exists() and not ReceivedEvent.objects.exists()
    org.pipeline.is_archived = False
    org.pipeline.save()
    do_replay_dead_letter(org.head, letter)
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    assert Communication.objects.get().body == "Здравствуйте, сколько стоит?"
    # Replaying again stores nothing twice.
    do_replay_dead_letter(org.head, letter)
    assert Communication.objects.count() == 1


def test_a_reply_goes_to_sendmessage_byte_for_byte(client, org, channel, provider_api):
    deliver(client, channel, update(101))
    conversation = Conversation.objects.get()
    provider_api.answer(200, {"ok": True, "result": {"message_id": 777, "chat": {"id": 555000111}}})
    comm = do_send_reply(
        conversation.assignee, conversation, text="Добрый день! Стоимость — 5 000 ₽"
    )
    [request] = provider_api.requests
    assert request.method == "POST"
    assert request.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"chat_id": 555000111, "text": "Добрый день! Стоимость — 5 000 ₽"}
    assert (comm.direction, comm.external_id, comm.body) == (
        "out",
        "777",
        "Добрый день! Стоимость — 5 000 ₽",
    )
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_a_file_goes_to_senddocument_as_multipart(client, org, channel, provider_api):
    deliver(client, channel, update(111))
    conversation = Conversation.objects.get()
    do_send_reply(
        conversation.assignee,
        conversation,
        text="КП во вложении",
        attachments=[("kp.pdf", b"%PDF-1.4 test", "application/pdf")],
    )
    [request] = provider_api.requests
    assert request.path == f"/bot{BOT_TOKEN}/sendDocument"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="chat_id"\r\n\r\n555000111\r\n' in request.body
    assert b'name="caption"\r\n\r\n' + "КП во вложении".encode() in request.body
    assert (
        b'name="document"; filename="kp.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 test'
        in request.body
    )
    assert Attachment.objects.get(communication__direction="out").size == 13


def test_a_refused_reply_is_not_recorded_as_sent(client, org, channel, provider_api):
    from voronka.core.errors import DomainError

    deliver(client, channel, update(121))
    conversation = Conversation.objects.get()
    provider_api.answer(
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    with pytest.raises(DomainError, match="blocked"):
        do_send_reply(conversation.assignee, conversation, text="Алло?")
    assert not Communication.objects.filter(direction="out").exists()


def test_registering_the_webhook_calls_setwebhook_with_the_secret(org, channel, provider_api):
    url_sent = do_register_webhook(org.head, channel, base_url="https://crm.example.com")
    [request] = provider_api.requests
    assert request.path == f"/bot{BOT_TOKEN}/setWebhook"
    assert request.json() == {
        "url": f"https://crm.example.com/hooks/telegram/{channel.webhook_key}/",
        "secret_token": SECRET,
        "allowed_updates": ["message"],
    }
    assert url_sent == request.json()["url"]


def test_the_credentials_are_encrypted_at_rest_and_shown_masked(org, channel):
    from voronka.inbox.models import ChannelConfig

    raw = ChannelConfig.objects.values_list("credentials_encrypted", flat=True).get(pk=channel.pk)
    assert BOT_TOKEN not in raw and SECRET not in raw
    assert channel.credentials == {"bot_token": BOT_TOKEN, "secret_token": SECRET}
    assert channel.masked_credentials == {"bot_token": "••••ew11", "secret_token": "••••hook"}
