"""Call recordings: fetched by the worker from the provider (retried after a failure), stored
under MEDIA_ROOT, played by signed links that expire to those who may see the deal; recorded
meetings uploaded onto a communication."""

import base64
import logging
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from voronka.inbox.actions import do_log_communication
from voronka.inbox.models import Communication, RecordingDownload
from voronka.inbox.recordings import MAX_ATTEMPTS, fetch, retry_delay, signed_url
from voronka.testing.factories import make_deal

from .telephony import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MANGO_KEY,
    MANGO_SALT,
    mango_summary,
    post_mango,
    post_twilio,
    recording_callback,
    status_callback,
)

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64


def twilio_recording_ready(client, twilio, server):
    post_twilio(client, twilio, status_callback())
    url = f"{server.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'7' * 32}"
    post_twilio(client, twilio, recording_callback(RecordingUrl=url))
    return RecordingDownload.objects.get()


def test_the_worker_is_asked_to_fetch_once_the_delivery_is_committed(
    client, org, twilio, provider_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        download = twilio_recording_ready(client, twilio, provider_server)
    queued = DBTaskResult.objects.get(task_path="voronka.inbox.jobs.fetch_recording")
    assert queued.args_kwargs["args"] == [download.id]


def test_a_twilio_recording_is_fetched_retried_after_a_failure_and_stored(
    client, org, twilio, provider_server, settings, django_capture_on_commit_callbacks
):
    download = twilio_recording_ready(client, twilio, provider_server)
    provider_server.answer(500, {"message": "try later"})
    with django_capture_on_commit_callbacks(execute=True):
        assert fetch(download.id) == "retry"
    download.refresh_from_db()
    assert download.attempts == 1 and "500" in download.last_error
    assert download.next_attempt_at > timezone.now()
    retry = DBTaskResult.objects.get(task_path="voronka.inbox.jobs.fetch_recording")
    assert retry.run_after == download.next_attempt_at
    assert not Communication.objects.get().recording

    provider_server.answer(200, MP3, "audio/mpeg")
    assert fetch(download.id) == "done"
    assert fetch(download.id) == "nothing to do"
    first, second = provider_server.requests
    expected_path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'7' * 32}.mp3"
    assert first.path == second.path == expected_path
    auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert second.headers["authorization"] == f"Basic {auth}"
    comm = Communication.objects.get()
    assert comm.recording.name.startswith(f"recordings/{org.workspace.id}/{comm.id}-")
    assert comm.recording.name.endswith(".mp3")
    assert (Path(settings.MEDIA_ROOT) / comm.recording.name).read_bytes() == MP3
    download.refresh_from_db()
    assert download.done_at is not None and download.attempts == 2 and not download.last_error


def test_a_mango_recording_is_downloaded_with_a_signed_request(client, org, mango, provider_server):
    from voronka.inbox.channels.mango import encode, sign

    post_mango(client, mango, "summary", mango_summary(1))
    post_mango(
        client,
        mango,
        "recording",
        {
            "recording_id": "REC-1",
            "recording_state": "Completed",
            "entry_id": "MTAxNTk5Njg0ODo0NQ==",
            "timestamp": 1741000200,
        },
    )
    provider_server.answer(200, MP3, "audio/mpeg")
    assert fetch(RecordingDownload.objects.get().id) == "done"
    [request] = provider_server.requests
    assert request.path == "/vpbx/queries/recording/post/"
    data = encode({"recording_id": "REC-1", "action": "download"})
    from urllib.parse import urlencode

    expected = {"vpbx_api_key": MANGO_KEY, "sign": sign(MANGO_KEY, data, MANGO_SALT), "json": data}
    assert request.body == urlencode(expected).encode()
    assert Communication.objects.get().recording.read() == MP3


def test_a_recording_that_never_comes_is_given_up_with_one_warning(
    client, org, twilio, provider_server, caplog
):
    download = twilio_recording_ready(client, twilio, provider_server)
    provider_server.default = (404, b'{"message": "not found"}', "application/json")
    with caplog.at_level(logging.DEBUG, logger="voronka.inbox.recordings"):
        outcomes = [fetch(download.id) for _ in range(MAX_ATTEMPTS + 1)]
    assert outcomes == ["retry"] * (MAX_ATTEMPTS - 1) + ["gave up", "nothing to do"]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "not fetched" in warnings[0].getMessage()
    download.refresh_from_db()
    assert download.gave_up_at is not None and "404" in download.last_error


def test_the_waits_double_and_are_capped():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(30).total_seconds() == 6 * 3600


# -- Playing ----------------------------------------------------------------------------------


