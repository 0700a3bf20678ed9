"""The web front (``voronka.front``) and the group commit behind it.

A busy front answers a signed delivery itself once its events are committed by the group commit;
everything it does not take (an idle server's delivery, a forged or unreadable one, another
page) is answered by Django as before. The front and its committing thread use connections of
their own, so these tests commit (``transaction=True``).
"""

import asyncio
import json
import time

import pytest
from django.urls import reverse

from voronka.front import Front, site
from voronka.inbox.actions import do_create_channel
from voronka.inbox.channels.generic_pbx import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from voronka.inbox.channels.generic_pbx import provider as pbx
from voronka.inbox.groupcommit import GroupCommit, store_many
from voronka.inbox.models import Communication, DeadLetter, ReceivedEvent

SECRET = "pbx-signing-secret-front-0042"


@pytest.fixture
def channel(org):
    return do_create_channel(
        org.head, kind="generic_pbx", name="АТС", credentials={"secret": SECRET}
    )


def call(event_id, phone="+79161234567"):
    return {
        "event_id": event_id,
        "call_id": event_id,
        "direction": "in",
        "from": phone,
        "to": "+74951112233",
        "started_at": "2025-03-03T10:15:00+03:00",
        "duration": 42,
        "outcome": "answered",
    }


def events(channel, *ids):
    return pbx.parse(channel, json.dumps([call(i) for i in ids]).encode())


