"""The web front ``voronka serve`` runs under uvicorn: providers' webhooks taken in on the event
loop, the rest of the site by Django in a thread pool.

A provider's delivery under load is a few hundred microseconds of work (check the signature,
parse, queue the events for the group commit), less than a thread-per-request server spends on
the request alone. So the front answers the common delivery itself, on the event loop: a POST to
a channel's /hooks/ URL whose channel is known (cached), while the process is busy with
deliveries (another one in flight, or one taken in within ``BUSY_SECONDS``), signed right and
readable. Its events go to this process's ``GroupCommit`` and the
answer, 200, is sent once they are committed, as the webhook view would (a database error: 503,
the provider delivers again).

Everything else is handed, untouched, to Django's WSGI application in a pool of threads: the
site's pages, the API, the site chat's long polls (a held poll holds a thread, never the loop),
and every delivery the front does not answer itself — an idle
server's (the view processes it before it answers), a first one to an unknown channel, a
refused, oversized or unreadable one, a GET handshake. The webhook view
(``voronka.inbox.webhooks``) then applies every rule as before: the front only takes the path
on which the view would have stored the events and answered 200, and gives the view the body it
read when it steps aside.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voronka.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIRequest  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

site = get_wsgi_application()

from django.db import close_old_connections  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from voronka.inbox import webhooks  # noqa: E402
from voronka.inbox.groupcommit import GroupCommit  # noqa: E402

log = logging.getLogger(__name__)

#: The path of a channel's webhook URL (``inbox/urls.py``: ``hooks/<slug:kind>/<str:key>/`` and
#: ``…/events/<path:event>``).
HOOK_PATH = re.compile(r"/hooks/(?P<kind>[-a-zA-Z0-9_]+)/(?P<key>[^/]+)/(?:events/(?P<event>.+))?")
#: The providers whose ``verify`` and ``parse`` read only the request (no database), so they can
#: run on the event loop. The site chat and email take nothing at /hooks/.
FRONT_KINDS = frozenset({"telegram", "whatsapp", "instagram", "twilio", "mango", "generic_pbx"})
#: A server that took a delivery in this long ago is still busy: between two deliveries of a
#: steady stream none may be in flight, and each would be processed before its answer.
BUSY_SECONDS = 1.0
#: Threads for the site (pages, API, long polls) per server process.
SITE_THREADS = int(os.environ.get("WEB_THREADS", "16"))


class _ToTheView(Exception):
    """A delivery the webhook view answers."""


class _Channel:
    """A cached channel as ``verify`` and ``parse`` see it: its credentials decrypted once."""

    __slots__ = ("_channel", "credentials")

    def __init__(self, channel):
        self._channel = channel
        self.credentials = channel.credentials

    def __getattr__(self, name):
        return getattr(self._channel, name)


class Front:
    """The ASGI application: see the module's docstring."""

    def __init__(self, wsgi_app, threads: int = SITE_THREADS):
        self.site = WSGIMiddleware(wsgi_app, workers=threads)
        self.group = GroupCommit()
        # Waking the worker reads and writes the database: not on the loop.
        self.chores = ThreadPoolExecutor(max_workers=1, thread_name_prefix="front-chores")
        self.seen: dict[int, tuple[object, _Channel]] = {}
        self.last_delivery = float("-inf")

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            match = HOOK_PATH.fullmatch(scope["path"])
            if match is not None and await self._delivery(scope, receive, send, match):
                return
        elif scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        await self.site(scope, receive, send)

    def _known(self, kind: str, key: str):
        """The cached channel and its provider when the front may take its deliveries."""
        channel, provider = webhooks.cached_channel(kind, key)
        if provider is None or kind not in FRONT_KINDS:
            return None, None
        seen = self.seen.get(channel.id)
        if seen is None or seen[0] is not channel:
            if len(self.seen) > 1000:
                self.seen.clear()
            seen = self.seen[channel.id] = (channel, _Channel(channel))
        return seen[1], provider

    async def _delivery(self, scope, receive, send, match) -> bool:
        """Take a delivery in and answer it; False (nothing read, nothing sent) when the
        webhook view is to have it."""
        now = time.monotonic()
        if not webhooks.is_busy() and now - self.last_delivery > BUSY_SECONDS:
            return False  # an idle server processes the delivery before it answers
        self.last_delivery = now
        kind, key, event = match["kind"], match["key"], match["event"]
        channel, provider = self._known(kind, key)
        if provider is None or (event is not None and event not in provider.event_paths):
            return False
        length = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else None
        if length is None or length > webhooks.MAX_BODY_BYTES:
            return False
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return True  # the provider gave up; it delivers again
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        webhooks.delivery_begins()
        try:
            try:
                request = ASGIRequest(scope, io.BytesIO(body))
                if settings.SECURE_SSL_REDIRECT and not request.is_secure():
                    raise _ToTheView("SecurityMiddleware redirects it")
                provider.verify(channel, request)
                events = provider.parse(channel, body)
            except Exception:
                # Refused or unreadable: the view answers it (and logs it, keeps the dead
                # letter) with the same body.
                await self.site(scope, _replay(body, receive), send)
                return True
            try:
                result = await self.group.submit_async(channel._channel, events)
            except Exception:
                log.exception(
                    "channel %s: delivery not stored, the provider will retry", channel.id
                )
                await _send(send, webhooks.NOT_STORED)
                return True
        finally:
            webhooks.delivery_ends()
        loop = asyncio.get_running_loop()
        answer = webhooks.taken_in(
            result, busy=True, wake=lambda: loop.run_in_executor(self.chores, _wake_worker)
        )
        await _send(send, answer)
        return True


def _wake_worker() -> None:
    # As a request would: a connection past its age is dropped before and after use.
    close_old_connections()
    try:
        webhooks.enqueue_processing()
    finally:
        close_old_connections()


def _replay(body: bytes, receive):
    """``receive`` for the WSGI side once the front has read the body: the body, then on."""
    given = False

    async def replayed():
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _send(send, answer: webhooks.Answer) -> None:
    headers = [(name.lower().encode(), value.encode()) for name, value in answer.headers.items()]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _warm_up() -> None:
    """Load what the first requests would (the URLs and every view they import, the providers),
    before the server takes connections rather than while they wait; then leave all of it out
    of the garbage collector's full passes (``voronka.core.memory``)."""
    from voronka.core.memory import freeze_loaded
    from voronka.inbox.channels import provider_for
    from voronka.inbox.models import ChannelKind

    get_resolver().url_patterns  # noqa: B018
    for kind in ChannelKind.values:
        provider_for(kind)
    freeze_loaded()


_warm_up()
application = Front(site)
