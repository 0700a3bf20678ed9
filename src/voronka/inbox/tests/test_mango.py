"""Mango Office VPBX events (/events/call, /events/summary, /events/recording) as Mango posts
them: form-encoded vpbx_api_key, json and sign = SHA-256 of key + json + salt."""

import hashlib
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from voronka.api.tests.caller import Caller
from voronka.inbox.models import Communication, DeadLetter, ReceivedEvent, RecordingDownload

from .telephony import (
    MANGO_KEY,
    MANGO_SALT,
    mango_call,
    mango_path,
    mango_summary,
    post_mango,
)


def test_the_sign_is_sha256_of_key_json_and_salt():
    from voronka.inbox.channels.mango import sign

    expected = hashlib.sha256(b'k{"a":1}s').hexdigest()
    assert sign("k", '{"a":1}', "s") == expected


def test_an_answered_call_is_one_communication_with_its_manager_and_duration(client, org, mango):
    org.manager2.extension = "101"
    org.manager2.save()
    assert post_mango(client, mango, "call", mango_call("Appeared", 1)).status_code == 200
    assert post_mango(client, mango, "call", mango_call("Connected", 2)).status_code == 200
    assert post_mango(client, mango, "call", mango_call("Disconnected", 3)).status_code == 200
    response = post_mango(client, mango, "summary", mango_summary(1))
    assert response.status_code == 200, response.content
    comm = Communication.objects.get()
    assert (comm.kind, comm.direction, comm.outcome, comm.duration_seconds) == (
        "call",
        "in",
        "answered",
        185,
    )
    assert (comm.counterpart, comm.line, comm.external_id) == (
        "+79161234567",
        "+74951110000",
        "MTAxNTk5Njg0ODo0NQ==",
    )
    assert comm.author == org.manager2 and comm.deal.owner == org.manager2
    assert ReceivedEvent.objects.filter(channel=mango).count() == 4


def test_the_extension_that_answers_is_the_manager_not_the_one_that_rang_first(client, org, mango):
    org.manager1.extension = "101"
    org.manager1.save()
    org.manager3.extension = "102"
    org.manager3.save()
    post_mango(client, mango, "call", mango_call("Appeared", 1, extension="101"))
    post_mango(
        client,
        mango,
        "call",
        mango_call("Connected", 2, extension="102", call_id="MToxMDE1OTk2ODQ4OjQ1OjI="),
    )
    assert Communication.objects.get().author == org.manager3


def test_a_missed_call_is_missed_with_no_duration(client, org, mango):
    post_mango(client, mango, "summary", mango_summary(0))
    comm = Communication.objects.get()
    assert (comm.outcome, comm.duration_seconds, comm.direction) == ("missed", 0, "in")


def test_a_busy_line_is_told_by_the_disconnect_reasons_the_head_listed(client, org, mango):
    mango.options = {"busy_reasons": [1120]}
    mango.save()
    post_mango(client, mango, "summary", mango_summary(0, disconnect_reason=1120))
    assert Communication.objects.get().outcome == "busy"


def test_an_outgoing_call_from_an_extension_is_to_the_number_called(client, org, mango):
    org.manager4.extension = "104"
    org.manager4.save()
    summary = mango_summary(
        1,
        direction=2,
        **{"from": {"extension": "104", "number": "74951110000"}, "to": {"number": "79160000001"}},
    )
    post_mango(client, mango, "summary", summary)
    comm = Communication.objects.get()
    assert (comm.direction, comm.counterpart, comm.author) == ("out", "+79160000001", org.manager4)


def test_internal_calls_and_other_events_are_acknowledged_and_not_filed(client, org, mango):
    internal = mango_call(**{"from": {"extension": "104"}})
    assert post_mango(client, mango, "call", internal).status_code == 200
    assert post_mango(client, mango, "summary", mango_summary(direction=0)).status_code == 200
    assert post_mango(client, mango, "dtmf", {"entry_id": "x", "dtmf": "1"}).status_code == 200
    assert not Communication.objects.exists()


def test_a_repeated_event_changes_nothing(client, org, mango):
    post_mango(client, mango, "summary", mango_summary(1))
    again = post_mango(client, mango, "summary", mango_summary(1))
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert Communication.objects.count() == 1


