"""Mango Office VPBX: call, summary and recording events, the callback command, recordings.

Mango POSTs form-encoded events to the URL given in its «API connector» with the suffix of the
event: ``<url>/events/call``, ``<url>/events/summary``, ``<url>/events/recording`` (and others
the CRM has no use for, acknowledged and not kept). Each has three fields: ``vpbx_api_key`` (the
account's key), ``json`` (the event) and ``sign``, the hex SHA-256 of key + json + salt, the salt
being the account's secret. A wrong key or sign is refused before the json is read.

- ``/events/call``: a call leg's state (``call_state`` Appeared, Connected, OnHold,
  Disconnected) with ``entry_id`` (the whole call), ``call_id`` (the leg), ``from`` and ``to``
  (``number``, ``extension``), ``timestamp`` and ``seq``. The first event of an entry puts the
  call on the timeline; a leg Connected at an extension names the manager who answered.
- ``/events/summary``: the entry's end: ``call_direction`` (1 incoming, 2 outgoing, 0 internal,
  not kept), ``create_time``, ``forward_time``, ``talk_time``, ``end_time`` (Unix seconds),
  ``entry_result`` (1 answered, 0 not) and ``disconnect_reason``: the duration and the outcome.
  A busy line is told by its disconnect reason; the codes that mean it are the channel option
  ``busy_reasons`` (a list of numbers), the rest of the unanswered calls are missed.
- ``/events/recording``: ``recording_id``, ``recording_state`` (Started, Continued, Completed),
  ``entry_id``: a completed one has the worker download the file with
  ``/vpbx/queries/recording/post/``.

Calls from the CRM: ``/vpbx/commands/callback`` rings the manager's extension, then the client.
The API base is ``VORONKA_MANGO_API_BASE`` (default https://app.mango-office.ru).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
from django import forms
from django.conf import settings
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

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: The URL suffixes Mango posts events to; others are not Mango's.
EVENT_PATHS = ("call", "summary", "recording", "dtmf", "sms", "callback", "ping", "record/added")
CALL_STATES = ("Appeared", "Connected", "OnHold", "Disconnected")
RECORDING_STATES = ("Started", "Continued", "Completed")
#: Mango's command result for "done".
SUCCESS = 1000


class CodesField(forms.CharField):
    """Whole numbers separated by commas or spaces («1100, 1110»), kept as a sorted list."""

    default_error_messages = {
        "invalid": _("Numbers separated by commas, e.g. 1100, 1110."),
        "too_many": _("At most %(n)s codes."),
    }
    MAX_CODES = 50

    def to_python(self, value):
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        return super().to_python(value)

    def clean(self, value):
        text = super().clean(value)
        parts = [p for p in text.replace(",", " ").replace(";", " ").split() if p]
        try:
            codes = sorted({int(p) for p in parts})
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(c < 0 or c > 999_999 for c in codes):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(codes) > self.MAX_CODES:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"n": self.MAX_CODES}
            )
        return codes


def api_base() -> str:
    return getattr(settings, "VORONKA_MANGO_API_BASE", "https://app.mango-office.ru").rstrip("/")


def sign(api_key: str, payload: str, salt: str) -> str:
    """The ``sign`` field of a request or an event whose ``json`` is ``payload``."""
    return hashlib.sha256((api_key + payload + salt).encode()).hexdigest()


def encode(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _form(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


def _obj(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{what} must be an object")
    return value


def _text(obj: dict, key: str) -> str:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return ""
    if not isinstance(value, (str, int)):
        raise Malformed(f"{key} must be a string")
    return str(value).strip()[:128]


def _int(obj: dict, key: str, *, required: bool = False) -> int:
    value = obj.get(key)
    if value in (None, "") and not required:
        return 0
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**11:
        raise Malformed(f"{key} must be a whole number")
    return value


def _time(obj: dict, key: str) -> datetime:
    seconds = _int(obj, key, required=True)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise Malformed(f"{key} is out of range") from exc


def _required(obj: dict, key: str) -> str:
    value = _text(obj, key)
    if not value:
        raise Malformed(f"{key} is required")
    return value


def _sides(event: dict, direction: str) -> tuple[str, str, str]:
    """(client's number, our line, the manager's extension) of an event's ``from`` and ``to``."""
    caller, callee = _obj(event.get("from"), "from"), _obj(event.get("to"), "to")
    client_side, our_side = (caller, callee) if direction == "in" else (callee, caller)
    raw = _text(client_side, "number")
    client = normalise_phone(raw) if raw else None
    if client is None:
        raise Malformed(f"«{raw[:40]}» is not the client's phone number")
    line = _text(event, "line_number") or _text(callee, "line_number") or _text(our_side, "number")
    return client, normalise_phone(line) or line if line else "", _text(our_side, "extension")


