"""The website chat widget's endpoints: its script and styles, and what the visitor does.

``/widget/<key>.js`` and ``/widget/widget.css`` are served from the app's static folder with
caching headers. Everything under ``/widget/<key>/`` is for the widget's ``fetch`` calls from the
company's site:

- CORS: the page's ``Origin`` must be one of the channel's allowed origins; it is reflected
  then, a preflight ``OPTIONS`` is answered, any other origin (or none) gets 403.
- No Voronka session and no CSRF cookie: the visitor carries a signed token in the
  ``X-Visitor-Token`` header (``sitechat.visitor_token``), kept in the widget's localStorage.
- Rate limits in the cache, before any database work: per address and per visitor; over them,
  429 with ``Retry-After``.
- Updates by long polling (``poll``): the request is held up to ``VORONKA_SITECHAT_POLL_SECONDS``
  (20 s), looking for new messages once a second. Server-sent events would hold a connection for
  as long as the page is open; ``voronka serve`` runs the site's views on a pool of threads
  (``voronka.front``), where every open request holds a thread, so a short hold that ends and
  is renewed keeps the count of busy threads bounded. At most ``VORONKA_SITECHAT_HELD_POLLS``
  polls are held per process; past that a poll answers at once and the widget asks again a
  few seconds later, so visitors never take the threads the managers' pages need.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
import time
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, OperationalError
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.csrf import csrf_exempt

from voronka.core.errors import DomainError

from .channels import sitechat
from .channels.base import Malformed
from .channels.sitechat import Refused
from .models import ChannelConfig, CommKind, Communication, Conversation
from .webhooks import keep_dead_letter, parse_and_ingest

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static" / "inbox" / "sitechat"
HISTORY = 50
PER_POLL = 100
TOKEN_HEADER = "X-Visitor-Token"
#: A form's envelope id is the widget's id with its kind in front (a message's is as it came).
FORM_PREFIXES = ("contact-", "offline-")


def poll_seconds() -> float:
    return float(getattr(settings, "VORONKA_SITECHAT_POLL_SECONDS", 20))


def _held_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(int(getattr(settings, "VORONKA_SITECHAT_HELD_POLLS", 8)))


HELD = _held_slots()


# --- The script and its styles -------------------------------------------------------------------


@cache
def _asset(name: str) -> tuple[bytes, str]:
    content = (STATIC / name).read_bytes()
    return content, hashlib.sha256(content).hexdigest()[:16]


@cache
def _gzipped(name: str) -> bytes:
    return gzip.compress(_asset(name)[0], compresslevel=9, mtime=0)


def _serve_asset(request, name: str, content_type: str, max_age: int) -> HttpResponse:
    content, digest = _asset(name)
    packed = "gzip" in request.headers.get("Accept-Encoding", "")
    etag = f'"{digest}-gz"' if packed else f'"{digest}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    elif packed:
        response = HttpResponse(_gzipped(name), content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(content, content_type=content_type)
    patch_vary_headers(response, ["Accept-Encoding"])
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def script(request, key: str):
    """The widget itself; the same file for every channel, which finds its key in its own URL.
    An hour's caching: a new version reaches the sites within the hour."""
    if _channel(key) is None:
        raise Http404
    return _serve_asset(request, "widget.js", "text/javascript; charset=utf-8", 3600)


def styles(request):
    """The widget's styles; the script asks for them with their digest, so they keep a year."""
    long = request.GET.get("v") == _asset("widget.css")[1]
    return _serve_asset(
        request, "widget.css", "text/css; charset=utf-8", 31536000 if long else 3600
    )


# --- Channels by key, cached briefly in the process ----------------------------------------------

_channels: dict[str, tuple[float, ChannelConfig | None]] = {}
_channels_lock = threading.Lock()
CHANNEL_TTL = 10.0


def _channel(key: str) -> ChannelConfig | None:
    """The enabled site chat channel with this key. Kept for ten seconds in the process (an
    unknown key too), so that a flood of requests does not become a flood of queries."""
    now = time.monotonic()
    hit = _channels.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    channel = (
        ChannelConfig.objects.filter(kind="site_chat", webhook_key=key[:64], enabled=True)
        .select_related("workspace")
        .first()
    )
    with _channels_lock:
        if len(_channels) > 10_000:
            _channels.clear()
        _channels[key] = (now + CHANNEL_TTL, channel)
    return channel


@receiver(post_save, sender=ChannelConfig)
def _forget_channel(sender, instance, **kwargs):
    with _channels_lock:
        _channels.pop(instance.webhook_key, None)


# --- The frame of every widget endpoint ----------------------------------------------------------


