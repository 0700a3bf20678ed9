"""What the telephony tests share: Twilio and Mango channels, their callbacks signed the
providers' way, and a local server standing in for their APIs and their recording files."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from voronka.inbox.actions import do_create_channel
from voronka.inbox.channels.mango import encode, sign

ACCOUNT_SID = "AC" + "3f" * 16
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
TWILIO_NUMBER = "+74951230000"
MANGO_KEY = "mango-vpbx-api-key-0123456789"
MANGO_SALT = "mango-vpbx-api-salt-abcdef"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ProviderServer:
    """Records every request byte for byte; answers what the test queued, else ``default``."""

    requests: list[Request] = field(default_factory=list)
    answers: list[tuple[int, bytes, str]] = field(default_factory=list)
    default: tuple[int, bytes, str] = (200, b"{}", "application/json")
    url: str = ""

    def answer(self, status: int, body, content_type: str = "application/json") -> None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.answers.append((status, body, content_type))


def start_server() -> tuple[ProviderServer, ThreadingHTTPServer]:
    recorder = ProviderServer()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            recorder.requests.append(Request(self.command, self.path, headers, body))
            status, answer, content_type = (
                recorder.answers.pop(0) if recorder.answers else recorder.default
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    recorder.url = f"http://127.0.0.1:{server.server_port}"
    return recorder, server


@pytest.fixture
def provider_server(settings, tmp_path):
    """The providers' APIs on a local server; recordings are stored under a fresh MEDIA_ROOT."""
    recorder, server = start_server()
    settings.VORONKA_TWILIO_API_BASE = recorder.url
    settings.VORONKA_MANGO_API_BASE = recorder.url
    settings.MEDIA_ROOT = tmp_path
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def twilio(org):
    return do_create_channel(
        org.head,
        kind="twilio",
        name="Twilio",
        credentials={
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "phone_number": TWILIO_NUMBER,
        },
    )


@pytest.fixture
def mango(org):
    return do_create_channel(
        org.head,
        kind="mango",
        name="Манго",
        credentials={"api_key": MANGO_KEY, "api_salt": MANGO_SALT},
    )


def twilio_path(channel) -> str:
    return reverse("inbox:webhook", kwargs={"kind": "twilio", "key": channel.webhook_key})


def status_callback(call_sid="CA" + "1" * 32, status="completed", **fields) -> dict:
    """A call status callback with the parameters Twilio documents."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "Direction": "inbound",
        "From": "+79161234567",
        "To": TWILIO_NUMBER,
        "Caller": "+79161234567",
        "Called": TWILIO_NUMBER,
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "0",
        "Timestamp": "Mon, 03 Mar 2025 07:15:00 +0000",
        **fields,
    }
    if status == "completed":
        params.setdefault("CallDuration", "185")
    return {k: v for k, v in params.items() if v is not None}


def recording_callback(call_sid="CA" + "1" * 32, status="completed", **fields) -> dict:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call_sid,
        "RecordingSid": "RE" + "7" * 32,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE"
        + "7" * 32,
        "RecordingStatus": status,
        "RecordingDuration": "180",
        "RecordingChannels": "1",
        "RecordingSource": "DialVerb",
        "RecordingStartTime": "Mon, 03 Mar 2025 07:15:05 +0000",
        **fields,
    }


def post_twilio(client, channel, params: dict, *, token=AUTH_TOKEN, url=None, signature=None):
    """POST ``params`` as Twilio does, signed by the twilio package's own RequestValidator."""
    path = twilio_path(channel)
    url = url or "http://testserver" + path
    headers = {}
    if signature is None and token is not None:
        signature = RequestValidator(token).compute_signature(url, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def mango_path(channel, event: str) -> str:
    return (
        reverse("inbox:webhook", kwargs={"kind": "mango", "key": channel.webhook_key})
        + "events/"
        + event
    )


def mango_form(payload, *, key=MANGO_KEY, salt=MANGO_SALT, signature=None) -> dict:
    data = payload if isinstance(payload, str) else encode(payload)
    form = {"vpbx_api_key": key, "sign": signature or sign(key, data, salt), "json": data}
    return {k: v for k, v in form.items() if v is not None}


def post_mango(client, channel, event: str, payload, **signing):
    return client.post(
        mango_path(channel, event),
        urlencode(mango_form(payload, **signing)),
        content_type="application/x-www-form-urlencoded",
    )


def mango_call(state="Appeared", seq=1, *, extension="101", **fields) -> dict:
    """An /events/call body as Mango documents it: an incoming call ringing at an extension."""
    return {
        "entry_id": "MTAxNTk5Njg0ODo0NQ==",
        "call_id": "MToxMDE1OTk2ODQ4OjQ1OjE=",
        "timestamp": 1741000000 + seq,
        "seq": seq,
        "call_state": state,
        "location": "abonent",
        "from": {"number": "79161234567", "taken_from_call_id": "", "was_transfered": False},
        "to": {
            "extension": extension,
            "number": "sip:101@vpbx.mangosip.ru",
            "line_number": "74951110000",
        },
        **fields,
    }


def mango_summary(result=1, *, direction=1, **fields) -> dict:
    return {
        "entry_id": "MTAxNTk5Njg0ODo0NQ==",
        "call_direction": direction,
        "from": {"number": "79161234567"},
        "to": {"extension": "101", "number": "74951110000"},
        "line_number": "74951110000",
        "create_time": 1741000000,
        "forward_time": 1741000002,
        "talk_time": 1741000010 if result else 0,
        "end_time": 1741000195,
        "entry_result": result,
        "disconnect_reason": 1110,
        **fields,
    }