@pytest.mark.parametrize("how", ["no sign", "no key", "wrong salt", "wrong key", "json changed"])
def test_an_unsigned_or_forged_event_is_refused_and_nothing_is_stored(client, org, mango, how):
    from voronka.inbox.channels.mango import encode, sign

    data = encode(mango_summary())
    if how == "json changed":
        form = {
            "vpbx_api_key": MANGO_KEY,
            "sign": sign(MANGO_KEY, data, MANGO_SALT),
            "json": data.replace("185", "999").replace('"entry_result":1', '"entry_result":0'),
        }
    else:
        form = {
            "no sign": {"vpbx_api_key": MANGO_KEY, "json": data},
            "no key": {"sign": sign(MANGO_KEY, data, MANGO_SALT), "json": data},
            "wrong salt": {
                "vpbx_api_key": MANGO_KEY,
                "sign": sign(MANGO_KEY, data, "salt"),
                "json": data,
            },
            "wrong key": {
                "vpbx_api_key": "other",
                "sign": sign("other", data, MANGO_SALT),
                "json": data,
            },
        }[how]
    response = client.post(
        mango_path(mango, "summary"),
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == (401 if how in ("no sign", "no key") else 403)
    assert not ReceivedEvent.objects.exists() and not DeadLetter.objects.exists()
    assert not Communication.objects.exists()


def test_an_event_path_mango_does_not_post_is_not_found(client, org, mango):
    assert post_mango(client, mango, "whatever", mango_summary()).status_code == 404


@pytest.mark.parametrize(
    "payload, reason",
    [
        ("{", "not JSON"),
        (mango_summary(call_direction=7), "call_direction"),
        (mango_summary(**{"from": {"number": "abc"}}), "phone number"),
        (mango_summary(create_time="yesterday"), "create_time"),
        (mango_call(call_state="Exploded"), "call_state"),
        ({k: v for k, v in mango_summary().items() if k != "entry_id"}, "entry_id"),
    ],
)
def test_a_signed_but_malformed_event_gets_400_and_is_kept(client, org, mango, payload, reason):
    response = post_mango(client, mango, "summary", payload)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert DeadLetter.objects.get().reason == response.json()["error"]


def test_a_completed_recording_is_noted_for_the_worker(client, org, mango):
    post_mango(client, mango, "summary", mango_summary(1))
    recording = {
        "recording_id": "MToxMDE1OTk2ODQ4OjQ1OjE6cmVj",
        "recording_state": "Completed",
        "seq": 2,
        "entry_id": "MTAxNTk5Njg0ODo0NQ==",
        "call_id": "MToxMDE1OTk2ODQ4OjQ1OjE=",
        "extension": "101",
        "timestamp": 1741000200,
        "completion_code": 1000,
    }
    started = {**recording, "recording_state": "Started", "seq": 1}
    assert post_mango(client, mango, "recording", started).status_code == 200
    assert not RecordingDownload.objects.exists()
    assert post_mango(client, mango, "recording", recording).status_code == 200
    download = RecordingDownload.objects.get()
    assert download.source == "MToxMDE1OTk2ODQ4OjQ1OjE6cmVj"
    assert download.communication == Communication.objects.get()


def test_the_head_sets_the_busy_reasons_on_the_channel_page_and_they_are_checked(
    client, org, mango
):
    client.force_login(org.head)
    url = reverse("inbox:settings_channel_edit", args=[mango.id])
    page = client.get(url).content.decode()
    assert 'name="option_busy_reasons"' in page
    assert "Пусто — каждый неотвеченный звонок" in page
    refused = client.post(url, {"name": mango.name, "enabled": "on", "option_busy_reasons": "12a"})
    assert refused.status_code in (200, 422)
    mango.refresh_from_db()
    assert not mango.options.get("busy_reasons")
    client.post(
        url, {"name": mango.name, "enabled": "on", "option_busy_reasons": "1120; 1110 1120"}
    )
    mango.refresh_from_db()
    assert mango.options["busy_reasons"] == [1110, 1120]
    assert 'value="1110, 1120"' in client.get(url).content.decode()


def test_the_busy_reasons_over_the_api_are_validated_like_the_page(org, mango):
    api = Caller(org.head)
    refused = api.patch(f"/settings/channels/{mango.id}", {"options": {"busy_reasons": "x"}})
    assert refused.status_code == 422 and "busy_reasons" in refused.json()["fields"]
    unknown = api.patch(f"/settings/channels/{mango.id}", {"options": {"colour": "red"}})
    assert unknown.status_code == 422 and "colour" in unknown.json()["fields"]
    done = api.patch(f"/settings/channels/{mango.id}", {"options": {"busy_reasons": [1120, 1110]}})
    assert done.status_code == 200, done.content
    assert done.json()["options"]["busy_reasons"] == [1110, 1120]
