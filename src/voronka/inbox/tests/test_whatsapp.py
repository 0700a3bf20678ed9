"""WhatsApp Business (Cloud API) events delivered to the channel's webhook in Meta's documented
format and signed with the app secret, and the replies sent back through the Graph API."""

import hashlib
import hmac
import json
import time

import pytest
from django.urls import reverse

from voronka.activities.models import Task
from voronka.clients.models import Contact
from voronka.core.errors import DomainError
from voronka.inbox.actions import do_create_channel, do_send_reply
from voronka.inbox.models import (
    Attachment,
    Communication,
    Conversation,
    DeadLetter,
    ReceivedEvent,
)
from voronka.sales.models import Deal

APP_SECRET = "7b2f0c9a1d3e4f5a6b7c8d9e0f1a2b3c"
VERIFY_TOKEN = "voronka-verify-7731"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAxxTestAccessToken1234"
NUMBER_ID = "106540352242922"
WA_ID = "79161234567"
WAMID = "wamid.HBgLNzkxNjEyMzQ1NjcVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


@pytest.fixture
def channel(org):
    return do_create_channel(
        org.head,
        kind="whatsapp",
        name="WhatsApp отдела продаж",
        credentials={
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": ACCESS_TOKEN,
            "phone_number_id": NUMBER_ID,
        },
    )


def url(channel):
    return reverse("inbox:webhook", kwargs={"kind": "whatsapp", "key": channel.webhook_key})


