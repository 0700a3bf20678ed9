"""A site chat channel and a visitor's widget, talking to the endpoints as the browser does."""

from __future__ import annotations

import itertools
import json

from django.test import Client
from django.urls import reverse

from voronka.inbox.actions import do_create_channel

SITE = "https://shop.example.com"
_ids = itertools.count(1)


def site_chat(org, **options):
    values = {"allowed_origins": [SITE], "language": "ru", **options}
    return do_create_channel(org.head, kind="site_chat", name="Чат на сайте", options=values)


class Visitor:
    """One browser tab with the widget: its origin, its token, the last message it saw."""

    def __init__(self, channel, origin: str = SITE, ip: str = "203.0.113.7"):
        self.channel, self.origin, self.ip = channel, origin, ip
        self.client = Client(REMOTE_ADDR=ip)
        self.token = ""

    def url(self, name: str) -> str:
        return reverse(f"inbox:widget_{name}", kwargs={"key": self.channel.webhook_key})

    def headers(self) -> dict:
        headers = {"Origin": self.origin}
        if self.token:
            headers["X-Visitor-Token"] = self.token
        return headers

    def post(self, name: str, body, *, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        return self.client.post(
            self.url(name), data, content_type="application/json", headers=self.headers()
        )

    def get(self, name: str, **params):
        return self.client.get(self.url(name), params, headers=self.headers())

    def start(self):
        response = self.post("session", {})
        assert response.status_code == 200, response.content
        self.token = response.json()["token"]
        return response.json()

    def say(self, text: str, *, client_id: str | None = None):
        return self.post("message", {"id": client_id or f"m{next(_ids)}", "text": text})
