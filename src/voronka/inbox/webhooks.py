"""The webhook endpoint every channel's provider delivers to: /hooks/<kind>/<key>/.

No session, no CSRF (the provider's signature stands in for both). The order is fixed: find the
channel by its key, verify the signature before reading the body as anything, parse, ingest in
one transaction, and only then answer 2xx. A forged or unsigned delivery gets 401/403 and is
logged, never stored; a signed but unreadable one gets 400 and is kept as a dead letter. Bad
input never gives a 5xx.

Under load (another delivery in flight in this server process) the view answers as soon as the
events are stored durably (``ingest.store``: one INSERT and its commit per event) and leaves
matching, contacts, deals and the rules to the background worker, woken here
(``process_received_events``); an idle server processes a delivery before it answers, as
before. Either way the 2xx comes after the commit, and a repeated event changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, OperationalError
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from voronka.core.errors import DomainError

from .channels import provider_for
from .channels.base import Malformed, WebhookRejected
from .ingest import IngestResult, ingest, process_received, store, stored_event_of
from .models import ChannelConfig, DeadLetter
from .rules import without_nul

log = logging.getLogger(__name__)

#: Larger deliveries are refused unread (413): no provider sends a message this big.
MAX_BODY_BYTES = 1024 * 1024
#: A concurrent delivery for the same new chat, or a busy SQLite, is retried this many times.
ATTEMPTS = 3


class Answer(NamedTuple):
    """A webhook's JSON answer, as the view (``respond``) and the web front (``voronka.front``)
    both send it."""

    status: int
    body: bytes
    headers: dict[str, str]


def answer(status: int, **fields) -> Answer:
    body = json.dumps(fields, cls=DjangoJSONEncoder).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    return Answer(status, body, headers)


def respond(given: Answer) -> HttpResponse:
    return HttpResponse(given.body, status=given.status, headers=given.headers)


def _answer(status: int, **fields) -> HttpResponse:
    return respond(answer(status, **fields))


def kept_headers(provider, request: HttpRequest) -> dict[str, str]:
    return {
        name: request.headers[name][:500]
        for name in provider.kept_headers
        if name in request.headers
    }


def keep_dead_letter(channel, body: bytes, headers: dict, reason: str) -> DeadLetter:
    """Keep a delivery that could not be taken in, for the head to see and replay. The body is
    kept byte for byte; the reason and the headers are text, without NUL characters (a reason
    may quote the payload), as PostgreSQL stores text."""
    return DeadLetter.objects.create(
        workspace_id=channel.workspace_id,
        channel=channel,
        body=body,
        headers=without_nul(headers),
        reason=without_nul(reason)[:2000],
    )


class _Load:
    """How many deliveries this server process is handling right now, and when the worker was
    last woken for the events it was left."""

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = 0
        self.woken_at = float("-inf")

    def begin(self) -> bool:
        """Count a delivery in; True when another one is in flight (the server is busy)."""
        with self.lock:
            self.in_flight += 1
            return self.in_flight > 1

    def end(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def due_to_wake(self) -> bool:
        now = time.monotonic()
        with self.lock:
            if now - self.woken_at < WAKE_EVERY_SECONDS:
                return False
            self.woken_at = now
            return True


_load = _Load()


class _Channels:
    """The channels deliveries came to lately, by (kind, key), with their provider: under load
    the same few channels are looked up thousands of times a second. An entry is kept
    ``CHANNEL_CACHE_SECONDS``; saving or deleting a channel forgets them all in this process at
    once (so a channel switched off elsewhere still takes deliveries here that long at most)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict[tuple[str, str], tuple[float, object, object]] = {}

    def cached(self, kind: str, key: str):
        """(channel, provider) while the cache holds them, else (None, None): no database."""
        found = self.entries.get((kind, key))
        if found is not None and time.monotonic() - found[0] < CHANNEL_CACHE_SECONDS:
            return found[1], found[2]
        return None, None

    def get(self, kind: str, key: str):
        """(channel, provider), or (None, None) when there is no such enabled channel."""
        now = time.monotonic()
        found = self.entries.get((kind, key))
        if found is not None and now - found[0] < CHANNEL_CACHE_SECONDS:
            return found[1], found[2]
        channel = (
            ChannelConfig.objects.filter(kind=kind, webhook_key=key, enabled=True)
            .select_related("workspace")
            .first()
        )
        provider = provider_for(kind) if channel is not None else None
        if channel is None or provider is None:
            return None, None
        with self.lock:
            if len(self.entries) > 1000:
                self.entries.clear()
            self.entries[(kind, key)] = (now, channel, provider)
        return channel, provider

    def forget(self, **_kwargs) -> None:
        with self.lock:
            self.entries.clear()


