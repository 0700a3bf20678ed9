"""A busy server answers a delivery once it is stored, and the worker puts it on the timeline.

"Busy" is what the webhook sees when another delivery is in flight in the same server process;
here that other delivery is held open around the request (``another_delivery_in_flight``).
"""

import contextlib
import json
import time

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from voronka.activities.models import Task
from voronka.clients.models import Contact
from voronka.inbox import webhooks
from voronka.inbox.actions import do_create_channel, do_replay_dead_letter
from voronka.inbox.channels.generic_pbx import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from voronka.inbox.ingest import process_pending
from voronka.inbox.jobs import process_received_events
from voronka.inbox.models import Communication, DeadLetter, ReceivedEvent

SECRET = "pbx-signing-secret-under-load-42"


@pytest.fixture
def channel(org):
    return do_create_channel(
        org.head, kind="generic_pbx", name="АТС", credentials={"secret": SECRET}
    )


@contextlib.contextmanager
def another_delivery_in_flight():
    webhooks._load.begin()
    try:
        yield
    finally:
        webhooks._load.end()


def call(event_id="call-1", phone="+79161234567", **fields):
    return {
        "event_id": event_id,
        "call_id": event_id,
        "direction": "in",
        "from": phone,
        "to": "+74951112233",
        "started_at": "2025-03-03T10:15:00+03:00",
        "duration": 42,
        "outcome": "answered",
        **fields,
    }


def deliver(client, channel, payload):
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    path = reverse("inbox:webhook", kwargs={"kind": "generic_pbx", "key": channel.webhook_key})
    return client.post(
        path,
        body,
        content_type="application/json",
        headers={TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, stamp, body)},
    )


def test_a_busy_server_acknowledges_a_stored_call_and_the_worker_puts_it_on_the_timeline(
    client, org, channel
):
    with another_delivery_in_flight():
        response = deliver(client, channel, call())
    assert response.status_code == 200 and response.json()["stored"] == 1
    stored = ReceivedEvent.objects.get()
    assert stored.processed_at is None and stored.payload["call_id"] == "call-1"
    assert not Communication.objects.exists()
    assert DBTaskResult.objects.filter(task_path=process_received_events.module_path).exists()

    assert process_pending() == 1
    comm = Communication.objects.get()
    assert (comm.kind, comm.direction, comm.counterpart, comm.duration_seconds) == (
        "call",
        "in",
        "+79161234567",
        42,
    )
    assert comm.contact.phone == "+79161234567" and comm.deal.contact == comm.contact
    assert Task.objects.filter(deal=comm.deal).count() == 1
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.communication == comm
    assert process_pending() == 0  # done once


def test_a_delivery_repeated_under_load_lands_on_the_timeline_once(client, org, channel):
    with another_delivery_in_flight():
        assert deliver(client, channel, call()).json()["stored"] == 1
        again = deliver(client, channel, call())
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    process_pending()
    # Delivered again once processed, by an idle server this time: still nothing new.
    assert deliver(client, channel, call()).json()["duplicates"] == 1
    assert Communication.objects.count() == 1 and ReceivedEvent.objects.count() == 1


def test_calls_stored_under_load_from_one_client_make_one_contact_and_one_deal(
    client, org, channel
):
    with another_delivery_in_flight():
        for i in range(3):
            deliver(client, channel, call(event_id=f"c{i}"))
    process_pending()
    assert Communication.objects.count() == 3
    assert Contact.objects.count() == 1
    assert len({c.deal_id for c in Communication.objects.all()}) == 1


def test_a_call_a_killed_server_left_unprocessed_is_picked_up_by_the_worker_sweep(
    client, org, channel
):
    with another_delivery_in_flight():
        deliver(client, channel, call())
    DBTaskResult.objects.all().delete()  # as if the server died before it woke the worker
    assert process_received_events.call() == 1
    assert Communication.objects.get().counterpart == "+79161234567"
    assert not ReceivedEvent.objects.filter(processed_at__isnull=True).exists()


def test_a_stored_call_with_nowhere_to_go_becomes_a_dead_letter_the_head_replays(
    client, org, channel
):
    org.pipeline.is_archived = True
    org.pipeline.save()
    with another_delivery_in_flight():
        assert deliver(client, channel, call()).status_code == 200
    process_pending()
    letter = DeadLetter.objects.get()
    assert "pipeline" in letter.reason.lower() or "воронк" in letter.reason.lower()
    assert not Communication.objects.exists()
    assert ReceivedEvent.objects.get().processed_at is not None  # not tried again and again

    org.pipeline.is_archived = False
    org.pipeline.save()
    do_replay_dead_letter(org.head, letter)
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    assert Communication.objects.get().counterpart == "+79161234567"
    # Replayed once more: nothing new.
    do_replay_dead_letter(org.head, letter)
    assert Communication.objects.count() == 1


def test_an_idle_server_still_processes_a_call_before_it_answers(client, org, channel):
    assert deliver(client, channel, call()).status_code == 200
    assert Communication.objects.count() == 1
    assert ReceivedEvent.objects.get().processed_at is not None
    assert process_pending() == 0


def test_a_stored_event_with_nowhere_to_go_rolls_back_alone_and_the_rest_of_its_batch_lands(
    org, channel
):
    from django.utils import timezone

    from voronka.inbox.channels.base import InboundEvent, Sender
    from voronka.inbox.ingest import process_batch, store, stored_event_of

    now = timezone.now()

    def event(i, **fields):
        return InboundEvent(
            event_id=f"e{i}",
            kind="call",
            chat_id=f"+7916123456{i}",
            occurred_at=now,
            sender=Sender(phone=f"+7916123456{i}"),
            external_id=f"e{i}",
            counterpart=f"+7916123456{i}",
            duration_seconds=30,
            outcome="answered",
            **fields,
        )

    # The middle one is the recording of a call nobody has seen: it has nowhere to go.
    orphan = InboundEvent(
        event_id="rec", kind="recording", chat_id="", occurred_at=now, external_id="unknown"
    )
    assert store(channel, [event(1), orphan, event(2)]).stored == 3
    ids = list(ReceivedEvent.objects.order_by("id").values_list("id", flat=True))

    done, failed, reached = process_batch(ids)

    assert (done, failed, reached) == (3, [], ids[-1])
    assert sorted(Communication.objects.values_list("external_id", flat=True)) == ["e1", "e2"]
    letter = DeadLetter.objects.get()
    assert stored_event_of(letter.body) == ReceivedEvent.objects.get(event_id="rec").id
    assert not ReceivedEvent.objects.filter(processed_at__isnull=True).exists()
    assert ReceivedEvent.objects.get(event_id="e1").communication.external_id == "e1"
    # The same batch once more: each event was processed once, nothing changes.
    assert process_batch(ids) == (0, [], ids[-1])
    assert Communication.objects.count() == 2 and DeadLetter.objects.count() == 1
