"""Violations over the API: each role reads exactly the violations it may see."""

from datetime import timedelta

import pytest
from django.utils import timezone

from voronka.activities.actions import do_create_task
from voronka.api.tests.caller import Caller
from voronka.control.evaluate import evaluate_workspace
from voronka.control.models import Violation
from voronka.testing.factories import make_deal
from voronka.testing.fixtures import ROLES


@pytest.fixture
def flagged(org, other_org):
    """Every seller of both workspaces has a deal without a next step and an overdue task; one
    deal of manager3 is handed to the assistant."""
    for o in (org, other_org):
        for seller in (o.head, o.senior1, o.senior2, o.manager1, o.manager2, o.manager3):
            deal = make_deal(o.head, o.pipeline, owner=seller)
            do_create_task(
                o.head,
                goal="Перезвонить",
                due_at=timezone.now() - timedelta(hours=1),
                owner=seller,
            )
            assert deal.owner == seller
        make_deal(o.head, o.pipeline, owner=o.manager4, assistant=o.assistant)
        evaluate_workspace(o.workspace.id)
    return org


def expected(user, org) -> set[int]:
    qs = Violation.objects.filter(workspace=org.workspace)
    seniors = {org.senior1.id: org.team1, org.senior2.id: org.team2}
    if user.role in ("owner", "head", "qc"):
        return set(qs.values_list("id", flat=True))
    if user.id in seniors:
        team = {u.id for u in seniors[user.id].members.all()} | {user.id}
        return set(qs.filter(manager_id__in=team).values_list("id", flat=True))
    if user.role == "assistant":
        return set(qs.filter(deal__assistant=user).values_list("id", flat=True))
    return set(qs.filter(manager=user).values_list("id", flat=True))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_exactly_the_violations_it_may_see(flagged, other_org, role):
    org = flagged
    user = getattr(org, role)
    caller = Caller(user)
    want = expected(user, org)
    assert set(caller.ids("/violations")) == want
    # A filter naming anyone, here or in another workspace, narrows and never widens.
    for person in [*org.people, other_org.manager1]:
        assert set(caller.ids("/violations", manager_id=person.id)) <= want


def test_a_manager_sees_their_own_violations_and_none_of_a_colleagues(flagged):
    org = flagged
    mine = Caller(org.manager1).get("/violations").json()["items"]
    assert mine and {v["manager_id"] for v in mine} == {org.manager1.id}
    assert Caller(org.manager1).get("/violations", manager_id=org.manager2.id).json()["items"] == []


def test_violations_filter_by_kind_deal_and_state(flagged):
    org = flagged
    head = Caller(org.head)
    overdue = head.get("/violations", kind="overdue_task").json()["items"]
    assert overdue and {v["kind"] for v in overdue} == {"overdue_task"}
    deal = Violation.objects.filter(kind="no_next_step", manager=org.manager2).get().deal
    items = head.get("/violations", deal_id=deal.id).json()["items"]
    assert [(v["kind"], v["subject"]) for v in items] == [("no_next_step", f"deal:{deal.id}")]
    assert head.get("/violations", status="resolved").json()["items"] == []
    Violation.objects.filter(deal=deal).update(resolved_at=timezone.now())
    resolved = head.get("/violations", status="resolved").json()["items"]
    assert [v["deal_id"] for v in resolved] == [deal.id]
    assert resolved[0]["resolved_at"] is not None


def test_violations_come_in_pages_that_say_whether_more_follow(flagged):
    head = Caller(flagged.head)
    first = head.get("/violations", limit=5).json()
    assert (len(first["items"]), first["has_more"]) == (5, True)
    everything = head.get("/violations", limit=200).json()
    assert everything["has_more"] is False
    ids = [v["id"] for v in everything["items"]]
    assert ids == sorted(ids, reverse=True)


def test_an_unknown_kind_is_422_naming_it(org):
    response = Caller(org.head).get("/violations", kind="late")
    assert response.status_code == 422
    assert "kind" in response.json()["fields"]
