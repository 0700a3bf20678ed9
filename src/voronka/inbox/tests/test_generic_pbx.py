"""Calls from any PBX through the signed JSON webhook the README documents."""

import json
import time

import pytest
from django.urls import reverse

from voronka.activities.models import Task
from voronka.clients.models import Contact
from voronka.inbox.actions import do_create_channel
from voronka.inbox.channels.generic_pbx import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from voronka.inbox.models import Communication, DeadLetter, ReceivedEvent

SECRET = "pbx-signing-secret-0123456789"


@pytest.fixture
def channel(org):
    return do_create_channel(
        org.head, kind="generic_pbx", name="Офисная АТС", credentials={"secret": SECRET}
    )


def call(**fields):
    return {
        "event_id": "call-8841-end",
        "call_id": "8841",
        "direction": "in",
        "from": "8 (916) 123-45-67",
        "to": "+7 495 111-22-33",
        "extension": "101",
        "started_at": "2025-03-03T10:15:00+03:00",
        "duration": 185,
        "outcome": "answered",
        **fields,
    }


def deliver(client, channel, payload, *, secret=SECRET, stamp=None, signature=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = str(int(time.time())) if stamp is None else stamp
    headers = {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature if signature is not None else sign(secret, stamp, body),
    }
    path = reverse("inbox:webhook", kwargs={"kind": "generic_pbx", "key": channel.webhook_key})
    return client.post(path, body, content_type="application/json", headers=headers)


def test_an_answered_call_lands_on_the_timeline_with_its_manager(client, org, channel):
    org.manager2.extension = "101"
    org.manager2.save()
    response = deliver(client, channel, call())
    assert response.status_code == 200, response.content
    comm = Communication.objects.get()
    assert (comm.kind, comm.direction, comm.channel, comm.outcome, comm.duration_seconds) == (
        "call",
        "in",
        "phone",
        "answered",
        185,
    )
    assert (comm.counterpart, comm.line, comm.external_id) == (
        "+79161234567",
        "+74951112233",
        "8841",
    )
    assert comm.author == org.manager2
    assert comm.contact.phone == "+79161234567" and comm.contact.owner == org.manager2
    assert comm.deal.owner == org.manager2
    assert Task.objects.get(deal=comm.deal).type == "call"


def test_the_manager_is_found_by_our_number_when_there_is_no_extension(client, org, channel):
    org.manager4.phone = "+74951112233"
    org.manager4.save()
    deliver(
        client,
        channel,
        call(extension=None, direction="out", **{"from": "+74951112233", "to": "+79160000001"}),
    )
    comm = Communication.objects.get()
    assert (comm.author, comm.direction, comm.counterpart) == (org.manager4, "out", "+79160000001")
    assert not Task.objects.filter(deal=comm.deal).exists()  # we called them: nothing to answer


def test_a_missed_call_from_a_known_client_goes_to_their_manager(client, org, channel):
    known = Contact.objects.create(
        workspace=org.workspace, first_name="Олег", owner=org.manager3, phone="+79161234567"
    )
    deliver(client, channel, call(extension="", outcome="missed", duration=0))
    comm = Communication.objects.get()
    assert (comm.contact, comm.outcome, comm.deal.owner) == (known, "missed", org.manager3)


def test_a_batch_of_calls_is_stored_once_each(client, org, channel):
    batch = [call(event_id=f"e{i}", **{"from": f"+7916000000{i}"}) for i in range(3)]
    assert deliver(client, channel, batch).json()["stored"] == 3
    again = deliver(client, channel, batch)
    assert again.status_code == 200 and again.json()["duplicates"] == 3
    assert Communication.objects.count() == 3


@pytest.mark.parametrize(
    "how",
    ["no signature", "wrong secret", "stale", "future", "not a number", "body changed"],
)
def test_an_unsigned_forged_or_stale_call_is_refused_and_not_stored(client, org, channel, how):
    body = json.dumps(call()).encode()
    now = int(time.time())
    kwargs = {
        "no signature": {"signature": ""},
        "wrong secret": {"secret": "another-secret"},
        "stale": {"stamp": str(now - 301)},
        # A minute past the window, so a slow run cannot carry the stamp back inside it.
        "future": {"stamp": str(now + 360)},
        "not a number": {"stamp": "yesterday"},
        "body changed": {"signature": sign(SECRET, str(now), body.replace(b"185", b"999"))},
    }[how]
    response = deliver(client, channel, body, **kwargs)
    assert response.status_code == (401 if how == "no signature" else 403)
    assert not ReceivedEvent.objects.exists() and not DeadLetter.objects.exists()
    assert not Communication.objects.exists()


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"{", "not JSON"),
        ([], "from 1 to 1000"),
        (call(direction="sideways"), "direction"),
        (call(**{"from": "not a phone"}), "not a phone number"),
        (call(started_at="yesterday"), "started_at"),
        (call(duration=-5), "duration"),
        (call(outcome="exploded"), "outcome"),
        ({k: v for k, v in call().items() if k != "event_id"}, "event_id"),
    ],
)
def test_a_signed_but_malformed_call_gets_400_and_is_kept(client, org, channel, payload, reason):
    response = deliver(client, channel, payload)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert DeadLetter.objects.get().reason == response.json()["error"]
