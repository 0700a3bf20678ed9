"""A person calling the API over real HTTP (Django's test client) with a real token."""

from __future__ import annotations

import json

from django.test import Client

from voronka.accounts.actions import do_create_token

PREFIX = "/api/v1"


class Caller:
    def __init__(self, user, raw_token: str | None = None):
        self.user = user
        if raw_token is None:
            _, raw_token = do_create_token(user, user, name="tests")
        self.token = raw_token
        self.client = Client(headers={"Authorization": f"Bearer {raw_token}"})

    def get(self, path: str, **params):
        return self.client.get(PREFIX + path, params)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(
            PREFIX + path, json.dumps(body or {}), content_type="application/json"
        )

    def patch(self, path: str, body: dict | None = None):
        return self.client.patch(
            PREFIX + path, json.dumps(body or {}), content_type="application/json"
        )

    def ids(self, path: str, **params) -> list[int]:
        """The ids of every item of a list, walking all its pages."""
        found: list[int] = []
        offset = 0
        while True:
            response = self.get(path, limit=200, offset=offset, **params)
            assert response.status_code == 200, response.content
            body = response.json()
            found += [item["id"] for item in body["items"]]
            if not body["has_more"]:
                return found
            offset += 200


def as_user(user) -> Caller:
    return Caller(user)
