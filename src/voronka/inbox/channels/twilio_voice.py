"""Twilio Voice: call status and recording status callbacks, and calls placed from the CRM.

Twilio POSTs form-encoded callbacks (https://www.twilio.com/docs/voice/api/call-resource and
…/recording) and signs each with ``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed with the
account's auth token, of the full URL Twilio requested followed by every POST parameter's name
and value, sorted by name. The URL is the public one: behind a proxy that rewrites the scheme or
host, set ``VORONKA_PUBLIC_URL`` (e.g. https://crm.example.com) and it is used instead of what
the request says.

A status callback (``CallSid``, ``CallStatus``, ``From``, ``To``, ``Direction``,
``CallDuration``, ``Timestamp``) is one event per call and status (``CallSid:CallStatus``): the
same status delivered again is a duplicate, the call's next status is a new event, and all of a
call's events land on its one communication (the first creates it, the final status gives the
outcome and the duration). A recording status callback (``RecordingSid``, ``RecordingUrl``,
``RecordingStatus``, ``RecordingDuration``) that says ``completed`` has the worker fetch the
recording.

Calls from the CRM go through the Calls API: ``POST {base}/2010-04-01/Accounts/{AccountSid}/
Calls.json`` rings the client from our Twilio number and connects the manager's phone when the
client answers. The base is ``VORONKA_TWILIO_API_BASE`` (default https://api.twilio.com).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import quoteattr

import httpx
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from voronka.clients.phones import normalise_phone

from .base import (
    CredentialField,
    Forbidden,
    InboundEvent,
    Malformed,
    Provider,
    Sender,
    SendFailed,
    Unauthenticated,
)

SIGNATURE_HEADER = "X-Twilio-Signature"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
#: Twilio's CallStatus → our outcome; a status not listed says nothing of the outcome yet.
OUTCOMES = {
    "in-progress": "answered",
    "completed": "answered",
    "busy": "busy",
    "no-answer": "missed",
    "canceled": "missed",
    "failed": "missed",
}
STATUSES = ("queued", "initiated", "ringing", *OUTCOMES)
FINAL = ("completed", "busy", "no-answer", "canceled", "failed")
RECORDING_STATUSES = ("in-progress", "completed", "absent", "failed")


def api_base() -> str:
    return getattr(settings, "VORONKA_TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")


def public_url(request) -> str:
    """The URL the provider requested, as it saw it: ``VORONKA_PUBLIC_URL`` and the path with
    its query when that setting is there, else the request's own absolute URL."""
    base = getattr(settings, "VORONKA_PUBLIC_URL", "")
    if base:
        return base.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """``X-Twilio-Signature`` of a POST of ``params`` to ``url`` (what Twilio computes)."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL with and without the scheme's default port: Twilio signs either form."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    bare = urlunsplit(parts._replace(netloc=host))
    variants = [url, bare]
    if default and parts.port in (None, default):
        variants.append(urlunsplit(parts._replace(netloc=f"{host}:{default}")))
    return list(dict.fromkeys(variants))


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed(f"the body is not form-encoded: {exc}") from exc
    return dict(pairs)


def _when(value: str) -> datetime:
    """Twilio's ``Timestamp`` (RFC 2822); missing, the time of delivery."""
    if not value:
        return timezone.now()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise Malformed("Timestamp must be an RFC 2822 date") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _seconds(value: str, what: str) -> int | None:
    if value == "":
        return None
    if not value.isdigit() or len(value) > 7:
        raise Malformed(f"{what} must be whole seconds")
    return int(value)


