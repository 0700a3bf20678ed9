"""Any PBX: a documented, signed JSON webhook for calls (see README, «Channels and webhooks»).

The PBX POSTs one call (a JSON object) or several (a JSON array) with two headers:

- ``X-Voronka-Timestamp``: the Unix time of sending, in seconds; older or newer than five
  minutes is refused, so a captured request cannot be replayed later;
- ``X-Voronka-Signature: sha256=<hex>``: HMAC-SHA256, keyed with the channel's secret, of
  ``<timestamp>.<raw body>`` — the timestamp is signed with the body so it cannot be changed.

A call: ``event_id`` (unique per event), ``direction`` (``in``/``out``), ``from`` and ``to``
(numbers in any common format), ``started_at`` (ISO 8601 with offset, or Unix seconds), and
optionally ``duration`` (seconds talked), ``outcome`` (``answered``, ``missed``, ``busy``),
``extension`` (the manager's), ``call_id``, ``client_name``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from voronka.clients.phones import normalise_phone

from .base import (
    CredentialField,
    Forbidden,
    InboundEvent,
    Malformed,
    Provider,
    Sender,
    Unauthenticated,
)

SIGNATURE_HEADER = "X-Voronka-Signature"
TIMESTAMP_HEADER = "X-Voronka-Timestamp"
#: How far the sender's clock and the network may put a delivery from now.
STALE_AFTER_SECONDS = 300
OUTCOMES = ("answered", "missed", "busy")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at ``timestamp`` (what the PBX computes)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _time(value) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise Malformed("started_at is out of range") from exc
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise Malformed("started_at must be ISO 8601 with an offset, or Unix seconds")


def _text(call: dict, key: str, *, required: bool = False) -> str:
    value = call.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Malformed(f"{key} must be a string")
    value = str(value).strip()
    if required and not value:
        raise Malformed(f"{key} is required")
    return value


def _call(call) -> InboundEvent:
    if not isinstance(call, dict):
        raise Malformed("each call must be a JSON object")
    event_id = _text(call, "event_id", required=True)
    direction = call.get("direction")
    if direction not in ("in", "out"):
        raise Malformed("direction must be «in» or «out»")
    caller, callee = _text(call, "from", required=True), _text(call, "to", required=True)
    client_raw, line_raw = (caller, callee) if direction == "in" else (callee, caller)
    client = normalise_phone(client_raw)
    if client is None:
        raise Malformed(f"«{client_raw[:40]}» is not a phone number")
    line = normalise_phone(line_raw) or line_raw
    duration = call.get("duration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 0 <= duration < 10**7
    ):
        raise Malformed("duration must be whole seconds, 0 or more")
    outcome = call.get("outcome") or ""
    if outcome and outcome not in OUTCOMES:
        raise Malformed("outcome must be answered, missed or busy")
    return InboundEvent(
        event_id=event_id,
        kind="call",
        chat_id=client,
        occurred_at=_time(call.get("started_at")),
        sender=Sender(phone=client, name=_text(call, "client_name")),
        direction=direction,
        external_id=_text(call, "call_id"),
        counterpart=client,
        line=line,
        extension=_text(call, "extension"),
        duration_seconds=duration,
        outcome=outcome,
        raw=call,
    )


class GenericPbxProvider(Provider):
    kind = "generic_pbx"
    credential_fields = (
        CredentialField(
            "secret",
            _("Signing secret"),
            _("The PBX signs every request with it. Leave empty to generate one."),
            generated=True,
        ),
    )
    kept_headers = ("content-type", "user-agent", TIMESTAMP_HEADER.lower())

    def verify(self, channel, request) -> None:
        signature = request.headers.get(SIGNATURE_HEADER)
        stamp = request.headers.get(TIMESTAMP_HEADER)
        if not signature or not stamp:
            raise Unauthenticated(f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
        try:
            sent_at = int(stamp)
        except ValueError:
            raise Forbidden(f"{TIMESTAMP_HEADER} must be Unix seconds") from None
        if abs(time.time() - sent_at) > STALE_AFTER_SECONDS:
            raise Forbidden("stale timestamp")
        secret = channel.credentials.get("secret", "")
        expected = sign(secret, stamp, request.body) if secret else ""
        if not expected or not hmac.compare_digest(signature.encode(), expected.encode()):
            raise Forbidden("wrong signature")

    def parse(self, channel, body: bytes) -> list[InboundEvent]:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Malformed(f"the body is not JSON: {exc}") from exc
        calls = payload if isinstance(payload, list) else [payload]
        if not calls or len(calls) > 1000:
            raise Malformed("send from 1 to 1000 calls")
        return [_call(c) for c in calls]


provider = GenericPbxProvider()
