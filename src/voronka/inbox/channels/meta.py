"""What Meta's platforms (WhatsApp Business Cloud API, Instagram messaging) have in common.

- The verification handshake: when a webhook URL is saved in the app dashboard, Meta sends a GET
  with ``hub.mode=subscribe``, ``hub.verify_token`` (the token typed into the dashboard) and
  ``hub.challenge``; the URL proves itself by answering the challenge as plain text.
- The signature: every POST carries ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the
  raw body keyed with the app secret (https://developers.facebook.com/docs/graph-api/webhooks/getting-started).
- The Graph API, where replies go: ``{graph base}/{version}/…`` with a Bearer access token. The
  base and the version are the ``VORONKA_META_GRAPH_BASE`` (default https://graph.facebook.com)
  and ``VORONKA_META_GRAPH_VERSION`` settings, so a test's own server can stand in.

This module is not a channel kind itself; ``whatsapp.py`` and ``instagram.py`` use it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import httpx
from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _

from .base import Forbidden, Malformed, SendFailed, Unauthenticated

SIGNATURE_HEADER = "X-Hub-Signature-256"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
#: Meta's challenge is a short number; anything longer is not a handshake.
MAX_CHALLENGE = 256


def graph_base() -> str:
    return getattr(settings, "VORONKA_META_GRAPH_BASE", "https://graph.facebook.com").rstrip("/")


def graph_version() -> str:
    return getattr(settings, "VORONKA_META_GRAPH_VERSION", "v23.0").strip("/")


def graph_url(*parts: str) -> str:
    return "/".join((graph_base(), graph_version(), *parts))


def sign(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(channel, request) -> None:
    """Refuse a delivery whose signature is missing (401) or is not the app secret's (403),
    comparing in constant time over the raw bytes, before anything is parsed."""
    given = request.headers.get(SIGNATURE_HEADER)
    if not given:
        raise Unauthenticated(f"no {SIGNATURE_HEADER} header")
    secret = channel.credentials.get("app_secret", "")
    expected = sign(secret, request.body) if secret else ""
    if not expected or not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
        raise Forbidden(f"wrong {SIGNATURE_HEADER}")


def handshake(channel, request) -> HttpResponse:
    """Answer Meta's verification GET: the challenge as text when the verify token matches."""
    mode = request.GET.get("hub.mode")
    token = request.GET.get("hub.verify_token")
    challenge = request.GET.get("hub.challenge")
    if mode != "subscribe" or not challenge or len(challenge) > MAX_CHALLENGE:
        return HttpResponse(
            "Expected hub.mode=subscribe with hub.challenge and hub.verify_token.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    expected = channel.credentials.get("verify_token", "")
    if not token or not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return HttpResponse(
            "Wrong hub.verify_token.\n", status=403, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(challenge, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- Reading payloads ------------------------------------------------------------------------------


def load(body: bytes, expected_object: str) -> dict:
    """The delivery as a JSON object whose ``object`` is the platform's."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"the body is not JSON: {exc}") from exc
    payload = as_dict(payload, "the delivery")
    if payload.get("object") != expected_object:
        raise Malformed(f"object must be «{expected_object}»")
    return payload


def as_dict(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise Malformed(f"{what} must be an object")
    return value


def as_list(value, what: str, *, optional: bool = False) -> list:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{what} must be a list")
    return value


def as_str(value, what: str) -> str:
    """A required non-empty string (ids): numbers are taken as their digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise Malformed(f"{what} is required")
    return value.strip()


def text_of(value) -> str:
    return value if isinstance(value, str) else ""


def unix_time(value, what: str, *, millis: bool = False) -> datetime:
    """WhatsApp gives seconds as a string, Instagram milliseconds as a number."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Malformed(f"{what} must be a Unix time")
    try:
        return datetime.fromtimestamp(value / 1000 if millis else value, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise Malformed(f"{what} is out of range") from exc


# -- The Graph API ---------------------------------------------------------------------------------


def graph_post(channel, url: str, **kwargs) -> dict:
    """POST to the Graph API with the channel's access token; the JSON answer, or ``SendFailed``
    with Meta's own words (``error.message`` and ``error_data.details``)."""
    token = channel.credentials.get("access_token", "")
    if not token:
        raise SendFailed(_("The channel has no access token."))
    try:
        with httpx.Client(timeout=TIMEOUT) as client:
            response = client.post(url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SendFailed(_("Meta could not be reached: %(e)s") % {"e": exc}) from exc
    if response.status_code >= 400 or not isinstance(answer, dict) or "error" in answer:
        error = answer.get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        details = error.get("error_data")
        details = details.get("details") if isinstance(details, dict) else None
        words = " ".join(str(w) for w in (error.get("message"), details) if w)
        raise SendFailed(_("Meta refused: %(e)s") % {"e": words or response.status_code})
    return answer
