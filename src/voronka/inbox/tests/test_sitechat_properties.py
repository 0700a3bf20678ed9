"""Whatever a page (or a script pretending to be one) throws at the widget's endpoints — random
bytes, JSON of any shape, huge texts, bad tokens, foreign origins — the answer is never a 5xx."""

import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voronka.inbox.models import DeadLetter

from .sitechat_world import SITE, Visitor, site_chat

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = ["id", "text", "name", "phone", "email", "token"]


@st.composite
def bodies(draw):
    kind = draw(st.sampled_from(["bytes", "object", "twisted"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "object":
        return json.dumps(draw(json_values)).encode()
    body = {"id": "m1", "text": "Здравствуйте", "phone": "+79161234567", "email": "a@b.example"}
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        body[draw(st.sampled_from(FIELDS))] = draw(json_values | st.text(min_size=0, max_size=3000))
    return json.dumps(body).encode()


@pytest.fixture
def channel(org):
    cache.clear()
    return site_chat(org)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(["session", "message", "contact", "offline"]),
    body=bodies(),
    token=st.sampled_from(["valid", "none", "garbage"]),
    origin=st.sampled_from([SITE, "https://evil.example.net", "null", "", "ftp://x"]),
)
def test_no_body_makes_the_widget_endpoints_fail(channel, endpoint, body, token, origin):
    cache.clear()  # the limits are tested elsewhere; here every request is judged on its body
    visitor = Visitor(channel)
    if token == "valid":
        visitor.start()
    elif token == "garbage":
        visitor.token = "x" * 40
    visitor.origin = origin
    response = visitor.post(endpoint, None, raw=body)
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    if origin != SITE:
        assert response.status_code == 403
    assert not DeadLetter.objects.exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(after=st.text(max_size=30))
def test_no_poll_parameter_makes_the_poll_fail(channel, after, settings):
    settings.VORONKA_SITECHAT_POLL_SECONDS = 0
    cache.clear()
    visitor = Visitor(channel)
    visitor.start()
    response = visitor.client.get(visitor.url("poll"), {"after": after}, headers=visitor.headers())
    assert response.status_code in (200, 400)
