"""The funnel and KPIs over the API: each role reads exactly the figures it may see."""

from datetime import date

import pytest

from voronka.analytics.rollups import rebuild_workspace
from voronka.api.tests.caller import Caller
from voronka.inbox.actions import do_log_communication
from voronka.sales.actions import do_move_deal
from voronka.testing.factories import make_deal
from voronka.testing.fixtures import ROLES

pytestmark = pytest.mark.django_db

SELLERS = ["head", "senior1", "senior2", "manager1", "manager2", "manager3", "manager4"]


@pytest.fixture
def activity(org, other_org):
    """Every seller of both workspaces has one deal moved to qualification and one call."""
    for o in (org, other_org):
        for name in SELLERS:
            person = getattr(o, name)
            deal = make_deal(person, o.pipeline, owner=person, amount=100)
            do_move_deal(person, deal, o.stage("Квалификация"))
            do_log_communication(person, kind="call", direction="out", deal=deal)
        rebuild_workspace(o.workspace)
    return org


def expected_owners(org, role) -> set[int]:
    user = getattr(org, role)
    if role in ("owner", "head"):
        return {getattr(org, n).id for n in SELLERS}
    if role == "senior1":
        return {org.senior1.id, org.manager1.id, org.manager2.id}
    if role == "senior2":
        return {org.senior2.id, org.manager3.id, org.manager4.id}
    return {user.id}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_exactly_the_figures_it_may_see(activity, other_org, role):
    org = activity
    caller = Caller(getattr(org, role))
    if role in ("assistant", "qc"):
        for path in ("/analytics/funnel", "/analytics/kpis", "/analytics/kpi-definitions"):
            assert caller.get(path).status_code == 404
        return
    want = expected_owners(org, role)
    funnel = caller.get("/analytics/funnel").json()
    first = funnel["stages"][0]
    assert first["entered"] == len(want)
    kpis = caller.get("/analytics/kpis", codes="calls_out").json()["values"]
    assert {v["who"] for v in kpis} == want
    # A filter naming anyone, here or in another workspace, narrows and never widens.
    for person in [*org.people, other_org.manager1]:
        values = caller.get("/analytics/kpis", owner_id=person.id).json()["values"]
        assert {v["who"] for v in values} <= want & {person.id}


def test_kpis_add_up_per_team_with_their_definitions(activity):
    org = activity
    caller = Caller(org.head)
    values = caller.get("/analytics/kpis", per="team", codes="new_deals").json()["values"]
    by_team = {v["who"]: v["value"] for v in values}
    assert by_team[org.team1.id] == 3  # senior1, manager1, manager2
    assert by_team[org.team2.id] == 3
    definitions = caller.get("/analytics/kpi-definitions").json()
    assert {d["code"] for d in definitions} >= {"calls_out", "payments_amount", "cycle_days"}
    assert all(d["definition"] for d in definitions)


def test_a_period_that_ends_before_it_starts_is_422(org):
    response = Caller(org.head).get(
        "/analytics/funnel", since=str(date(2025, 2, 1)), until=str(date(2025, 1, 1))
    )
    assert response.status_code == 422
