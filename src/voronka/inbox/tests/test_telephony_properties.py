"""Whatever is thrown at the Twilio and Mango webhooks — random bytes, truncated or twisted
payloads, oversized bodies, wrong signatures — nothing unsigned is accepted and nothing gives
a 5xx."""

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from voronka.inbox.channels.mango import encode, sign
from voronka.inbox.models import Communication, DeadLetter, ReceivedEvent
from voronka.inbox.webhooks import MAX_BODY_BYTES

from .telephony import (
    AUTH_TOKEN,
    MANGO_KEY,
    MANGO_SALT,
    mango_call,
    mango_path,
    mango_summary,
    recording_callback,
    status_callback,
    twilio_path,
)

PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
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


@st.composite
def twisted_twilio(draw):
    """A documented callback with some parameters dropped or replaced by any text."""
    params = draw(st.sampled_from([status_callback(), recording_callback()]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        key = draw(st.sampled_from([*params, "Extra"]))
        if draw(st.booleans()):
            params.pop(key, None)
        else:
            params[key] = draw(st.text(max_size=40))
    return params


@st.composite
def twisted_mango(draw):
    payload = draw(st.sampled_from([mango_call(), mango_summary(), mango_summary(0)]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        key = draw(st.sampled_from([*payload, "extra"]))
        payload[key] = draw(json_values)
    return encode(payload)


def truncated(text: str):
    return st.integers(min_value=0, max_value=len(text) - 1).map(lambda n: text[:n])


twilio_params = st.one_of(
    twisted_twilio(),
    st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=6),
)
mango_json = st.one_of(
    st.text(max_size=300),
    json_values.map(json.dumps),
    truncated(encode(mango_summary())),
    twisted_mango(),
)
mango_events = st.sampled_from(["call", "summary", "recording", "dtmf"])


def nothing_stored():
    return not (
        ReceivedEvent.objects.exists()
        or DeadLetter.objects.exists()
        or Communication.objects.exists()
    )


def post_form(client, path, body, headers=None):
    return client.post(
        path, body, content_type="application/x-www-form-urlencoded", headers=headers or {}
    )


@PROPERTY
@given(
    params=twilio_params,
    signature=st.one_of(st.none(), st.text(max_size=40), st.just("A" * 27 + "=")),
)
def test_twilio_refuses_any_callback_with_a_wrong_signature(client, twilio, params, signature):
    url = "http://testserver" + twilio_path(twilio)
    if signature == RequestValidator(AUTH_TOKEN).compute_signature(url, params):
        signature = None
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    response = post_form(client, twilio_path(twilio), urlencode(params), headers)
    assert response.status_code in (401, 403)
    assert nothing_stored()


@PROPERTY
@given(body=st.binary(max_size=400))
def test_twilio_refuses_random_bytes(client, twilio, body):
    headers = {"X-Twilio-Signature": "c2lnbmF0dXJl"}
    assert post_form(client, twilio_path(twilio), body, headers).status_code in (401, 403)
    assert nothing_stored()


@PROPERTY
@given(params=twilio_params)
def test_twilio_never_fails_on_a_signed_callback(client, twilio, params):
    url = "http://testserver" + twilio_path(twilio)
    headers = {"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, params)}
    response = post_form(client, twilio_path(twilio), urlencode(params), headers)
    assert response.status_code in (200, 400), response.content


@PROPERTY
@given(
    data=mango_json,
    event=mango_events,
    key=st.sampled_from([MANGO_KEY, "", "other-key"]),
    signature=st.one_of(st.none(), st.text(max_size=64), st.just("0" * 64)),
)
def test_mango_refuses_any_event_with_a_wrong_key_or_sign(
    client, mango, data, event, key, signature
):
    if key == MANGO_KEY and signature == sign(MANGO_KEY, data, MANGO_SALT):
        signature = None
    form = {"vpbx_api_key": key, "json": data}
    if signature is not None:
        form["sign"] = signature
    response = post_form(client, mango_path(mango, event), urlencode(form))
    assert response.status_code in (401, 403)
    assert nothing_stored()


@PROPERTY
@given(body=st.binary(max_size=400), event=mango_events)
def test_mango_refuses_random_bytes(client, mango, body, event):
    assert post_form(client, mango_path(mango, event), body).status_code in (401, 403)
    assert nothing_stored()


@PROPERTY
@given(data=mango_json, event=mango_events)
def test_mango_never_fails_on_a_signed_event(client, mango, data, event):
    form = {"vpbx_api_key": MANGO_KEY, "sign": sign(MANGO_KEY, data, MANGO_SALT), "json": data}
    response = post_form(client, mango_path(mango, event), urlencode(form))
    assert response.status_code in (200, 400), response.content


@pytest.mark.parametrize("kind", ["twilio", "mango"])
def test_an_oversized_callback_is_refused_unread(client, twilio, mango, kind):
    params = {**status_callback(), "Padding": "x" * MAX_BODY_BYTES}
    if kind == "twilio":
        url = "http://testserver" + twilio_path(twilio)
        headers = {
            "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        }
        response = post_form(client, twilio_path(twilio), urlencode(params), headers)
    else:
        data = encode({**mango_summary(), "padding": "x" * MAX_BODY_BYTES})
        form = {"vpbx_api_key": MANGO_KEY, "sign": sign(MANGO_KEY, data, MANGO_SALT), "json": data}
        response = post_form(client, mango_path(mango, "summary"), urlencode(form))
    assert response.status_code == 413
    assert nothing_stored()