def request(app, method, path, body=b"", headers=()):
    """One request through the ASGI application, as uvicorn makes it: (status, headers, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(30)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return (
        start["status"],
        {k.decode().lower(): v.decode() for k, v in start["headers"]},
        b"".join(m.get("body", b"") for m in sent[1:]),
    )


def signed(channel, payload, secret=SECRET):
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    path = reverse("inbox:webhook", kwargs={"kind": "generic_pbx", "key": channel.webhook_key})
    return path, body, [(TIMESTAMP_HEADER, stamp), (SIGNATURE_HEADER, sign(secret, stamp, body))]


@pytest.fixture
def busy_front():
    """A front that has just taken a delivery in: the next ones are stored for the worker."""
    front = Front(site, threads=2)
    front.last_delivery = time.monotonic() + 3600
    yield front
    front.group.stop()


@pytest.mark.django_db(transaction=True)
def test_a_busy_front_answers_once_the_group_commit_has_stored_the_call(busy_front, channel):
    path, body, headers = signed(channel, call("front-1"))
    request(busy_front, "POST", path, body, headers)  # the first one names the channel to it
    path, body, headers = signed(channel, call("front-2"))
    status, answer_headers, answer = request(busy_front, "POST", path, body, headers)

    assert status == 200 and json.loads(answer) == {"ok": True, "stored": 1, "duplicates": 0}
    assert answer_headers["content-length"] == str(len(answer))
    stored = ReceivedEvent.objects.get(channel=channel, event_id="front-2")
    assert stored.payload["call_id"] == "front-2"


@pytest.mark.django_db(transaction=True)
def test_a_delivery_repeated_to_a_busy_front_is_stored_once(busy_front, channel):
    for _ in range(2):
        path, body, headers = signed(channel, call("front-again"))
        status, _headers, answer = request(busy_front, "POST", path, body, headers)
        assert status == 200
    assert json.loads(answer) == {"ok": True, "stored": 0, "duplicates": 1}
    assert ReceivedEvent.objects.filter(event_id="front-again").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_forged_delivery_to_a_busy_front_is_refused_and_not_stored(busy_front, channel):
    path, body, headers = signed(channel, call("front-1"))
    request(busy_front, "POST", path, body, headers)
    path, body, headers = signed(channel, call("forged"), secret="not-the-channels-secret")
    status, _headers, _answer = request(busy_front, "POST", path, body, headers)

    assert status == 403
    assert not ReceivedEvent.objects.filter(event_id="forged").exists()


@pytest.mark.django_db(transaction=True)
def test_a_signed_unreadable_delivery_to_a_busy_front_becomes_a_dead_letter(busy_front, channel):
    path, body, headers = signed(channel, call("front-1"))
    request(busy_front, "POST", path, body, headers)
    path, body, headers = signed(channel, {**call("bad"), "from": "not a phone"})
    status, _headers, answer = request(busy_front, "POST", path, body, headers)

    assert status == 400
    assert DeadLetter.objects.filter(pk=json.loads(answer)["dead_letter"]).exists()
    assert not ReceivedEvent.objects.filter(event_id="bad").exists()


@pytest.mark.django_db(transaction=True)
def test_an_oversized_delivery_is_refused_unread(busy_front, channel):
    path, _body, headers = signed(channel, call("front-1"))
    status, _headers, _answer = request(busy_front, "POST", path, b"x" * (1024 * 1024 + 1), headers)
    assert status == 413


@pytest.mark.django_db(transaction=True)
def test_an_idle_front_lets_the_view_process_the_call_before_it_answers(channel):
    front = Front(site, threads=2)
    path, body, headers = signed(channel, call("idle-1"))
    status, _headers, _answer = request(front, "POST", path, body, headers)
    front.group.stop()

    assert status == 200
    assert Communication.objects.filter(conversation__channel=channel).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_site_is_served_by_django_behind_the_front(busy_front):
    status, headers, _body = request(busy_front, "GET", "/accounts/login/")
    assert status == 200 and headers["content-type"].startswith("text/html")


@pytest.mark.django_db(transaction=True)
def test_deliveries_committed_together_keep_their_own_counts(channel):
    group = GroupCommit()
    futures = [
        group.submit(channel, events(channel, "g-1", "g-2")),
        group.submit(channel, events(channel, "g-2", "g-3")),
        group.submit(channel, events(channel, "g-1")),
    ]
    results = [f.result(timeout=30) for f in futures]
    group.stop()

    assert sum(r.stored for r in results) == 3
    assert [r.stored + r.duplicates for r in results] == [2, 2, 1]
    assert results[2].stored == 0
    assert ReceivedEvent.objects.filter(channel=channel).count() == 3


@pytest.mark.django_db
def test_one_batch_stores_a_repeated_event_once(channel):
    first, second = store_many(
        [(channel, events(channel, "b-1", "b-1")), (channel, events(channel, "b-1", "b-2"))]
    )
    assert (first.stored, first.duplicates) == (1, 1)
    assert (second.stored, second.duplicates) == (1, 1)
    assert ReceivedEvent.objects.filter(channel=channel).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_call_with_nul_in_its_text_is_stored_by_a_busy_front_without_it(busy_front, channel):
    path, body, headers = signed(channel, call("front-1"))
    request(busy_front, "POST", path, body, headers)
    path, body, headers = signed(channel, {**call("front-\u00002"), "client_name": "Ан\u0000на"})
    status, _headers, answer = request(busy_front, "POST", path, body, headers)

    assert status == 200, answer
    assert json.loads(answer)["stored"] == 1
    stored = ReceivedEvent.objects.exclude(event_id="front-1").get(channel=channel)
    assert stored.payload["client_name"] == "Анна" and stored.event["sender"]["name"] == "Анна"


@pytest.mark.django_db(transaction=True)
def test_an_unreadable_delivery_with_nul_to_a_busy_front_is_a_dead_letter(busy_front, channel):
    path, body, headers = signed(channel, call("front-1"))
    request(busy_front, "POST", path, body, headers)
    path, body, headers = signed(channel, {**call("bad"), "from": "\u0000"})
    status, _headers, answer = request(busy_front, "POST", path, body, headers)

    assert status == 400, answer
    assert "\x00" not in DeadLetter.objects.get(pk=json.loads(answer)["dead_letter"]).reason
