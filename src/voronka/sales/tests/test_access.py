import pytest
from django.http import Http404

from voronka.activities.access import visible_tasks
from voronka.activities.actions import do_create_task
from voronka.clients.access import visible_companies
from voronka.clients.actions import do_create_company
from voronka.inbox.access import visible_communications
from voronka.inbox.actions import do_log_communication
from voronka.sales.access import access_deal, visible_deals
from voronka.sales.actions import do_update_deal
from voronka.testing.factories import make_deal


@pytest.fixture
def deals(org):
    return {m: make_deal(m, org.pipeline) for m in (org.manager1, org.manager2, org.manager3)}


def test_a_manager_sees_only_their_own_deals(org, deals):
    assert list(visible_deals(org.manager1)) == [deals[org.manager1]]
    with pytest.raises(Http404):
        access_deal(org.manager1, deals[org.manager2].id)


def test_a_senior_sees_their_teams_deals_and_not_the_other_teams(org, deals):
    seen = set(visible_deals(org.senior1))
    assert seen == {deals[org.manager1], deals[org.manager2]}


def test_the_head_owner_and_quality_controller_see_the_whole_workspace(org, deals):
    for person in (org.head, org.owner, org.qc):
        assert set(visible_deals(person)) == set(deals.values())


def test_an_assistant_sees_only_the_deals_handed_to_them(org, deals):
    assert list(visible_deals(org.assistant)) == []
    handed = do_update_deal(org.head, deals[org.manager3], assistant=org.assistant)
    assert list(visible_deals(org.assistant)) == [handed]


def test_nothing_of_another_workspace_is_visible_even_to_its_head(org, other_org, deals):
    foreign = make_deal(other_org.manager1, other_org.pipeline)
    assert foreign not in set(visible_deals(org.head))
    with pytest.raises(Http404):
        access_deal(org.head, foreign.id)


def test_a_deal_of_another_workspace_cannot_be_given_someone_elses_company(org, other_org):
    from voronka.core.errors import Invalid

    foreign_company = do_create_company(other_org.manager1, name="Чужая")
    with pytest.raises(Invalid) as exc:
        make_deal(org.manager1, org.pipeline, company=foreign_company)
    assert "company" in exc.value.fields


def test_tasks_and_communications_follow_the_deal_and_the_owner(org, deals):
    from django.utils import timezone

    mine = deals[org.manager1]
    theirs = deals[org.manager3]
    t_mine = do_create_task(
        org.manager1, deal=mine, goal="Договориться о встрече", due_at=timezone.now()
    )
    t_theirs = do_create_task(
        org.manager3, deal=theirs, goal="Получить реквизиты", due_at=timezone.now()
    )
    c_theirs = do_log_communication(org.manager3, kind="call", deal=theirs, comment="Обсудили")
    assert set(visible_tasks(org.manager1)) == {t_mine}
    assert set(visible_tasks(org.senior2)) == {t_theirs}
    assert list(visible_communications(org.manager1)) == []
    assert list(visible_communications(org.senior2)) == [c_theirs]
    assert list(visible_communications(org.manager3)) == [c_theirs]


def test_companies_are_seen_by_their_owner_and_the_owners_senior(org):
    c1 = do_create_company(org.manager1, name="Ромашка")
    c3 = do_create_company(org.manager3, name="Лютик")
    assert set(visible_companies(org.manager1)) == {c1}
    assert set(visible_companies(org.senior1)) == {c1}
    assert set(visible_companies(org.head)) == {c1, c3}
