"""Conversations for the inbox's tests: real Telegram updates delivered to a real channel's
webhook, each from a client whose manager is known beforehand."""

from __future__ import annotations

import json
import time

from django.test import Client
from django.urls import reverse

from voronka.clients.models import Contact
from voronka.inbox.actions import do_create_channel
from voronka.inbox.channels.telegram import SECRET_HEADER
from voronka.inbox.models import Conversation

BOT_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "s3cr3t-token_for-the-webhook"


def telegram_channel(org, name="Бот отдела продаж"):
    return do_create_channel(
        org.head,
        kind="telegram",
        name=name,
        credentials={"bot_token": BOT_TOKEN, "secret_token": SECRET},
    )


def telegram_update(update_id: int, user_id: int, username: str, text: str, *, ago: int = 30):
    """An Update as the Bot API documents it: a private chat's text message from a user, sent
    ``ago`` seconds ago."""
    person = {"id": user_id, "first_name": "Ирина", "username": username}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {**person, "is_bot": False, "language_code": "ru"},
            "chat": {**person, "type": "private"},
            "date": int(time.time()) - ago,
            "text": text,
        },
    }


def deliver(channel, payload, client=None):
    client = client or Client()
    path = reverse("inbox:webhook", kwargs={"kind": "telegram", "key": channel.webhook_key})
    return client.post(
        path,
        json.dumps(payload).encode(),
        content_type="application/json",
        headers={SECRET_HEADER: SECRET},
    )


def chat_with(channel, manager, n: int, text: str = "Здравствуйте, сколько стоит доставка?"):
    """A client of ``manager`` writes to the bot; their conversation, assigned to ``manager``."""
    Contact.objects.create(
        workspace_id=manager.workspace_id,
        first_name=f"Клиент{n}",
        last_name="Петров",
        owner=manager,
        telegram=f"client{n}",
    )
    response = deliver(channel, telegram_update(10_000 + n, 90_000 + n, f"client{n}", text))
    assert response.status_code == 200, response.content
    conversation = Conversation.objects.get(channel=channel, external_id=str(90_000 + n))
    assert conversation.assignee_id == manager.id
    return conversation