@pytest.fixture
def recorded_call(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    deal = make_deal(org.manager1, org.pipeline)
    comm = do_log_communication(org.manager1, kind="call", deal=deal, comment="Запись")
    comm.recording.save("call.mp3", SimpleUploadedFile("call.mp3", MP3), save=True)
    return comm


def test_a_signed_link_plays_the_recording_to_those_who_may_see_the_deal(
    client, org, recorded_call
):
    for person in (org.manager1, org.senior1, org.head):
        client.force_login(person)
        response = client.get(signed_url(recorded_call, person))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == MP3
        assert response["Content-Type"] == "audio/mpeg"


@pytest.mark.parametrize("role", ["manager2", "manager3", "senior2", "assistant"])
def test_others_get_404_even_with_a_link_of_their_own(client, org, recorded_call, role):
    person = getattr(org, role)
    client.force_login(person)
    assert client.get(signed_url(recorded_call, person)).status_code == 404


def test_an_unsigned_borrowed_or_expired_link_is_refused(client, org, recorded_call, settings):
    client.force_login(org.head)
    plain = reverse("inbox:communication_recording", args=[recorded_call.id])
    assert client.get(plain).status_code == 403
    assert client.get(plain + "?t=forged").status_code == 403
    assert client.get(signed_url(recorded_call, org.manager1)).status_code == 403  # not theirs
    link = signed_url(recorded_call, org.head)
    settings.VORONKA_RECORDING_LINK_MAX_AGE = -1
    assert client.get(link).status_code == 403


def test_the_deal_page_plays_the_recording_by_a_signed_link(client, org, recorded_call):
    client.force_login(org.manager1)
    page = client.get(reverse("sales:deal_detail", args=[recorded_call.deal_id])).content.decode()
    assert "<audio" in page
    path = reverse("inbox:communication_recording", args=[recorded_call.id])
    assert f'src="{path}?t=' in page


# -- Uploading --------------------------------------------------------------------------------


def upload(client, comm, name, content):
    url = reverse("inbox:communication_attach_recording", args=[comm.id])
    return client.post(url, {"file": SimpleUploadedFile(name, content)}, HTTP_HX_REQUEST="true")


@pytest.fixture
def meeting(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    deal = make_deal(org.manager1, org.pipeline)
    return do_log_communication(org.manager1, kind="meeting", deal=deal, comment="Встреча")


def test_a_recorded_meeting_is_uploaded_and_played_as_video(client, org, meeting):
    client.force_login(org.manager1)
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
    response = upload(client, meeting, "встреча.mp4", mp4)
    assert response.status_code == 200
    assert "<video" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.recording.read() == mp4
    page = client.get(reverse("sales:deal_detail", args=[meeting.deal_id])).content.decode()
    assert "<video" in page


def test_a_file_that_is_not_audio_or_video_is_refused_clearly(client, org, meeting):
    client.force_login(org.manager1)
    errors = set()
    for name, content in [
        ("notes.txt", b"hello"),
        ("call.mp3", b"MZ\x90\x00 not audio at all"),
        ("empty.wav", b""),
    ]:
        response = upload(client, meeting, name, content)
        assert response.status_code == 422
        assert "is-invalid" in response.content.decode()
        errors.add(str(response.context["error"]))
    assert len(errors) == 3  # each says what is wrong with that file
    assert any("notes.txt" in e for e in errors)
    meeting.refresh_from_db()
    assert not meeting.recording


def test_a_file_over_the_limit_is_refused_with_the_limit(client, org, meeting, settings):
    settings.VORONKA_RECORDING_UPLOAD_MAX_BYTES = 1024 * 1024
    client.force_login(org.manager1)
    response = upload(client, meeting, "long.mp3", MP3 + b"\x00" * (1024 * 1024))
    assert response.status_code == 422
    assert " 1 " in str(response.context["error"])  # the limit, in MB


def test_nobody_uploads_onto_a_colleagues_meeting(client, org, meeting):
    client.force_login(org.manager3)
    assert upload(client, meeting, "a.mp3", MP3).status_code == 404
    client.force_login(org.qc)
    assert upload(client, meeting, "a.mp3", MP3).status_code == 404


# -- Seeking: byte ranges -------------------------------------------------------------------------


def test_the_player_seeks_with_a_range_and_gets_206_with_those_bytes(client, org, recorded_call):
    client.force_login(org.manager1)
    link = signed_url(recorded_call, org.manager1)
    whole = client.get(link)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    size = len(MP3)
    middle = client.get(link, headers={"Range": "bytes=2-5"})
    assert middle.status_code == 206
    assert middle["Content-Range"] == f"bytes 2-5/{size}"
    assert middle["Content-Length"] == "4"
    assert middle["Content-Type"] == "audio/mpeg"
    assert b"".join(middle.streaming_content) == MP3[2:6]
    to_end = client.get(link, headers={"Range": "bytes=3-"})
    assert to_end["Content-Range"] == f"bytes 3-{size - 1}/{size}"
    assert b"".join(to_end.streaming_content) == MP3[3:]
    tail = client.get(link, headers={"Range": "bytes=-4"})
    assert b"".join(tail.streaming_content) == MP3[-4:]
    past_end = client.get(link, headers={"Range": f"bytes=1-{size + 100}"})
    assert past_end["Content-Range"] == f"bytes 1-{size - 1}/{size}"


def test_a_range_past_the_end_is_416_and_a_malformed_one_gets_the_whole_file(
    client, org, recorded_call
):
    client.force_login(org.manager1)
    link = signed_url(recorded_call, org.manager1)
    size = len(MP3)
    refused = client.get(link, headers={"Range": f"bytes={size}-"})
    assert refused.status_code == 416
    assert refused["Content-Range"] == f"bytes */{size}"
    for header in ("bytes=5-2", "items=0-3", "bytes=0-1,4-5", "bytes=abc"):
        response = client.get(link, headers={"Range": header})
        assert response.status_code == 200, header
        assert b"".join(response.streaming_content) == MP3


def test_a_range_does_not_open_the_recording_to_others(client, org, recorded_call):
    client.force_login(org.manager2)
    link = signed_url(recorded_call, org.manager2)
    assert client.get(link, headers={"Range": "bytes=0-3"}).status_code == 404