class MangoProvider(Provider):
    kind = "mango"
    credential_fields = (
        CredentialField("api_key", _("API key"), _("«Unique code of your VPBX» in the connector.")),
        CredentialField("api_salt", _("API salt"), _("«Key for creating a signature».")),
    )
    kept_headers = ("content-type", "user-agent")
    event_paths = EVENT_PATHS
    can_call = True

    # -- Settings that are not secret ----------------------------------------------------------

    def option_fields(self) -> dict:
        return {
            "busy_reasons": CodesField(
                label=_("Disconnect reasons that mean «busy»"),
                required=False,
                max_length=400,
                help_text=_(
                    "The disconnect_reason codes of Mango's call summary that mean the line was "
                    "busy (see «Коды завершения вызова» in Mango's API reference), separated by "
                    "commas. Empty: every unanswered call is «missed»."
                ),
            ),
            "line_number": forms.RegexField(
                regex=r"^\+?[\d\s()-]{5,24}$",
                label=_("Line for calls from the CRM"),
                required=False,
                max_length=24,
                error_messages={"invalid": _("A phone number, digits only, e.g. 74951234567.")},
                help_text=_(
                    "The company's number the client sees on a call from the CRM, e.g. "
                    "74951234567. Empty: the one set in Mango for the extension."
                ),
            ),
        }

    def options_initial(self, options: dict) -> dict:
        initial = dict(options)
        if isinstance(initial.get("busy_reasons"), list):
            initial["busy_reasons"] = ", ".join(str(c) for c in initial["busy_reasons"])
        return initial

    def clean_options(self, values: dict) -> dict:
        line = (values.get("line_number") or "").strip()
        return {
            "busy_reasons": list(values.get("busy_reasons") or []),
            "line_number": "".join(ch for ch in line if ch.isdigit()),
        }

    # -- Inbound --------------------------------------------------------------------------------

    def verify(self, channel, request) -> None:
        form = _form(request.body)
        given_key, given_sign = form.get("vpbx_api_key", ""), form.get("sign", "")
        if not given_key or not given_sign:
            raise Unauthenticated("vpbx_api_key and sign are required")
        creds = channel.credentials
        key, salt = creds.get("api_key", ""), creds.get("api_salt", "")
        if not key or not salt or not hmac.compare_digest(given_key.encode(), key.encode()):
            raise Forbidden("wrong vpbx_api_key")
        expected = sign(key, form.get("json", ""), salt)
        if not hmac.compare_digest(given_sign.encode(), expected.encode()):
            raise Forbidden("wrong sign")

    def parse(self, channel, body: bytes) -> list[InboundEvent]:
        raw = _form(body).get("json")
        if raw is None:
            raise Malformed("the json field is required")
        try:
            event = json.loads(raw)
        except ValueError as exc:
            raise Malformed(f"json is not JSON: {exc}") from exc
        event = _obj(event, "the event")
        if "call_state" in event:
            return self._call(event)
        if "entry_result" in event or "call_direction" in event:
            return self._summary(channel, event)
        if "recording_state" in event:
            return [self._recording(event)]
        return []  # DTMF, SMS, ping…: nothing to file

    def _call(self, event: dict) -> list[InboundEvent]:
        state = _required(event, "call_state")
        if state not in CALL_STATES:
            raise Malformed(f"unknown call_state «{state[:40]}»")
        entry_id, call_id = _required(event, "entry_id"), _required(event, "call_id")
        caller, callee = _obj(event.get("from"), "from"), _obj(event.get("to"), "to")
        ours_calls = bool(_text(caller, "extension")) and not _text(callee, "extension")
        if _text(caller, "extension") and _text(callee, "extension"):
            return []  # an internal call between colleagues
        direction = "out" if ours_calls else "in"
        if not _text(caller if direction == "in" else callee, "number"):
            return []  # a leg inside the PBX (IVR, queue) with no client's number on it
        client, line, extension = _sides(event, direction)
        seq = _int(event, "seq")
        return [
            InboundEvent(
                event_id=f"call:{call_id}:{seq}:{state}",
                kind="call",
                chat_id=client,
                occurred_at=_time(event, "timestamp"),
                sender=Sender(phone=client),
                direction=direction,
                external_id=entry_id,
                counterpart=client,
                line=line,
                extension=extension,
                outcome="answered" if state == "Connected" and extension else "",
                raw=event,
            )
        ]

    def _summary(self, channel, event: dict) -> list[InboundEvent]:
        entry_id = _required(event, "entry_id")
        kind = _int(event, "call_direction")
        if kind not in (0, 1, 2):
            raise Malformed("call_direction must be 0, 1 or 2")
        if kind == 0:
            return []
        direction = "in" if kind == 1 else "out"
        client, line, extension = _sides(event, direction)
        talk, end = _int(event, "talk_time"), _int(event, "end_time")
        answered = _int(event, "entry_result") == 1
        if answered:
            outcome = "answered"
        else:
            busy = channel.options.get("busy_reasons") or []
            reason = _int(event, "disconnect_reason")
            outcome = "busy" if reason and reason in busy else "missed"
        return [
            InboundEvent(
                event_id=f"summary:{entry_id}",
                kind="call",
                chat_id=client,
                occurred_at=_time(event, "create_time"),
                sender=Sender(phone=client),
                direction=direction,
                external_id=entry_id,
                counterpart=client,
                line=line,
                extension=extension,
                duration_seconds=max(end - talk, 0) if answered and talk else 0,
                outcome=outcome,
                raw=event,
            )
        ]

    def _recording(self, event: dict) -> InboundEvent:
        recording_id = _required(event, "recording_id")
        state = _required(event, "recording_state")
        if state not in RECORDING_STATES:
            raise Malformed(f"unknown recording_state «{state[:40]}»")
        entry_id = _required(event, "entry_id")
        ready = state == "Completed"
        stamp = event.get("timestamp")
        return InboundEvent(
            event_id=f"recording:{recording_id}:{state}",
            kind="recording" if ready else "status",
            chat_id="",
            occurred_at=_time(event, "timestamp") if stamp else datetime.now(UTC),
            external_id=entry_id,
            extension=_text(event, "extension"),
            recording_ref=recording_id if ready else "",
            raw=event,
        )

    # -- Outbound -------------------------------------------------------------------------------

    def _post(self, channel, path: str, payload: dict, **client_options) -> httpx.Response:
        creds = channel.credentials
        key, salt = creds.get("api_key", ""), creds.get("api_salt", "")
        if not key or not salt:
            raise SendFailed(_("The channel has no API key or salt."))
        data = encode(payload)
        try:
            with httpx.Client(timeout=TIMEOUT, **client_options) as client:
                return client.post(
                    f"{api_base()}{path}",
                    data={"vpbx_api_key": key, "sign": sign(key, data, salt), "json": data},
                )
        except httpx.HTTPError as exc:
            raise SendFailed(_("Mango Office could not be reached: %(e)s") % {"e": exc}) from exc

    def place_call(self, channel, *, client_phone: str, extension: str, command_id: str = ""):
        """The callback command: Mango rings the manager's extension, then the client's number.
        The call itself arrives by the events; our command id comes back."""
        if not extension:
            raise SendFailed(_("Give the manager a PBX extension to call from."))
        command_id = command_id or "voronka-" + secrets.token_hex(8)
        payload = {
            "command_id": command_id,
            "from": {"extension": extension},
            "to_number": client_phone.lstrip("+"),
        }
        line = channel.options.get("line_number")
        if line:
            payload["line_number"] = str(line)
        response = self._post(channel, "/vpbx/commands/callback", payload)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        result = answer.get("result") if isinstance(answer, dict) else None
        if response.status_code >= 300 or result != SUCCESS:
            raise SendFailed(
                _("Mango Office refused: %(e)s") % {"e": result or response.status_code}
            )
        return command_id

    def fetch_recording(self, channel, source: str) -> tuple[bytes, str, str]:
        """Download the recording ``source`` (its recording_id): content, type, file name."""
        response = self._post(
            channel,
            "/vpbx/queries/recording/post/",
            {"recording_id": source, "action": "download"},
            follow_redirects=True,
        )
        response.raise_for_status()
        content_type = response.headers.get("content-type", "").split(";")[0]
        if not content_type.startswith("audio/"):
            raise SendFailed(_("Mango Office sent no audio: %(t)s") % {"t": content_type or "?"})
        return response.content, content_type, "recording.mp3"


provider = MangoProvider()