def envelope(*, messages=(), statuses=(), contacts=None, number_id=NUMBER_ID):
    """A notification as Meta documents it: one entry, one change of the «messages» field."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "74951112233", "phone_number_id": number_id},
    }
    if messages:
        value["contacts"] = (
            contacts
            if contacts is not None
            else [{"profile": {"name": "Ирина Соколова"}, "wa_id": WA_ID}]
        )
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def text_message(wamid=WAMID, body="Здравствуйте! Сколько стоит доставка?", *, wa_id=WA_ID):
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(time.time()) - 5),
        "type": "text",
        "text": {"body": body},
    }


def status(wamid, state, **extra):
    return {
        "id": wamid,
        "status": state,
        "timestamp": str(int(time.time())),
        "recipient_id": WA_ID,
        **extra,
    }


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, channel, payload, *, secret=APP_SECRET, header=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if header is None:
        header = signature(body, secret)
    headers = {"X-Hub-Signature-256": header} if header else {}
    return client.post(url(channel), body, content_type="application/json", headers=headers)


def test_meta_verifies_the_url_with_the_right_token_and_gets_the_challenge(client, channel):
    response = client.get(
        url(channel),
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("token", ["", "wrong-token", VERIFY_TOKEN + "x"])
def test_a_handshake_with_a_wrong_verify_token_is_forbidden(client, channel, token):
    response = client.get(
        url(channel),
        {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_a_generated_verify_token_is_made_when_left_empty(org):
    channel = do_create_channel(
        org.head,
        kind="whatsapp",
        name="Второй номер",
        credentials={"app_secret": "s", "access_token": "t", "phone_number_id": "1"},
    )
    assert len(channel.credentials["verify_token"]) >= 32


def test_an_unknown_sender_becomes_a_contact_a_deal_and_a_task_to_answer(client, org, channel):
    response = deliver(client, channel, envelope(messages=[text_message()]))
    assert response.status_code == 200, response.content
    contact = Contact.objects.get(workspace=org.workspace)
    assert (contact.first_name, contact.last_name, contact.phone, contact.whatsapp) == (
        "Ирина",
        "Соколова",
        "+79161234567",
        "+79161234567",
    )
    deal = Deal.objects.get(contact=contact)
    assert deal.pipeline == org.pipeline and deal.owner.role == "manager"
    task = Task.objects.get(deal=deal)
    assert task.owner == deal.owner and task.done_at is None
    assert 0 < task.due_at.timestamp() - time.time() <= 16 * 60
    comm = Communication.objects.get(deal=deal)
    assert (comm.kind, comm.direction, comm.channel, comm.body) == (
        "message",
        "in",
        "whatsapp",
        "Здравствуйте! Сколько стоит доставка?",
    )
    assert (comm.external_id, comm.counterpart, comm.line) == (
        WAMID,
        "+79161234567",
        "+74951112233",
    )
    conversation = comm.conversation
    assert (conversation.external_id, conversation.unread_count, conversation.deal) == (
        WA_ID,
        1,
        deal,
    )


def test_a_known_phone_in_any_format_finds_the_contact_and_their_deal(client, org, channel):
    from voronka.testing.factories import make_deal

    known = Contact.objects.create(
        workspace=org.workspace, first_name="Пётр", owner=org.manager3, phone="+79161234567"
    )
    deal = make_deal(org.manager3, org.pipeline, contact=known)
    deliver(client, channel, envelope(messages=[text_message()]))
    comm = Communication.objects.get()
    assert (comm.contact, comm.deal) == (known, deal)
    assert Contact.objects.filter(workspace=org.workspace).count() == 1


def test_a_repeated_delivery_answers_200_and_changes_nothing(client, org, channel):
    payload = envelope(messages=[text_message()])
    assert deliver(client, channel, payload).status_code == 200
    again = deliver(client, channel, payload)
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert Communication.objects.filter(workspace=org.workspace).count() == 1
    assert ReceivedEvent.objects.filter(channel=channel).count() == 1
    assert Conversation.objects.get(channel=channel).unread_count == 1


@pytest.mark.parametrize(
    "how, status",
    [
        ("missing", 401),
        ("wrong secret", 403),
        ("body changed", 403),
        ("sha1 only", 403),
        ("not hex", 403),
    ],
)
def test_an_unsigned_or_forged_delivery_is_refused_and_nothing_is_stored(
    client, org, channel, how, status
):
    body = json.dumps(envelope(messages=[text_message()])).encode()
    header = {
        "missing": "",
        "wrong secret": signature(body, "another-app-secret"),
        "body changed": signature(body.replace(b"2345", b"2346")),
        "sha1 only": "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest(),
        "not hex": "sha256=зzz",
    }[how]
    response = deliver(client, channel, body, header=header)
    assert response.status_code == status
    assert not ReceivedEvent.objects.exists() and not DeadLetter.objects.exists()
    assert not Communication.objects.exists() and not Contact.objects.exists()


def test_the_signature_is_over_the_raw_bytes_not_the_parsed_json(client, org, channel):
    body = json.dumps(envelope(messages=[text_message()]), ensure_ascii=False, indent=1).encode()
    respaced = json.dumps(json.loads(body)).encode()
    assert deliver(client, channel, respaced, header=signature(body)).status_code == 403
    assert deliver(client, channel, body, header=signature(body)).status_code == 200


def test_photos_documents_and_voice_notes_keep_their_media_ids(client, org, channel):
    image = {
        **text_message("wamid.image1"),
        "type": "image",
        "image": {
            "caption": "Вот такой нужен",
            "mime_type": "image/jpeg",
            "sha256": "RMmb1vZ5xYgnZnzBFvq4Hl0a5oVZtGj2xxcH4f3YH9M=",
            "id": "1243522063485413",
        },
    }
    document = {
        **text_message("wamid.doc1"),
        "type": "document",
        "document": {
            "filename": "реквизиты.pdf",
            "mime_type": "application/pdf",
            "sha256": "Z5S0yTBqC2v7pH9u9JbYgxGxg0VqvM2dHqzqCzP0Gqw=",
            "id": "1003383421387256",
        },
    }
    voice = {
        **text_message("wamid.voice1"),
        "type": "audio",
        "audio": {
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "9vD0wSGFpQx9v3V3mHXrKkH1VEj0Q8kGm0dM8b8KfVQ=",
            "id": "1146512216964463",
            "voice": True,
        },
    }
    for message in (image, document, voice):
        del message["text"]
    payload = envelope(messages=[image, document, voice])
    assert deliver(client, channel, payload).json()["stored"] == 3
    rows = list(
        Attachment.objects.order_by("id").values_list("external_id", "name", "content_type")
    )
    assert rows == [
        ("1243522063485413", "image.jpg", "image/jpeg"),
        ("1003383421387256", "реквизиты.pdf", "application/pdf"),
        ("1146512216964463", "voice.ogg", "audio/ogg"),
    ]
    assert Communication.objects.get(external_id="wamid.image1").body == "Вот такой нужен"
    assert Conversation.objects.get().unread_count == 3


def test_a_location_is_filed_as_its_name_address_and_coordinates(client, org, channel):
    location = {
        **text_message("wamid.loc1"),
        "type": "location",
        "location": {
            "latitude": 55.7558,
            "longitude": 37.6173,
            "name": "Офис",
            "address": "Москва, Тверская, 1",
        },
    }
    del location["text"]
    deliver(client, channel, envelope(messages=[location]))
    assert Communication.objects.get().body == "Офис\nМосква, Тверская, 1\n55.7558, 37.6173"


def test_a_reply_goes_to_the_messages_endpoint_and_statuses_follow_it(
    client, org, channel, provider_api
):
    deliver(client, channel, envelope(messages=[text_message()]))
    conversation = Conversation.objects.get()
    sent_id = "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    provider_api.answer(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
            "messages": [{"id": sent_id}],
        },
    )
    comm = do_send_reply(conversation.assignee, conversation, text="Доставка — 500 ₽, завтра")
    [request] = provider_api.requests
    assert (request.method, request.path) == ("POST", f"/v23.0/{NUMBER_ID}/messages")
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "Доставка — 500 ₽, завтра"},
    }
    assert (comm.direction, comm.external_id, comm.delivery_status) == ("out", sent_id, "sent")

    for state in ("sent", "read", "delivered"):  # Meta does not promise the order
        response = deliver(client, channel, envelope(statuses=[status(sent_id, state)]))
        assert response.status_code == 200
    comm.refresh_from_db()
    assert comm.delivery_status == "read"
    assert ReceivedEvent.objects.filter(event_id__startswith=sent_id).count() == 3
    assert Communication.objects.count() == 2  # statuses are not messages
    assert Task.objects.filter(deal=comm.deal).count() == 1

    # The manager sees it read: on the deal's and the contact's timeline and in the chat.
    client.force_login(conversation.assignee)
    for url in (
        reverse("sales:deal_detail", args=[comm.deal_id]),
        reverse("clients:contact_detail", args=[comm.contact_id]),
        reverse("inbox:conversation", args=[conversation.id]),
    ):
        page = client.get(url).content.decode()
        marks = page.split('data-testid="delivery-status"')[1:]
        assert len(marks) == 1, url  # the client's message carries none
        assert 'data-status="read"' in marks[0] and "прочитано" in marks[0], url
        assert 'title="Прочитано клиентом"' in marks[0], url


def test_a_failed_status_marks_the_reply_not_delivered(client, org, channel, provider_api):
    deliver(client, channel, envelope(messages=[text_message()]))
    conversation = Conversation.objects.get()
    provider_api.answer(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.F1"}]})
    comm = do_send_reply(conversation.assignee, conversation, text="Вы здесь?")
    failed = status(
        "wamid.F1",
        "failed",
        errors=[
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number."
                },
            }
        ],
    )
    assert deliver(client, channel, envelope(statuses=[failed])).status_code == 200
    comm.refresh_from_db()
    assert comm.delivery_status == "failed"


def test_a_status_of_a_message_that_is_not_ours_changes_nothing(client, org, channel):
    response = deliver(client, channel, envelope(statuses=[status("wamid.unknown", "read")]))
    assert response.status_code == 200
    assert not Communication.objects.exists() and not Contact.objects.exists()


def test_a_file_is_uploaded_and_sent_as_a_document_by_its_media_id(
    client, org, channel, provider_api
):
    deliver(client, channel, envelope(messages=[text_message()]))
    conversation = Conversation.objects.get()
    provider_api.answer(200, {"id": "4490709327384033"})
    provider_api.answer(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.D1"}]})
    comm = do_send_reply(
        conversation.assignee,
        conversation,
        text="КП во вложении",
        attachments=[("kp.pdf", b"%PDF-1.4 test", "application/pdf")],
    )
    upload, send = provider_api.requests
    assert (upload.method, upload.path) == ("POST", f"/v23.0/{NUMBER_ID}/media")
    assert upload.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="messaging_product"\r\n\r\nwhatsapp\r\n' in upload.body
    assert b'name="type"\r\n\r\napplication/pdf\r\n' in upload.body
    assert (
        b'name="file"; filename="kp.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 test'
        in upload.body
    )
    assert send.path == f"/v23.0/{NUMBER_ID}/messages"
    assert send.json() == {
        "messaging_product": "whatsapp",
        "to": WA_ID,
        "type": "document",
        "document": {"id": "4490709327384033", "filename": "kp.pdf", "caption": "КП во вложении"},
    }
    assert comm.external_id == "wamid.D1"


def test_a_refused_reply_says_why_and_is_not_recorded(client, org, channel, provider_api):
    deliver(client, channel, envelope(messages=[text_message()]))
    conversation = Conversation.objects.get()
    provider_api.answer(
        400,
        {
            "error": {
                "message": "(#131047) Re-engagement message",
                "type": "OAuthException",
                "code": 131047,
                "error_data": {"messaging_product": "whatsapp", "details": "24 hours have passed"},
                "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
            }
        },
    )
    with pytest.raises(DomainError, match="24 hours have passed"):
        do_send_reply(conversation.assignee, conversation, text="Алло?")
    assert not Communication.objects.filter(direction="out").exists()


def test_an_event_for_another_phone_number_is_kept_as_a_dead_letter(client, org, channel):
    response = deliver(client, channel, envelope(messages=[text_message()], number_id="999"))
    assert response.status_code == 400
    assert "phone number ID 999" in DeadLetter.objects.get().reason
    assert not Communication.objects.exists()


def test_other_fields_of_the_account_are_acknowledged_and_file_nothing(client, org, channel):
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {"event": "APPROVED", "message_template_id": 1},
                    }
                ],
            }
        ],
    }
    assert deliver(client, channel, payload).status_code == 200
    assert not Communication.objects.exists() and not DeadLetter.objects.exists()


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json", "not JSON"),
        (b'{"object": "instagram", "entry": []}', "whatsapp_business_account"),
        (b'{"object": "whatsapp_business_account"}', "entry"),
        (json.dumps(envelope(messages=[{"from": WA_ID, "type": "text"}])).encode(), "message.id"),
        (
            json.dumps(envelope(messages=[{**text_message(), "timestamp": "yesterday"}])).encode(),
            "timestamp",
        ),
        (json.dumps(envelope(statuses=[status("wamid.X", "exploded")])).encode(), "status"),
        (
            json.dumps(envelope(messages=[{**text_message(), "type": "image"}])).encode(),
            "message.image",
        ),
    ],
)
def test_a_signed_but_malformed_delivery_gets_400_and_is_kept(client, org, channel, body, reason):
    response = deliver(client, channel, body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    letter = DeadLetter.objects.get(channel=channel)
    assert bytes(letter.body) == body
    assert letter.headers["x-hub-signature-256"] == signature(body)
    assert not Communication.objects.exists()


def test_the_head_connects_a_number_on_the_settings_page_and_meta_can_verify_it(client, org):
    from voronka.inbox.models import ChannelConfig

    client.force_login(org.head)
    page = reverse("inbox:settings_channel_create") + "?kind=whatsapp"
    assert "ID номера телефона" in client.get(page, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    response = client.post(
        page,
        {
            "kind": "whatsapp",
            "name": "WhatsApp продаж",
            "enabled": "on",
            "credential_app_secret": APP_SECRET,
            "credential_verify_token": "",
            "credential_access_token": ACCESS_TOKEN,
            "credential_phone_number_id": NUMBER_ID,
        },
        follow=True,
    )
    assert response.status_code == 200
    channel = ChannelConfig.objects.get(kind="whatsapp")
    token = channel.credentials["verify_token"]
    assert token in response.content.decode()  # shown once, to be typed into Meta's dashboard
    answer = client.get(
        url(channel), {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "77"}
    )
    assert answer.content == b"77"
