"""Logging a communication, commenting it and listening to its recording, for every role."""

import json

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from voronka.clients.models import Contact
from voronka.inbox.actions import do_log_communication
from voronka.inbox.models import Communication
from voronka.testing.factories import make_deal

CREATE = reverse("inbox:communication_create")


def log(client, **data):
    return client.post(CREATE, {"kind": "call", "direction": "out", **data}, HTTP_HX_REQUEST="true")


def test_a_manager_logs_a_call_with_its_comment_on_their_deal(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    response = log(client, deal=deal.id, comment="Договорились о встрече", duration_minutes=3)
    assert response.status_code == 200
    events = json.loads(response["HX-Trigger"])
    assert "dealChanged" in events and "voronka:toast" in events
    comm = Communication.objects.get(deal=deal)
    assert (comm.kind, comm.channel, comm.duration_seconds, comm.author) == (
        "call",
        "phone",
        180,
        org.manager1,
    )
    assert comm.comment == "Договорились о встрече"
    assert 'name="comment"' in response.content.decode()  # a fresh form for the next one


def test_a_meeting_goes_in_person_unless_told_otherwise(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    log(client, deal=deal.id, kind="meeting", comment="Встретились в офисе")
    assert Communication.objects.get(deal=deal).channel == "in_person"


def test_a_communication_without_a_comment_is_refused_with_422(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    response = log(client, deal=deal.id, comment="  ")
    assert response.status_code == 422
    assert "invalid-feedback" in response.content.decode()
    assert not Communication.objects.exists()


def test_a_communication_in_the_future_is_refused_with_the_actions_reason(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    response = log(client, deal=deal.id, comment="ok", occurred_at="2999-01-01T10:00")
    assert response.status_code == 422
    assert response.context["form"].errors["occurred_at"]


def test_nothing_is_logged_on_a_colleagues_deal_or_contact(client, org):
    deal = make_deal(org.manager2, org.pipeline)
    contact = Contact.objects.create(workspace=org.workspace, first_name="Ю", owner=org.manager2)
    client.force_login(org.manager1)
    assert log(client, deal=deal.id, comment="x").status_code == 404
    assert log(client, contact=contact.id, comment="x").status_code == 404
    assert not Communication.objects.exists()


def test_a_communication_must_say_who_it_was_with(client, org):
    client.force_login(org.manager1)
    response = log(client, comment="С кем-то")
    assert response.status_code == 422
    assert not Communication.objects.exists()


def test_a_plain_form_post_goes_back_to_the_deal(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.manager1)
    response = client.post(CREATE, {"kind": "call", "deal": deal.id, "comment": "ok"})
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:deal_detail", args=[deal.id])
    evil = client.post(
        CREATE, {"kind": "call", "deal": deal.id, "comment": "ok", "next": "https://evil.test/"}
    )
    assert evil["Location"] == reverse("sales:deal_detail", args=[deal.id])


def test_the_quality_controller_logs_nothing(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    client.force_login(org.qc)
    assert log(client, deal=deal.id, comment="x").status_code == 404


def test_the_comment_is_written_afterwards_and_rewritten(client, org):
    deal = make_deal(org.manager1, org.pipeline)
    comm = do_log_communication(org.manager1, kind="call", deal=deal)
    client.force_login(org.manager1)
    url = reverse("inbox:communication_comment", args=[comm.id])
    response = client.post(url, {"comment": "Клиент просит скидку"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Клиент просит скидку" in response.content.decode()
    comm.refresh_from_db()
    assert comm.comment == "Клиент просит скидку"
    assert client.post(url, {"comment": ""}, HTTP_HX_REQUEST="true").status_code == 422
    comm.refresh_from_db()
    assert comm.comment == "Клиент просит скидку"


def test_a_colleague_cannot_comment_someone_elses_call(client, org):
    comm = do_log_communication(
        org.manager2, kind="call", deal=make_deal(org.manager2, org.pipeline)
    )
    client.force_login(org.manager1)
    url = reverse("inbox:communication_comment", args=[comm.id])
    assert client.post(url, {"comment": "чужое"}).status_code == 404


@pytest.fixture
def recorded_call(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    deal = make_deal(org.manager1, org.pipeline)
    comm = do_log_communication(org.manager1, kind="call", deal=deal, comment="Запись")
    comm.recording.save("call.mp3", ContentFile(b"ID3-fake-audio"), save=True)
    return comm


def test_the_recording_streams_to_those_who_may_see_the_call(client, org, recorded_call):
    from voronka.inbox.recordings import signed_url

    for person in (org.manager1, org.senior1, org.head, org.qc):
        client.force_login(person)
        response = client.get(signed_url(recorded_call, person))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"ID3-fake-audio"
        assert response["Content-Type"] == "audio/mpeg"


@pytest.mark.parametrize("role", ["manager2", "senior2", "manager3", "assistant"])
def test_the_recording_is_404_for_someone_who_may_not_see_the_call(
    client, org, recorded_call, role
):
    client.force_login(getattr(org, role))
    response = client.get(reverse("inbox:communication_recording", args=[recorded_call.id]))
    assert response.status_code == 404


def test_a_call_without_a_recording_has_nothing_to_stream(client, org):
    comm = do_log_communication(
        org.manager1, kind="call", deal=make_deal(org.manager1, org.pipeline)
    )
    client.force_login(org.manager1)
    assert client.get(reverse("inbox:communication_recording", args=[comm.id])).status_code == 404


def test_the_deal_page_plays_the_recording(client, org, recorded_call):
    client.force_login(org.manager1)
    page = client.get(reverse("sales:deal_detail", args=[recorded_call.deal_id])).content.decode()
    assert "<audio" in page
    assert reverse("inbox:communication_recording", args=[recorded_call.id]) in page
