"""Whatever is thrown at the WhatsApp and Instagram webhooks — random bytes, truncated or twisted
payloads, oversized bodies, wrong signatures, odd handshakes — nothing unsigned is accepted and
nothing gives a 5xx."""

import copy
import hashlib
import hmac
import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voronka.inbox.actions import do_create_channel
from voronka.inbox.models import Communication, DeadLetter, ReceivedEvent
from voronka.inbox.webhooks import MAX_BODY_BYTES

from . import test_instagram as ig
from . import test_whatsapp as wa

SECRET = "meta-app-secret-for-the-property-test"
VERIFY = "meta-verify-token-for-the-property-test"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value, prefix=()):
    """Every place in a JSON document a value sits at, as a tuple of keys and indexes."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@st.composite
def twisted(draw, payload):
    """A real payload with one to three of its values (at any depth) replaced by any JSON."""
    payload = copy.deepcopy(payload)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from([p for p in _paths(payload) if p]))
        target = payload
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier twist replaced the way there
    return json.dumps(payload).encode()


def truncated(body: bytes):
    return st.integers(min_value=0, max_value=len(body) - 1).map(lambda n: body[:n])


WA_PAYLOAD = wa.envelope(
    messages=[
        wa.text_message(),
        {
            **wa.text_message("wamid.2"),
            "type": "image",
            "image": {"id": "1", "mime_type": "image/jpeg", "caption": "фото"},
        },
    ],
    statuses=[wa.status("wamid.3", "delivered")],
)
IG_PAYLOAD = ig.envelope(
    ig.incoming(attachments=[{"type": "image", "payload": {"url": "https://cdn.example/1"}}]),
    {**ig.incoming("mid.echo"), "message": {"mid": "mid.echo", "text": "x", "is_echo": True}},
    {"sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1, "read": {"mid": "m"}},
)


def bodies(payload):
    raw = json.dumps(payload).encode()
    return st.one_of(
        st.binary(max_size=600),
        json_values.map(lambda v: json.dumps(v).encode()),
        truncated(raw),
        twisted(payload),
    )


PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def credentials(kind):
    own = {"phone_number_id": wa.NUMBER_ID} if kind == "whatsapp" else {}
    return {"app_secret": SECRET, "verify_token": VERIFY, "access_token": "token", **own}


@pytest.fixture
def whatsapp(org):
    return do_create_channel(
        org.head, kind="whatsapp", name="WhatsApp", credentials=credentials("whatsapp")
    )


@pytest.fixture
def instagram(org):
    return do_create_channel(
        org.head, kind="instagram", name="Instagram", credentials=credentials("instagram")
    )


def hook(channel):
    return reverse("inbox:webhook", kwargs={"kind": channel.kind, "key": channel.webhook_key})


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def nothing_stored():
    return not (
        ReceivedEvent.objects.exists()
        or DeadLetter.objects.exists()
        or Communication.objects.exists()
    )


def post(client, channel, body, signature):
    headers = {"X-Hub-Signature-256": signature} if signature is not None else {}
    return client.post(hook(channel), body, content_type="application/json", headers=headers)


wrong_signatures = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.just("sha256=" + "0" * 64),
    st.text(min_size=1, max_size=40).map(lambda secret: ("other secret", secret)),
)


def forged(body, signature):
    if isinstance(signature, tuple):  # signed, but with another secret
        secret = signature[1] if signature[1] != SECRET else SECRET + "!"
        return sign(body, secret)
    return signature if signature != sign(body) else None


@PROPERTY
@given(body=bodies(WA_PAYLOAD), signature=wrong_signatures)
def test_whatsapp_refuses_any_body_with_a_wrong_signature(client, whatsapp, body, signature):
    response = post(client, whatsapp, body, forged(body, signature))
    assert response.status_code in (401, 403)
    assert nothing_stored()


@PROPERTY
@given(body=bodies(IG_PAYLOAD), signature=wrong_signatures)
def test_instagram_refuses_any_body_with_a_wrong_signature(client, instagram, body, signature):
    response = post(client, instagram, body, forged(body, signature))
    assert response.status_code in (401, 403)
    assert nothing_stored()


@PROPERTY
@given(body=bodies(WA_PAYLOAD))
def test_whatsapp_never_fails_on_a_signed_body(client, whatsapp, body):
    response = post(client, whatsapp, body, sign(body))
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert DeadLetter.objects.filter(body=body).exists()


@PROPERTY
@given(body=bodies(IG_PAYLOAD))
def test_instagram_never_fails_on_a_signed_body(client, instagram, body):
    response = post(client, instagram, body, sign(body))
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert DeadLetter.objects.filter(body=body).exists()


@PROPERTY
@given(
    kind=st.sampled_from(["whatsapp", "instagram"]),
    query=st.dictionaries(
        st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "other"]),
        st.one_of(st.text(max_size=300), st.just(VERIFY), st.just("subscribe")),
    ),
)
def test_a_handshake_answers_the_challenge_only_to_the_right_token(
    client, whatsapp, instagram, kind, query
):
    channel = whatsapp if kind == "whatsapp" else instagram
    response = client.get(hook(channel), query)
    assert response.status_code in (200, 400, 403)
    if response.status_code == 200:
        assert query["hub.verify_token"] == VERIFY and query["hub.mode"] == "subscribe"
        assert response.content.decode() == query["hub.challenge"]
    assert nothing_stored()


@pytest.mark.parametrize("kind", ["whatsapp", "instagram"])
def test_an_oversized_body_is_refused_unread(client, whatsapp, instagram, kind):
    channel = whatsapp if kind == "whatsapp" else instagram
    body = b'{"object": "instagram", "entry": [], "x": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = post(client, channel, body, sign(body))
    assert response.status_code == 413
    assert nothing_stored()
