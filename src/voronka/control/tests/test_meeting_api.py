"""The planning meeting over the API: the page's content, for the page's people only."""

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from voronka.activities.actions import do_flag_for_review
from voronka.api.tests.caller import Caller
from voronka.control.evaluate import evaluate_workspace
from voronka.inbox.actions import do_log_communication
from voronka.testing.factories import make_deal
from voronka.testing.fixtures import ROLES

#: Whose deals each role reads in the agenda; None: the agenda is not there for the role.
SEES = {
    "owner": {"manager1", "manager2", "manager3", "manager4"},
    "head": {"manager1", "manager2", "manager3", "manager4"},
    "senior1": {"manager1", "manager2"},
    "senior2": {"manager3", "manager4"},
}


@pytest.fixture
def worlds(org, other_org):
    """In both workspaces, each manager has a deal at «invoice issued», a stalled lead without a
    next step, and a flagged call."""
    out = {}
    for o in (org, other_org):
        deals = {}
        for name in ("manager1", "manager2", "manager3", "manager4"):
            m = getattr(o, name)
            hot = make_deal(m, o.pipeline, title=f"Счёт {name}", stage=o.stage("Счёт выставлен"))
            make_deal(m, o.pipeline, title=f"Лид {name}", days_ago=10)
            call = do_log_communication(m, kind="call", deal=hot, comment="x" * 30)
            do_flag_for_review(o.head, call, note=name)
            deals[name] = hot
        evaluate_workspace(o.workspace.id)
        out[o.workspace.id] = deals
    return out


def owners_of(body, org) -> dict[str, set[str]]:
    names = {getattr(org, n).id: n for n in ("manager1", "manager2", "manager3", "manager4")}
    return {
        "hot": {names[d["owner_id"]] for d in body["hot_deals"]["deals"]},
        "stuck": {names[g["manager_id"]] for g in body["stalled_or_no_next_step"]},
        "calls": {c["note"] for c in body["flagged_calls"]["calls"]},
        "plan": {
            names[r["manager_id"]] for r in body["plan_fact"]["rows"] if r["manager_id"] in names
        },
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_the_agenda_of_exactly_whom_it_controls(org, worlds, role):
    response = Caller(getattr(org, role)).get("/control/meeting")
    if role not in SEES:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    seen = owners_of(response.json(), org)
    assert seen == {"hot": SEES[role], "stuck": SEES[role], "calls": SEES[role], "plan": SEES[role]}


def test_the_head_narrows_to_a_team_and_a_senior_only_to_their_own(org, worlds):
    body = Caller(org.head).get("/control/meeting", team_id=org.team2.id).json()
    assert owners_of(body, org)["hot"] == {"manager3", "manager4"}
    senior = Caller(org.senior1)
    assert senior.get("/control/meeting", team_id=org.team1.id).status_code == 200
    assert senior.get("/control/meeting", team_id=org.team2.id).status_code == 404


def test_the_agenda_carries_what_the_page_shows(org, worlds):
    body = Caller(org.head).get("/control/meeting", period="week").json()
    assert body["plan_fact"]["period_kind"] == "week"
    today = timezone.now().astimezone(ZoneInfo(org.head.timezone)).date()
    assert body["today"] == today.isoformat()  # the caller's own day
    hot = body["hot_deals"]
    assert hot["stage_ids"] == [org.stage("Счёт выставлен").id]
    assert hot["total"] == 4 and not hot["capped"]
    assert {d["deal_id"] for d in hot["deals"]} == {d.id for d in worlds[org.workspace.id].values()}
    kinds = {k["kind"] for g in body["stalled_or_no_next_step"] for k in g["kinds"]}
    assert kinds == {"stalled", "no_next_step"}
    assert body["won_and_lost"]["won"] == [] and body["won_and_lost"]["lost"] == []


def test_another_workspaces_team_is_not_there(org, other_org, worlds):
    assert Caller(org.head).get("/control/meeting", team_id=other_org.team1.id).status_code == 404