def client_ip(request) -> str:
    """The visitor's address: the TCP peer, or behind ``VORONKA_PROXY_HOPS`` proxies of our own
    the address the outermost of them saw (counted from the right of X-Forwarded-For)."""
    hops = int(getattr(settings, "VORONKA_PROXY_HOPS", 0))
    if hops:
        chain = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
        chain = [a for a in chain if a]
        if len(chain) >= hops:
            return chain[-hops][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def _json(status: int, **body) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _cors(response, origin: str):
    response["Access-Control-Allow-Origin"] = origin
    patch_vary_headers(response, ["Origin"])
    response["Access-Control-Expose-Headers"] = "Retry-After"
    response["Cache-Control"] = "no-store"
    return response


def _too_many(wait: int, origin: str):
    response = _json(429, error="rate_limited", reason=_("Too many messages: wait a little."))
    response["Retry-After"] = str(wait)
    return _cors(response, origin)


def widget_endpoint(*, method: str, writes: bool = False, needs_visitor: bool = True):
    """Wrap a widget endpoint: channel by key, CORS, preflight, size, rate limits, the visitor's
    token and the channel's language; the view gets ``(request, channel, visitor, data)``."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, key: str):
            channel = _channel(key)
            if channel is None:
                return _json(404, error="unknown_channel")
            origin = request.headers.get("Origin", "")
            if not sitechat.origin_allowed(channel, origin):
                log.info("site chat %s: origin %r refused", channel.id, origin[:200])
                return _json(403, error="origin_not_allowed")
            if request.method == "OPTIONS":
                response = _cors(HttpResponse(status=204), origin)
                response["Access-Control-Allow-Methods"] = f"{method}, OPTIONS"
                response["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
                response["Access-Control-Max-Age"] = "600"
                return response
            if request.method != method:
                return _cors(_json(405, error="method_not_allowed"), origin)
            ip = client_ip(request)
            wait = sitechat.throttle("ip", ip) or (writes and sitechat.throttle("ip_write", ip))
            if wait:
                return _too_many(wait, origin)
            options = sitechat.options_of(channel)
            with translation.override(options["language"]):
                response = _handle(view, request, channel, origin, writes, needs_visitor)
            return _cors(response, origin)

        return wrapper

    return decorate


def _handle(view, request, channel, origin, writes, needs_visitor):
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > sitechat.MAX_BODY_BYTES:
        return _json(413, error="too_large", reason=_("The message is too long."))
    data = {}
    if request.method == "POST":
        body = request.body
        if len(body) > sitechat.MAX_BODY_BYTES:
            return _json(413, error="too_large", reason=_("The message is too long."))
        try:
            data = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            return _json(400, error="bad_json", reason=_("Something went wrong: reload the page."))
    visitor = sitechat.visitor_of(channel, request.headers.get(TOKEN_HEADER, ""))
    if needs_visitor and visitor is None:
        return _json(401, error="session", reason=_("The chat session is over: reload the page."))
    if writes and visitor is not None:
        wait = sitechat.throttle("visitor", visitor)
        if wait:
            return _too_many(wait, origin)
    try:
        return view(request, channel, visitor, data)
    except Refused as exc:
        return _json(exc.status, error=exc.code, reason=exc.message, fields=exc.fields)


# --- What the visitor does -----------------------------------------------------------------------


def _strings(options: dict) -> dict:
    return {
        "title": _("Chat with us"),
        "greeting": options["greeting"] or _("Hello! Ask us anything — we answer here."),
        "open": _("Open the chat"),
        "close": _("Close the chat"),
        "placeholder": _("Your message…"),
        "send": _("Send"),
        "leave_contact": _("Leave a phone or email"),
        "contact_hint": _("We will call or write back if you leave the page."),
        "name": _("Your name"),
        "phone": _("Phone"),
        "email": pgettext("site chat field", "Email"),
        "message": _("Your question"),
        "save": _("Save"),
        "contact_saved": _("Thank you! We will get in touch."),
        "offline_title": _("We are offline now"),
        "offline_text": _("Leave your question and a phone or email: we will answer soon."),
        "submit": _("Send the request"),
        "offline_sent": _("Thank you! Your request is received; we will get in touch."),
        "failed": _("The message was not sent. Try again."),
        "manager": _("Manager"),
        "you": _("You"),
    }


@widget_endpoint(method="GET", needs_visitor=False)
def config(request, channel, visitor, data):
    """The widget's look, words (in the channel's language) and whether the chat is staffed."""
    options = sitechat.options_of(channel)
    return _json(
        200,
        colour=options["colour"],
        position=options["position"],
        language=options["language"],
        online=sitechat.is_online(options, channel.workspace.timezone),
        max_chars=sitechat.MAX_MESSAGE_CHARS,
        styles=request.build_absolute_uri(f"/widget/widget.css?v={_asset('widget.css')[1]}"),
        strings=_strings(options),
    )


def _conversation_id(channel, visitor: str) -> int | None:
    return (
        Conversation.objects.filter(channel=channel, external_id=visitor)
        .values_list("id", flat=True)
        .first()
    )


def _messages(conversation_id: int | None, *, after: int = 0, last: int = 0) -> list[dict]:
    if conversation_id is None:
        return []
    qs = Communication.objects.filter(
        conversation_id=conversation_id, kind=CommKind.MESSAGE, id__gt=after
    ).select_related("author")
    rows = list(qs.order_by("-id")[:last]) if last else list(qs.order_by("id")[:PER_POLL])
    rows.sort(key=lambda c: c.id)
    # The contact details and offline requests are the CRM's record of them, in its own words;
    # the visitor saw their form and its thanks.
    rows = [c for c in rows if not c.external_id.startswith(FORM_PREFIXES)]
    return [
        {
            "id": c.id,
            "from": "visitor" if c.direction == "in" else "manager",
            "name": (c.author.first_name if c.author and c.direction != "in" else ""),
            "text": c.body,
            "at": c.occurred_at.isoformat(),
        }
        for c in rows
    ]


@widget_endpoint(method="POST", writes=True, needs_visitor=False)
def session(request, channel, visitor, data):
    """Start a visitor's session, or resume it from the token in the widget's storage: the
    token (renewed) and the conversation so far."""
    if visitor is None:
        visitor = sitechat.new_visitor()
    options = sitechat.options_of(channel)
    return _json(
        200,
        token=sitechat.visitor_token(channel, visitor),
        online=sitechat.is_online(options, channel.workspace.timezone),
        messages=_messages(_conversation_id(channel, visitor), last=HISTORY),
    )


def _client_id(data: dict) -> str:
    value = data.get("id")
    if not isinstance(value, str) or not sitechat.CLIENT_ID_RE.match(value) or len(value) > 48:
        raise Refused("invalid", _("Something went wrong: reload the page."), {"id": "invalid"})
    return value


def _take_in(channel, body: bytes) -> JsonResponse | None:
    """Ingest an envelope the way a webhook's delivery is; None when it is stored. When the
    workspace cannot take it (no manager, no pipeline) it is kept as a dead letter for the head
    to replay, and the visitor is told it was received."""
    try:
        parse_and_ingest(sitechat.provider, channel, body)
    except (Malformed, DomainError) as exc:
        reason = exc.reason if isinstance(exc, Malformed) else exc.message
        letter = keep_dead_letter(channel, body, {}, reason)
        log.warning("site chat %s: dead letter %s: %s", channel.id, letter.id, reason)
        return _json(202, ok=True, held=True)
    except (IntegrityError, OperationalError):
        log.exception("site chat %s: message not stored", channel.id)
        response = _json(503, error="busy", reason=_("The message was not sent. Try again."))
        response["Retry-After"] = "2"
        return response
    return None


@widget_endpoint(method="POST", writes=True)
def message(request, channel, visitor, data):
    """The visitor writes: the message goes to the inbox like any channel's."""
    client_id = "m-" + _client_id(data)
    text = sitechat._text(data.get("text"), "text", sitechat.MAX_MESSAGE_CHARS)
    if not text:
        raise Refused("empty", _("Write a message."), {"text": "required"})
    failed = _take_in(channel, sitechat.envelope("message", visitor, client_id, text=text))
    return failed or _json(201, ok=True)


