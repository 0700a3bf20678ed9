"""The inbox in the browser: a client's Telegram message appears without a reload, the manager
opens it, picks a template, answers, and the answer reaches the Bot API (a local server)."""

import json
import time

import httpx
import pytest
from playwright.sync_api import expect

from voronka.clients.models import Contact
from voronka.inbox.actions import do_create_message_template
from voronka.inbox.channels.telegram import SECRET_HEADER
from voronka.inbox.models import Communication
from voronka.inbox.tests.inbox_world import BOT_TOKEN, SECRET, telegram_channel
from voronka.inbox.tests.recorder import start_recorder


@pytest.fixture
def bot_api(settings):
    recorder, server = start_recorder()
    settings.VORONKA_TELEGRAM_API_BASE = recorder.url
    yield recorder
    server.shutdown()
    server.server_close()


def test_a_message_arrives_live_and_the_manager_answers_it(org, login, live_server, bot_api):
    channel = telegram_channel(org)
    Contact.objects.create(
        workspace=org.workspace,
        first_name="Ирина",
        last_name="Соколова",
        owner=org.manager1,
        telegram="irina_s",
    )
    do_create_message_template(
        org.head, name="Доставка", body="{contact_first_name}, доставка по Москве бесплатная."
    )
    page = login(org.manager1)
    page.goto("/inbox/")
    expect(page.get_by_test_id("conversation-row")).to_have_count(0)
    page.evaluate("window.sameDocument = true")

    # The client writes to the bot; Telegram posts the update, signed with the secret token.
    update = {
        "update_id": 700001,
        "message": {
            "message_id": 11,
            "from": {
                "id": 555000111,
                "is_bot": False,
                "first_name": "Ирина",
                "username": "irina_s",
            },
            "chat": {"id": 555000111, "first_name": "Ирина", "type": "private"},
            "date": int(time.time()) - 1,
            "text": "Добрый день! Сколько стоит доставка?",
        },
    }
    hook = f"{live_server.url}/hooks/telegram/{channel.webhook_key}/"
    answer = httpx.post(
        hook,
        content=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", SECRET_HEADER: SECRET},
    )
    assert answer.status_code == 200, answer.text

    row = page.get_by_test_id("conversation-row").filter(has_text="Сколько стоит доставка?")
    expect(row).to_be_visible(timeout=10_000)
    expect(row.get_by_test_id("unread-count")).to_have_text("1")
    expect(page.get_by_test_id("inbox-badge")).to_have_text("1", timeout=10_000)
    assert page.evaluate("window.sameDocument") is True

    row.click()
    expect(page.get_by_test_id("message-text")).to_have_text("Добрый день! Сколько стоит доставка?")
    expect(page.get_by_test_id("inbox-badge")).to_have_count(0)
    page.select_option("#reply-template", label="Доставка")
    expect(page.locator("#reply-text")).to_have_value("Ирина, доставка по Москве бесплатная.")
    page.evaluate("window.sameDocument = true")
    page.locator("#reply-box button[type=submit]").click()

    sent = page.get_by_test_id("message").filter(has_text="доставка по Москве бесплатная")
    expect(sent).to_have_attribute("data-direction", "out")
    expect(page.locator("#reply-text")).to_have_value("")
    assert page.evaluate("window.sameDocument") is True
    [request] = bot_api.requests
    assert request.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert request.json() == {"chat_id": 555000111, "text": "Ирина, доставка по Москве бесплатная."}
    reply = Communication.objects.get(direction="out")
    assert reply.author == org.manager1 and reply.conversation.contact.telegram == "irina_s"

    # The client answers again: the open conversation shows it without a reload.
    update = {**update, "update_id": 700002}
    update["message"] = {**update["message"], "message_id": 12, "text": "Отлично, оформляю."}
    httpx.post(
        hook,
        content=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", SECRET_HEADER: SECRET},
    )
    expect(page.get_by_test_id("message-text").filter(has_text="Отлично, оформляю.")).to_be_visible(
        timeout=10_000
    )
    assert page.evaluate("window.sameDocument") is True
