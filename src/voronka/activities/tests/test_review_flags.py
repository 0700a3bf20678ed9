"""Flagging a call for the planning meeting from the deal's timeline."""

import pytest
from django.test import Client

from voronka.activities.actions import do_flag_for_review
from voronka.activities.models import ReviewFlag
from voronka.core.errors import DomainError
from voronka.inbox.actions import do_log_communication
from voronka.testing.factories import make_deal


def signed_in(user, htmx=False) -> Client:
    c = Client(headers={"HX-Request": "true"} if htmx else {})
    c.force_login(user)
    return c


@pytest.fixture
def call(org):
    deal = make_deal(org.manager1, org.pipeline, title="Поставка бумаги")
    return do_log_communication(
        org.manager1, kind="call", deal=deal, comment="Обсудили цену, клиент думает до пятницы."
    )


def url(comm) -> str:
    return f"/communications/{comm.id}/review-flag/"


def test_the_head_flags_a_call_from_the_timeline_with_a_note(org, call):
    response = signed_in(org.head, htmx=True).post(url(call), {"note": "Возражение о цене"})
    assert response.status_code == 200
    flag = ReviewFlag.objects.get(communication=call)
    assert (flag.note, flag.flagged_by, flag.cleared_at) == ("Возражение о цене", org.head, None)
    assert "Возражение о цене" in response.content.decode()


def test_the_deal_timeline_shows_the_flag_to_the_calls_manager(org, call):
    do_flag_for_review(org.qc, call, note="Хороший пример работы с возражением")
    html = signed_in(org.manager1).get(f"/deals/{call.deal_id}/").content.decode()
    assert 'data-testid="review-flag"' in html
    assert "Хороший пример работы с возражением" in html
    assert f'action="{url(call)}"' not in html  # the manager sees it but does not set it


def test_the_senior_flags_their_teams_call_and_the_quality_controller_too(org, call):
    assert signed_in(org.senior1).post(url(call), {"note": "a"}).status_code == 302
    assert signed_in(org.qc).post(url(call), {"note": "b"}).status_code == 302
    # One open flag per call: the second note replaces the first.
    assert list(ReviewFlag.objects.values_list("note", flat=True)) == ["b"]


def test_a_flag_is_cleared_once_discussed(org, call):
    do_flag_for_review(org.head, call)
    response = signed_in(org.head, htmx=True).post(url(call), {"clear": "1"})
    assert response.status_code == 200
    assert ReviewFlag.objects.get(communication=call).cleared_by == org.head
    assert 'data-testid="review-flag"' not in response.content.decode()


@pytest.mark.parametrize("role", ["manager1", "manager2", "assistant", "senior2"])
def test_nobody_else_flags_a_call(org, call, role):
    assert signed_in(getattr(org, role)).post(url(call), {"note": "x"}).status_code == 404
    assert not ReviewFlag.objects.exists()


def test_a_call_of_another_workspace_is_not_there(org, other_org):
    deal = make_deal(other_org.manager1, other_org.pipeline)
    foreign = do_log_communication(other_org.manager1, kind="call", deal=deal, comment="x" * 30)
    assert signed_in(org.head).post(url(foreign), {"note": "x"}).status_code == 404


def test_only_calls_are_flagged_and_a_long_note_is_refused(org, call):
    meeting = do_log_communication(org.manager1, kind="meeting", deal=call.deal, comment="x" * 30)
    with pytest.raises(DomainError):
        do_flag_for_review(org.head, meeting)
    response = signed_in(org.head, htmx=True).post(url(call), {"note": "x" * 501})
    assert response.status_code == 422
    assert not ReviewFlag.objects.exists()
