"""The webhook endpoint every channel's provider delivers to: /hooks/<kind>/<key>/.

No session, no CSRF (the provider's signature stands in for both). The order is fixed: find the
channel by its key, verify the signature before reading the body as anything, parse, ingest in
one transaction, and only then answer 2xx. A forged or unsigned delivery gets 401/403 and is
logged, never stored; a signed but unreadable one gets 400 and is kept as a dead letter. Bad
input never gives a 5xx.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from voronka.core.errors import DomainError

from .channels import provider_for
from .channels.base import Malformed, WebhookRejected
from .ingest import IngestResult, ingest
from .models import ChannelConfig, DeadLetter

log = logging.getLogger(__name__)

#: Larger deliveries are refused unread (413): no provider sends a message this big.
MAX_BODY_BYTES = 1024 * 1024
#: A concurrent delivery for the same new chat, or a busy SQLite, is retried this many times.
ATTEMPTS = 3


def _answer(status: int, **body) -> JsonResponse:
    return JsonResponse(body, status=status)


def kept_headers(provider, request: HttpRequest) -> dict[str, str]:
    return {
        name: request.headers[name][:500]
        for name in provider.kept_headers
        if name in request.headers
    }


def keep_dead_letter(channel, body: bytes, headers: dict, reason: str) -> DeadLetter:
    """Keep a delivery that could not be taken in, for the head to see and replay."""
    return DeadLetter.objects.create(
        workspace_id=channel.workspace_id,
        channel=channel,
        body=body,
        headers=headers,
        reason=reason[:2000],
    )


def parse_and_ingest(provider, channel, body: bytes) -> IngestResult:
    """Parse a verified body and ingest its events; ``Malformed`` or ``DomainError`` when it
    cannot be taken in. Shared by the webhook and the dead letters' replay."""
    try:
        events = provider.parse(channel, body)
    except Malformed:
        raise
    except Exception as exc:  # a parser tripping over input is still bad input, never a 500
        log.warning("channel %s: unreadable delivery (%r)", channel.id, exc)
        raise Malformed(f"unreadable payload ({type(exc).__name__})") from exc
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return ingest(channel, events)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@csrf_exempt
def webhook(request: HttpRequest, kind: str, key: str, event: str | None = None):
    """``event``: the suffix a provider that posts each event type to its own path adds to the
    channel's URL (Mango's ``<url>/events/call``); the provider lists the ones it posts."""
    channel = (
        ChannelConfig.objects.filter(kind=kind, webhook_key=key, enabled=True)
        .select_related("workspace")
        .first()
    )
    provider = provider_for(kind) if channel is not None else None
    if provider is None or (event is not None and event not in provider.event_paths):
        return _answer(404, error="unknown channel")
    if request.method == "GET":
        response = provider.handshake(channel, request)
        return response if response is not None else _answer(405, error="POST events here")
    if request.method != "POST":
        return _answer(405, error="POST events here")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        log.warning("channel %s: delivery of %s bytes refused unread", channel.id, length)
        return _answer(413, error="payload too large")
    try:
        provider.verify(channel, request)
    except WebhookRejected as exc:
        log.warning(
            "channel %s: delivery rejected (%s) from %s",
            channel.id,
            exc.reason,
            request.META.get("REMOTE_ADDR"),
        )
        return _answer(exc.status, error=exc.reason)
    body = request.body
    try:
        result = parse_and_ingest(provider, channel, body)
    except (Malformed, DomainError) as exc:
        reason = exc.reason if isinstance(exc, Malformed) else exc.message
        letter = keep_dead_letter(channel, body, kept_headers(provider, request), reason)
        log.warning("channel %s: dead letter %s: %s", channel.id, letter.id, reason)
        return _answer(400, error=reason, dead_letter=letter.id)
    except (IntegrityError, OperationalError):
        log.exception("channel %s: delivery not stored, the provider will retry", channel.id)
        return _answer(503, error="busy, retry")
    return _answer(200, ok=True, stored=result.stored, duplicates=result.duplicates)
