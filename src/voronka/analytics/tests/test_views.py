"""The funnel page: the bottleneck in words, each person's figures only, CSV for those allowed."""

from datetime import timedelta

import pytest

from voronka.analytics.rollups import rebuild_workspace
from voronka.sales.actions import do_move_deal
from voronka.testing.factories import make_deal

pytestmark = pytest.mark.django_db


def _funnel(org):
    """manager1 and manager2 move most qualified deals to a meeting; manager3 almost none."""
    qual = org.stage("Квалификация")
    meeting = org.stage("Встреча назначена")
    for manager, moved in ((org.manager1, 5), (org.manager2, 5), (org.manager3, 1)):
        for i in range(6):
            deal = make_deal(manager, org.pipeline, owner=manager, days_ago=10, amount=1000)
            do_move_deal(manager, deal, qual, at=deal.stage_entered_at + timedelta(hours=20))
            if i < moved:
                do_move_deal(manager, deal, meeting, at=deal.stage_entered_at + timedelta(days=1))
    rebuild_workspace(org.workspace)


def test_the_head_reads_which_manager_and_stage_hold_deals_back(org, client):
    _funnel(org)
    client.force_login(org.head)
    response = client.get("/analytics/funnel/")
    assert response.status_code == 200
    html = response.content.decode()
    name = org.manager3.get_full_name() or org.manager3.username
    assert f"{name}: «Квалификация» → «Встреча назначена» 17% против 83% у остальных" in html


def test_a_manager_sees_only_their_own_figures(org, client):
    _funnel(org)
    client.force_login(org.manager1)
    response = client.get("/analytics/funnel/")
    rows = {r.stage.name: r for r in response.context["report"].rows}
    assert rows["Квалификация"].entered == 6
    other = client.get(f"/analytics/funnel/?pipeline={org.pipeline.id}&manager={org.manager3.id}")
    assert other.context["report"].rows[0].entered == 0


def test_a_senior_sees_their_group(org, client):
    _funnel(org)
    client.force_login(org.senior1)
    response = client.get("/analytics/funnel/")
    rows = {r.stage.name: r for r in response.context["report"].rows}
    assert rows["Квалификация"].entered == 12


@pytest.mark.parametrize("role", ["assistant", "qc"])
def test_the_page_is_not_there_for_roles_outside_sales(org, client, role):
    client.force_login(getattr(org, role))
    assert client.get("/analytics/funnel/").status_code == 404


def test_csv_is_for_those_allowed_to_export(org, client):
    _funnel(org)
    client.force_login(org.senior1)
    response = client.get("/analytics/funnel/?format=csv&table=funnel")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "Квалификация,12," in text
    client.force_login(org.manager1)
    assert client.get("/analytics/funnel/?format=csv&table=funnel").status_code == 404


def test_the_source_filter_offers_the_sources_deals_came_from_and_narrows_the_funnel(
    org, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for source, n in (("Выставка", 2), ("Сайт", 3)):
            for _ in range(n):
                make_deal(org.manager1, org.pipeline, owner=org.manager1, source=source)
    client.force_login(org.head)
    response = client.get("/analytics/funnel/")
    choices = [value for value, _label in response.context["form"].fields["source"].choices]
    assert choices == ["", "Выставка", "Сайт"]
    response = client.get("/analytics/funnel/", {"source": "Выставка"})
    first = response.context["rows"][0]
    assert (first["stage"].name, first["entered"]) == ("Новый лид", 2)
