"""Communications over the API."""

from datetime import timedelta

from django.utils import timezone

from voronka.api.tests.caller import Caller
from voronka.clients.actions import do_create_contact
from voronka.inbox.actions import do_log_communication
from voronka.inbox.models import Communication
from voronka.testing.factories import make_deal


def test_a_call_is_logged_on_a_deal_and_finds_the_deals_contact(org):
    contact = do_create_contact(org.manager1, first_name="Анна")
    deal = make_deal(org.manager1, org.pipeline, contact=contact)
    response = Caller(org.manager1).post(
        "/communications",
        {
            "kind": "call",
            "direction": "out",
            "channel": "phone",
            "occurred_at": "2025-03-01T10:00:00+03:00",
            "duration_seconds": 180,
            "comment": "Договорились о встрече во вторник",
            "deal_id": deal.id,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["author_id"], body["contact_id"], body["deal_id"]) == (
        org.manager1.id,
        contact.id,
        deal.id,
    )
    assert body["has_recording"] is False
    assert Communication.objects.get(id=body["id"]).duration_seconds == 180


def test_a_communication_in_the_future_is_422_on_occurred_at(org):
    deal = make_deal(org.manager1, org.pipeline)
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = Caller(org.manager1).post(
        "/communications", {"kind": "call", "deal_id": deal.id, "occurred_at": future}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"occurred_at"}


def test_a_communication_with_nobody_is_422_naming_the_deal(org):
    response = Caller(org.manager1).post("/communications", {"kind": "note"})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"deal_id"}


def test_an_unknown_kind_or_channel_is_422_naming_it(org):
    deal = make_deal(org.manager1, org.pipeline)
    caller = Caller(org.manager1)
    bad_kind = caller.post("/communications", {"kind": "fax", "deal_id": deal.id})
    assert set(bad_kind.json()["fields"]) == {"kind"}
    bad_channel = caller.post(
        "/communications", {"kind": "message", "channel": "pigeon", "deal_id": deal.id}
    )
    assert set(bad_channel.json()["fields"]) == {"channel"}


def test_a_communication_on_a_colleagues_deal_is_422_on_deal_id(org):
    theirs = make_deal(org.manager2, org.pipeline)
    response = Caller(org.manager1).post("/communications", {"kind": "call", "deal_id": theirs.id})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"deal_id"}
    assert not Communication.objects.exists()


def test_the_comment_is_written_by_patch_and_nothing_else_changes(org):
    deal = make_deal(org.manager1, org.pipeline)
    comm = do_log_communication(org.manager1, kind="call", deal=deal)
    caller = Caller(org.manager1)
    response = caller.patch(f"/communications/{comm.id}", {"comment": "Пришлют реквизиты"})
    assert response.status_code == 200
    assert response.json()["comment"] == "Пришлют реквизиты"
    refused = caller.patch(f"/communications/{comm.id}", {"comment": "x", "kind": "email"})
    assert refused.status_code == 422
    assert set(refused.json()["fields"]) == {"kind"}
    comm.refresh_from_db()
    assert (comm.kind, comm.comment) == ("call", "Пришлют реквизиты")


def test_an_empty_comment_is_422_on_comment(org):
    deal = make_deal(org.manager1, org.pipeline)
    comm = do_log_communication(org.manager1, kind="call", deal=deal)
    response = Caller(org.manager1).patch(f"/communications/{comm.id}", {"comment": "  "})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"comment"}


def test_communications_are_listed_newest_first_and_filtered(org):
    contact = do_create_contact(org.manager1, first_name="Анна")
    deal = make_deal(org.manager1, org.pipeline)
    now = timezone.now()
    call = do_log_communication(
        org.manager1, kind="call", deal=deal, occurred_at=now - timedelta(hours=2)
    )
    note = do_log_communication(
        org.manager1, kind="note", contact=contact, occurred_at=now - timedelta(hours=1)
    )
    caller = Caller(org.manager1)
    assert caller.ids("/communications") == [note.id, call.id]
    assert caller.ids("/communications", deal_id=deal.id) == [call.id]
    assert caller.ids("/communications", contact_id=contact.id) == [note.id]
    assert caller.ids("/communications", kind="call") == [call.id]


def test_a_manager_gets_404_for_a_colleagues_communication(org):
    theirs = do_log_communication(
        org.manager2, kind="call", deal=make_deal(org.manager2, org.pipeline)
    )
    caller = Caller(org.manager1)
    assert caller.ids("/communications") == []
    assert caller.get(f"/communications/{theirs.id}").status_code == 404
    assert caller.patch(f"/communications/{theirs.id}", {"comment": "—"}).status_code == 404


def test_a_senior_reads_the_teams_calls_and_the_quality_controller_may_not_comment(org):
    comm = do_log_communication(
        org.manager2, kind="call", deal=make_deal(org.manager2, org.pipeline)
    )
    assert Caller(org.senior1).ids("/communications") == [comm.id]
    assert Caller(org.senior2).ids("/communications") == []
    qc = Caller(org.qc)
    assert qc.get(f"/communications/{comm.id}").status_code == 200
    assert qc.patch(f"/communications/{comm.id}", {"comment": "Оценено"}).status_code == 403