CHANNEL_CACHE_SECONDS = 5.0
_channels = _Channels()
post_save.connect(_channels.forget, sender=ChannelConfig, dispatch_uid="webhook-channels")
post_delete.connect(_channels.forget, sender=ChannelConfig, dispatch_uid="webhook-channels-del")
#: The worker is woken at most this often per server process: a waiting run of
#: ``process_received_events`` starts later than any event stored meanwhile, and each run
#: looks again a second after it began, so every stored event is seen by one of them.
WAKE_EVERY_SECONDS = 0.25


# What the web front (``voronka.front``) shares with the view: the channels' cache and the count
# of deliveries in flight in this process.
cached_channel = _channels.cached
delivery_begins = _load.begin
delivery_ends = _load.end


def is_busy() -> bool:
    """Whether another delivery is in flight in this server process."""
    return _load.in_flight > 0


def enqueue_processing() -> None:
    """Have the worker process the stored events: queue ``process_received_events`` unless a
    run of it is already waiting. A failure is only logged: the minute's sweep finds them."""
    try:
        from django_tasks_db.models import DBTaskResult

        from .jobs import process_received_events

        waiting = DBTaskResult.objects.filter(
            task_path=process_received_events.module_path, status="READY"
        ).exists()
        if not waiting:
            process_received_events.enqueue()
    except Exception:
        log.exception("could not wake the worker; the next sweep processes the events")


def taken_in(
    result: IngestResult, *, busy: bool, wake: Callable[[], object] = enqueue_processing
) -> Answer:
    """The 200 for a delivery whose events are in (the view's and the front's alike). A busy
    server only stored them, for the worker: ``wake`` it, at most every ``WAKE_EVERY_SECONDS``
    in this process (the front passes a ``wake`` that queues off its event loop); an idle one
    has processed them already."""
    if busy and result.stored and _load.due_to_wake():
        wake()
    return answer(200, ok=True, stored=result.stored, duplicates=result.duplicates)


#: A database error while storing: the provider delivers again.
NOT_STORED = answer(503, error="busy, retry")


def parse_and_ingest(
    provider, channel, body: bytes, *, defer: bool = False, replay: bool = False
) -> IngestResult:
    """Parse a verified body and ingest its events; ``Malformed`` or ``DomainError`` when it
    cannot be taken in. Shared by the webhook and the dead letters' replay (``replay``: a
    dead letter the worker kept names its stored event, processed again here). ``defer``: only
    store the events, for the worker."""
    stored_id = stored_event_of(body) if replay else None
    if stored_id is not None:
        from .models import ReceivedEvent

        if not ReceivedEvent.objects.filter(pk=stored_id, channel=channel).exists():
            raise Malformed("the stored event is gone")
        result = process_received(stored_id, again=True)
        return result if result is not None else IngestResult(duplicates=1)
    try:
        events = provider.parse(channel, body)
    except Malformed:
        raise
    except Exception as exc:  # a parser tripping over input is still bad input, never a 500
        log.warning("channel %s: unreadable delivery (%r)", channel.id, exc)
        raise Malformed(f"unreadable payload ({type(exc).__name__})") from exc
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return store(channel, events) if defer else ingest(channel, events)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@csrf_exempt
def webhook(request: HttpRequest, kind: str, key: str, event: str | None = None):
    """``event``: the suffix a provider that posts each event type to its own path adds to the
    channel's URL (Mango's ``<url>/events/call``); the provider lists the ones it posts."""
    channel, provider = _channels.get(kind, key)
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
    busy = _load.begin()
    try:
        result = parse_and_ingest(provider, channel, body, defer=busy)
    except (Malformed, DomainError) as exc:
        reason = exc.reason if isinstance(exc, Malformed) else exc.message
        letter = keep_dead_letter(channel, body, kept_headers(provider, request), reason)
        log.warning("channel %s: dead letter %s: %s", channel.id, letter.id, reason)
        return _answer(400, error=reason, dead_letter=letter.id)
    except (IntegrityError, OperationalError):
        log.exception("channel %s: delivery not stored, the provider will retry", channel.id)
        return respond(NOT_STORED)
    finally:
        _load.end()
    return respond(taken_in(result, busy=busy))


class WebhookShortcut:
    """Middleware, right after ``SecurityMiddleware``: a delivery to /hooks/ goes straight to
    the webhook view. Sessions, CSRF, the locale, authentication, messages and the rest of the
    stack mean nothing to a provider's signed request, and cost more than storing it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/hooks/"):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and match.func is webhook:
                response = webhook(request, **match.kwargs)
                # What CommonMiddleware would add: without it the answer goes out chunked.
                if not response.streaming and not response.has_header("Content-Length"):
                    response.headers["Content-Length"] = str(len(response.content))
                return response
        return self.get_response(request)
