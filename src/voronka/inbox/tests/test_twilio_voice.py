"""Twilio Voice status and recording callbacks, in Twilio's form encoding, signed with
``X-Twilio-Signature`` as the twilio package's RequestValidator computes it."""

import pytest
from twilio.request_validator import RequestValidator

from voronka.clients.models import Contact
from voronka.inbox.models import (
    Communication,
    DeadLetter,
    ReceivedEvent,
    RecordingDownload,
)

from .telephony import (
    AUTH_TOKEN,
    TWILIO_NUMBER,
    post_twilio,
    recording_callback,
    status_callback,
    twilio_path,
)


def test_a_call_ringing_then_completed_is_one_answered_call_on_the_timeline(client, org, twilio):
    assert post_twilio(client, twilio, status_callback(status="ringing")).status_code == 200
    response = post_twilio(client, twilio, status_callback(status="completed"))
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
        TWILIO_NUMBER,
        "CA" + "1" * 32,
    )
    assert comm.contact.phone == "+79161234567" and comm.deal.contact == comm.contact
    assert ReceivedEvent.objects.filter(channel=twilio).count() == 2


def test_the_same_status_delivered_again_is_a_duplicate(client, org, twilio):
    post_twilio(client, twilio, status_callback())
    again = post_twilio(client, twilio, status_callback())
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert Communication.objects.count() == 1
    assert ReceivedEvent.objects.count() == 1


@pytest.mark.parametrize(
    "status, outcome",
    [("busy", "busy"), ("no-answer", "missed"), ("canceled", "missed"), ("failed", "missed")],
)
def test_a_call_nobody_took_is_busy_or_missed(client, org, twilio, status, outcome):
    post_twilio(client, twilio, status_callback(status=status))
    comm = Communication.objects.get()
    assert (comm.outcome, comm.duration_seconds) == (outcome, 0)


def test_an_outgoing_call_is_to_the_number_called(client, org, twilio):
    params = status_callback(Direction="outbound-api", From=TWILIO_NUMBER, To="+79160000001")
    post_twilio(client, twilio, params)
    comm = Communication.objects.get()
    assert (comm.direction, comm.counterpart, comm.line) == ("out", "+79160000001", TWILIO_NUMBER)


def test_a_known_callers_call_goes_to_their_manager(client, org, twilio):
    known = Contact.objects.create(
        workspace=org.workspace, first_name="Олег", owner=org.manager3, phone="+79161234567"
    )
    post_twilio(client, twilio, status_callback(status="no-answer"))
    comm = Communication.objects.get()
    assert (comm.contact, comm.deal.owner, comm.outcome) == (known, org.manager3, "missed")


def test_the_manager_whose_phone_is_our_line_is_the_calls_manager(client, org, twilio):
    org.manager4.phone = "8 (495) 123-00-00"
    org.manager4.save()
    post_twilio(client, twilio, status_callback())
    assert Communication.objects.get().author == org.manager4


@pytest.mark.parametrize(
    "how", ["no signature", "wrong token", "param changed", "param added", "other url"]
)
def test_an_unsigned_or_forged_callback_is_refused_and_nothing_is_stored(client, org, twilio, how):
    params = status_callback()
    path = twilio_path(twilio)
    good = RequestValidator(AUTH_TOKEN).compute_signature("http://testserver" + path, params)
    kwargs = {
        "no signature": {"token": None},
        "wrong token": {"token": "another-token"},
        "param changed": {"signature": good, "params": {**params, "CallDuration": "1"}},
        "param added": {"signature": good, "params": {**params, "Extra": "1"}},
        "other url": {"url": "http://testserver/hooks/twilio/another/"},
    }[how]
    sent = kwargs.pop("params", params)
    response = post_twilio(client, twilio, sent, **kwargs)
    assert response.status_code == (401 if how == "no signature" else 403)
    assert not ReceivedEvent.objects.exists() and not DeadLetter.objects.exists()
    assert not Communication.objects.exists()


def test_behind_a_proxy_the_public_url_is_the_signed_one(client, org, twilio, settings):
    public = "https://crm.example.com" + twilio_path(twilio)
    assert post_twilio(client, twilio, status_callback(), url=public).status_code == 403
    settings.VORONKA_PUBLIC_URL = "https://crm.example.com"
    assert post_twilio(client, twilio, status_callback(), url=public).status_code == 200
    # Twilio may sign the same URL with the scheme's port spelled out.
    again = status_callback(status="busy", CallSid="CA" + "2" * 32)
    with_port = "https://crm.example.com:443" + twilio_path(twilio)
    assert post_twilio(client, twilio, again, url=with_port).status_code == 200
    assert Communication.objects.count() == 2


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"CallSid": None}, "CallSid"),
        ({"AccountSid": "AC" + "0" * 32}, "AccountSid"),
        ({"CallStatus": "exploded"}, "CallStatus"),
        ({"From": "not a phone"}, "not a phone number"),
        ({"CallDuration": "-5"}, "CallDuration"),
        ({"Timestamp": "yesterday"}, "Timestamp"),
    ],
)
def test_a_signed_but_malformed_callback_gets_400_and_is_kept(client, org, twilio, params, reason):
    response = post_twilio(client, twilio, status_callback(**params))
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert DeadLetter.objects.get().reason == response.json()["error"]
    assert not Communication.objects.exists()


def test_a_completed_recording_is_noted_for_the_worker_on_its_call(client, org, twilio):
    post_twilio(client, twilio, status_callback())
    assert post_twilio(client, twilio, recording_callback(status="in-progress")).status_code == 200
    assert not RecordingDownload.objects.exists()
    response = post_twilio(client, twilio, recording_callback())
    assert response.status_code == 200, response.content
    download = RecordingDownload.objects.get()
    assert download.communication == Communication.objects.get()
    assert download.source.endswith("/Recordings/RE" + "7" * 32)
    assert post_twilio(client, twilio, recording_callback()).json()["duplicates"] == 1
    assert RecordingDownload.objects.count() == 1


def test_a_recording_of_an_unknown_call_is_kept_to_replay(client, org, twilio):
    response = post_twilio(client, twilio, recording_callback(call_sid="CA" + "9" * 32))
    assert response.status_code == 400
    assert DeadLetter.objects.exists() and not Communication.objects.exists()


def test_a_missed_call_says_so_on_the_deal_page(client, org, twilio):
    from django.urls import reverse

    post_twilio(client, twilio, status_callback(status="no-answer"))
    comm = Communication.objects.get()
    client.force_login(comm.deal.owner)
    page = client.get(reverse("sales:deal_detail", args=[comm.deal_id])).content.decode()
    assert f'· <span class="text-danger">{comm.get_outcome_display().lower()}</span>' in page
