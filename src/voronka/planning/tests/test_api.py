"""Targets, decomposition and plan versus fact over the API, with the pages' visibility."""

from decimal import Decimal

import pytest

from voronka.api.tests.caller import Caller
from voronka.planning.actions import do_set_target
from voronka.planning.models import Scope, Target
from voronka.testing.fixtures import ROLES

from .helpers import this_month, walk

#: Whose rows of a company target each role reads.
ROWS = {
    "owner": {"manager1", "manager2", "manager3", "manager4"},
    "head": {"manager1", "manager2", "manager3", "manager4"},
    "qc": {"manager1", "manager2", "manager3", "manager4"},
    "senior1": {"manager1", "manager2"},
    "senior2": {"manager3", "manager4"},
    "manager1": {"manager1"},
    "manager2": {"manager2"},
    "manager3": {"manager3"},
    "manager4": {"manager4"},
}


@pytest.fixture
def planned(org, other_org):
    walk(org, org.manager1, won=10, lost_after_proposal=10)
    company = do_set_target(
        org.head,
        period_kind="month",
        period_start=this_month(),
        scope=Scope.COMPANY,
        amount=1000000,
        split_method="equal",
    )
    own = do_set_target(
        org.head,
        period_kind="month",
        period_start=this_month(),
        scope=Scope.MANAGER,
        manager=org.manager1,
        amount=300000,
    )
    foreign = do_set_target(
        other_org.head,
        period_kind="month",
        period_start=this_month(),
        scope=Scope.COMPANY,
        amount=5,
    )
    return company, own, foreign


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_the_targets_and_rows_it_may_see(org, planned, role):
    company, own, foreign = planned
    user = getattr(org, role)
    caller = Caller(user)
    if role == "assistant":
        assert caller.get("/planning/targets").status_code == 404
        assert caller.get("/planning/plan-fact").status_code == 404
        return
    sees_own = role in ("owner", "head", "qc", "senior1", "manager1")
    assert set(caller.ids("/planning/targets")) == {company.id} | ({own.id} if sees_own else set())
    assert caller.get(f"/planning/targets/{foreign.id}").status_code == 404
    assert caller.get(f"/planning/targets/{foreign.id}/decomposition").status_code == 404
    body = caller.get(f"/planning/targets/{company.id}/decomposition").json()
    names = {getattr(org, n).id: n for n in ROWS["head"]}
    assert {names[m["manager_id"]] for m in body["managers"]} == ROWS[role]
    whole = role in ("owner", "head", "qc")
    assert (body["overall"] is not None) == whole
    assert (body["target"]["amount"] is not None) == whole
    fact = caller.get("/planning/plan-fact").json()
    assert {names.get(r["manager_id"]) for r in fact["rows"]} == ROWS[role]


def test_the_decomposition_shows_every_step_and_an_override_recomputes_it(org, planned):
    company, _own, _foreign = planned
    head = Caller(org.head)
    body = head.get(f"/planning/targets/{company.id}/decomposition").json()
    assert body["overall"]["status"] == "ok"
    assert body["overall"]["won"] == 10
    assert body["overall"]["steps"][0]["what"] == "won"
    paces = {m["manager_id"]: m["pace"] for m in body["managers"]}
    # manager2 made no calls in the window: any call asked of them is a stretch.
    assert paces[org.manager2.id]["usual_calls_per_day"] == "0.0"
    assert (paces[org.manager2.id]["times"], paces[org.manager2.id]["stretch"]) == (None, True)
    stage = org.stage("КП отправлено")
    changed = head.post(
        f"/planning/targets/{company.id}/overrides", {"key": f"conversion:{stage.id}", "value": 0}
    ).json()
    assert changed["overall"]["status"] == "impossible"
    assert changed["overall"]["blocked_by"] == f"conversion:{stage.id}"
    refused = head.post(
        f"/planning/targets/{company.id}/overrides", {"key": f"conversion:{stage.id}", "value": 101}
    )
    assert refused.status_code == 422
    assert "value" in refused.json()["fields"]


def test_only_the_owner_and_the_head_write_targets(org, planned):
    company, _own, foreign = planned
    body = {
        "period_kind": "month",
        "period_start": this_month().isoformat(),
        "scope": "team",
        "team_id": org.team1.id,
        "amount": "700000",
    }
    assert Caller(org.senior1).post("/planning/targets", body).status_code == 403
    assert (
        Caller(org.manager1).patch(f"/planning/targets/{company.id}", {"amount": 1}).status_code
        == 404
    )
    created = Caller(org.head).post("/planning/targets", body)
    assert created.status_code == 201
    assert created.json()["amount"] == "700000.00"
    assert (
        Caller(org.head).patch(f"/planning/targets/{foreign.id}", {"amount": 1}).status_code == 404
    )
    patched = Caller(org.owner).patch(f"/planning/targets/{company.id}", {"amount": "1200000"})
    assert patched.status_code == 200
    assert Target.objects.get(id=company.id).amount == Decimal(1200000)
    split = Caller(org.head).post(
        f"/planning/targets/{created.json()['id']}/split",
        {"method": "share", "values": {str(org.manager1.id): 60, str(org.manager2.id): 30}},
    )
    assert split.status_code == 200
    assert Decimal(split.json()["split_difference"]) == Decimal(70000)
    client = Caller(org.head).client
    assert client.delete(f"/api/v1/planning/targets/{company.id}").status_code == 204
    assert not Target.objects.filter(id=company.id).exists()


def test_a_target_for_another_workspaces_team_names_the_team(org, other_org):
    response = Caller(org.head).post(
        "/planning/targets",
        {
            "period_kind": "month",
            "period_start": this_month().isoformat(),
            "scope": "team",
            "team_id": other_org.team1.id,
            "amount": "1",
        },
    )
    assert response.status_code == 422
    assert "team_id" in response.json()["fields"] or "team" in response.json()["fields"]