def _required(form: dict, name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise Malformed(f"{name} is required")
    if len(value) > 1000:
        raise Malformed(f"{name} is too long")
    return value


class TwilioVoiceProvider(Provider):
    kind = "twilio"
    credential_fields = (
        CredentialField("account_sid", _("Account SID"), _("From the Twilio console: AC…")),
        CredentialField(
            "auth_token", _("Auth token"), _("From the Twilio console; it signs the callbacks.")
        ),
        CredentialField(
            "phone_number",
            _("Twilio number"),
            _("The number calls from the CRM are made from, e.g. +74951234567."),
        ),
    )
    kept_headers = ("content-type", "user-agent", "i-twilio-idempotency-token")
    can_call = True

    # -- Inbound --------------------------------------------------------------------------------

    def verify(self, channel, request) -> None:
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            raise Unauthenticated(f"no {SIGNATURE_HEADER} header")
        token = channel.credentials.get("auth_token", "")
        try:
            params = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise Forbidden("wrong signature") from None
        for url in _url_variants(public_url(request)) if token else ():
            if hmac.compare_digest(given.encode(), signature(token, url, params).encode()):
                return
        raise Forbidden("wrong signature")

    def parse(self, channel, body: bytes) -> list[InboundEvent]:
        form = _form(body)
        call_sid = _required(form, "CallSid")
        account = _required(form, "AccountSid")
        if account != channel.credentials.get("account_sid", ""):
            raise Malformed("AccountSid is not this channel's account")
        if "RecordingSid" in form:
            return [self._recording(channel, form, call_sid)]
        status = _required(form, "CallStatus")
        if status not in STATUSES:
            raise Malformed(f"unknown CallStatus «{status[:40]}»")
        direction = "in" if form.get("Direction", "inbound") == "inbound" else "out"
        caller, callee = _required(form, "From"), _required(form, "To")
        client_raw, line_raw = (caller, callee) if direction == "in" else (callee, caller)
        client = normalise_phone(client_raw)
        if client is None:
            raise Malformed(f"«{client_raw[:40]}» is not a phone number")
        duration = _seconds(form.get("CallDuration", ""), "CallDuration")
        if duration is None and status in FINAL and status != "completed":
            duration = 0
        return [
            InboundEvent(
                event_id=f"{call_sid}:{status}",
                kind="call",
                chat_id=client,
                occurred_at=_when(form.get("Timestamp", "")),
                sender=Sender(phone=client, name=form.get("CallerName", "")[:120]),
                direction=direction,
                external_id=call_sid,
                counterpart=client,
                line=normalise_phone(line_raw) or line_raw,
                duration_seconds=duration,
                outcome=OUTCOMES.get(status, ""),
                recording_ref=self._recording_url(form) if status == "completed" else "",
                raw=form,
            )
        ]

    @staticmethod
    def _recording_url(form: dict) -> str:
        url = form.get("RecordingUrl", "")
        return url if url.startswith(("https://", "http://")) else ""

    def _recording(self, channel, form: dict, call_sid: str) -> InboundEvent:
        recording_sid = _required(form, "RecordingSid")
        status = _required(form, "RecordingStatus")
        if status not in RECORDING_STATUSES:
            raise Malformed(f"unknown RecordingStatus «{status[:40]}»")
        ready = status == "completed"
        url = self._recording_url(form)
        if ready and not url:
            raise Malformed("RecordingUrl is required for a completed recording")
        _seconds(form.get("RecordingDuration", ""), "RecordingDuration")
        return InboundEvent(
            event_id=f"{call_sid}:recording:{recording_sid}:{status}",
            kind="recording" if ready else "status",
            chat_id="",
            occurred_at=_when(form.get("RecordingStartTime", "")),
            external_id=call_sid,
            recording_ref=url if ready else "",
            raw=form,
        )

    # -- Outbound -------------------------------------------------------------------------------

    def _auth(self, channel) -> tuple[str, str]:
        creds = channel.credentials
        sid, token = creds.get("account_sid", ""), creds.get("auth_token", "")
        if not sid or not token:
            raise SendFailed(_("The channel has no Account SID or auth token."))
        return sid, token

    def place_call(self, channel, *, client_phone: str, manager_phone: str, callback_url: str):
        """Ring the client from our number; when they answer, connect the manager's phone.
        Twilio reports the call's statuses to ``callback_url``; the call's SID comes back."""
        sid, token = self._auth(channel)
        ours = channel.credentials.get("phone_number", "")
        if not ours:
            raise SendFailed(_("The channel has no Twilio number to call from."))
        twiml = f"<Response><Dial callerId={quoteattr(ours)}>{manager_phone}</Dial></Response>"
        form = [
            ("To", client_phone),
            ("From", ours),
            ("Twiml", twiml),
            ("StatusCallback", callback_url),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
        ]
        try:
            with httpx.Client(timeout=TIMEOUT, auth=(sid, token)) as client:
                response = client.post(
                    f"{api_base()}/2010-04-01/Accounts/{sid}/Calls.json",
                    content=urlencode(form).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SendFailed(_("Twilio could not be reached: %(e)s") % {"e": exc}) from exc
        if response.status_code >= 300 or not isinstance(answer, dict) or not answer.get("sid"):
            message = answer.get("message") if isinstance(answer, dict) else None
            raise SendFailed(_("Twilio refused: %(e)s") % {"e": message or response.status_code})
        return str(answer["sid"])

    def fetch_recording(self, channel, source: str) -> tuple[bytes, str, str]:
        """The recording at ``source`` (the callback's RecordingUrl) as MP3: content, type, name.

        Twilio serves it with the account's credentials when the account protects its media.
        """
        sid, token = self._auth(channel)
        url = source if source.endswith((".mp3", ".wav")) else source + ".mp3"
        # The account's credentials go to Twilio's own API host only.
        host = urlsplit(url).hostname or ""
        ours = host == urlsplit(api_base()).hostname or host.endswith(".twilio.com")
        auth = (sid, token) if ours else None
        with httpx.Client(timeout=TIMEOUT, auth=auth, follow_redirects=True) as client:
            response = client.get(url)
            response.raise_for_status()
        name = urlsplit(url).path.rsplit("/", 1)[-1] or "recording.mp3"
        content_type = response.headers.get("content-type", "audio/mpeg").split(";")[0]
        return response.content, content_type, name


provider = TwilioVoiceProvider()