@widget_endpoint(method="POST", writes=True)
def contact(request, channel, visitor, data):
    """The visitor leaves a phone or an email: matched to a contact, or the new one keeps it."""
    client_id = "contact-" + _client_id(data)
    details = sitechat.clean_details(data, need_text=False)
    failed = _take_in(
        channel,
        sitechat.envelope(
            "contact",
            visitor,
            client_id,
            name=details["name"],
            phone=details["phone"],
            email=details["email"],
        ),
    )
    if failed:
        return failed
    sitechat.settle_contact(channel, visitor, details)
    return _json(201, ok=True)


@widget_endpoint(method="POST", writes=True)
def offline(request, channel, visitor, data):
    """The offline form: name, phone or email and the question become a lead."""
    client_id = "offline-" + _client_id(data)
    details = sitechat.clean_details(data, need_text=True)
    failed = _take_in(channel, sitechat.envelope("offline", visitor, client_id, **details))
    if failed:
        return failed
    sitechat.settle_contact(channel, visitor, details)
    return _json(201, ok=True)


@widget_endpoint(method="GET")
def poll(request, channel, visitor, data):
    """New messages after ``after`` (a message id), waiting up to the hold for the first one."""
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = -1
    if not 0 <= after < 2**62:
        return _json(400, error="bad_after", reason=_("Something went wrong: reload the page."))
    conversation_id = _conversation_id(channel, visitor)
    found = _messages(conversation_id, after=after)
    held = False
    if not found and HELD.acquire(blocking=False):
        held = True
        try:
            deadline = time.monotonic() + poll_seconds()
            while not found and time.monotonic() < deadline:
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
                if conversation_id is None:
                    conversation_id = _conversation_id(channel, visitor)
                found = _messages(conversation_id, after=after)
        finally:
            HELD.release()
    # Not held (every slot taken): the widget asks again shortly instead.
    return _json(200, messages=found, next_poll_ms=0 if held or found else 5000)
