"""The rollups follow the deals and communications as they are written."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from voronka.analytics import queries
from voronka.analytics.models import CommunicationPeriod, StageEntryDay
from voronka.analytics.rollups import rebuild_workspace, refresh_workspace
from voronka.control.evaluate import local_today
from voronka.inbox.actions import do_log_communication
from voronka.sales.actions import do_move_deal, do_update_deal
from voronka.testing.factories import make_deal

pytestmark = pytest.mark.django_db


def test_a_move_is_counted_in_the_funnel_once_it_commits(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deal = make_deal(org.manager1, org.pipeline, owner=org.manager1, amount=1000)
    with django_capture_on_commit_callbacks(execute=True):
        do_move_deal(org.manager1, deal, org.stage("Квалификация"))
    today = local_today(org.workspace)
    conversions = queries.stage_conversions(
        org.workspace, org.pipeline, since=today - timedelta(days=1), until=today
    )
    first = conversions[0]
    assert (first.from_stage_id, first.to_stage_id) == (
        org.stage("Новый лид").id,
        org.stage("Квалификация").id,
    )
    assert (first.entered, first.moved_on, first.rate) == (1, 1, 1.0)


def test_a_new_owner_takes_the_deals_figures_with_them(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deal = make_deal(org.head, org.pipeline, owner=org.manager1, amount=500)
    with django_capture_on_commit_callbacks(execute=True):
        do_update_deal(org.head, deal, owner=org.manager2)
    owners = set(
        StageEntryDay.objects.filter(workspace=org.workspace, entered__gt=0).values_list(
            "owner_id", flat=True
        )
    )
    assert owners == {org.manager2.id}


def test_the_job_reads_what_was_written_without_signals_and_the_rebuild_agrees(
    org, django_capture_on_commit_callbacks
):
    rebuild_workspace(org.workspace)
    deal = make_deal(org.manager3, org.pipeline, owner=org.manager3, amount=700)  # no commit hook
    do_log_communication(org.manager3, kind="call", direction="out", deal=deal, duration_seconds=95)
    assert not StageEntryDay.objects.filter(workspace=org.workspace).exists()
    refresh_workspace(org.workspace, now=timezone.now() + timedelta(hours=1))
    today = local_today(org.workspace)
    values = queries.kpi_values(
        org.workspace,
        ["new_deals", "calls_out", "calls_answered", "call_minutes"],
        since=today,
        until=today,
        granularity="total",
    )
    assert values[(org.manager3.id, date.min, "new_deals")] == 1
    assert values[(org.manager3.id, date.min, "calls_out")] == 1
    assert values[(org.manager3.id, date.min, "calls_answered")] == 1
    assert values[(org.manager3.id, date.min, "call_minutes")] == 1
    rebuild_workspace(org.workspace)
    assert (
        queries.kpi_values(
            org.workspace,
            ["new_deals", "calls_out", "calls_answered", "call_minutes"],
            since=today,
            until=today,
            granularity="total",
        )
        == values
    )


def test_a_stage_that_becomes_won_restates_the_deals_that_passed_through_it(
    org, django_capture_on_commit_callbacks
):
    """No entry into "Новый лид" was followed by a win so far; once the head makes "Счёт
    выставлен" a won stage, the next refresh rebuilds the rollups and the deal counts as won."""
    from voronka.analytics import rules
    from voronka.analytics.models import RollupMark
    from voronka.sales.actions import do_update_stage

    invoiced = org.stage("Счёт выставлен")
    with django_capture_on_commit_callbacks(execute=True):
        deal = make_deal(org.manager1, org.pipeline, owner=org.manager1, amount=900)
        do_move_deal(org.manager1, deal, invoiced)
    refresh_workspace(org.workspace)
    today = local_today(org.workspace)

    def later_won() -> int:
        sel = queries.Selection.make(org.workspace, org.pipeline, since=today, until=today)
        rows = rules.funnel_rows(queries.funnel_stages(org.pipeline), queries.funnel_facts(sel))
        return rows[0].later_won

    assert later_won() == 0
    with django_capture_on_commit_callbacks(execute=True):
        do_update_stage(org.head, invoiced, kind="won")
    assert RollupMark.objects.get(workspace=org.workspace).stale
    assert refresh_workspace(org.workspace) == {"rebuilt": True}
    assert later_won() == 1
    assert not RollupMark.objects.get(workspace=org.workspace).stale
    with django_capture_on_commit_callbacks(execute=True):
        do_update_stage(org.head, invoiced, name="Счёт оплачен")  # the kind stays: no rebuild
    assert not RollupMark.objects.get(workspace=org.workspace).stale


def test_a_client_moved_to_another_segment_takes_its_deals_figures_along(
    org, django_capture_on_commit_callbacks
):
    from voronka.clients.models import Company, Segment

    small = Segment.objects.create(workspace=org.workspace, name="Малый бизнес")
    large = Segment.objects.create(workspace=org.workspace, name="Крупный бизнес")
    client = Company.objects.create(
        workspace=org.workspace, name="ООО «Ромашка»", owner=org.manager1, segment=small
    )
    with django_capture_on_commit_callbacks(execute=True):
        make_deal(org.manager1, org.pipeline, owner=org.manager1, amount=900, company=client)
    today = local_today(org.workspace)

    def new_deals(segment) -> int:
        values = queries.kpi_values(
            org.workspace,
            ["new_deals"],
            since=today,
            until=today,
            granularity="total",
            per="company",
            segments=[segment.id],
        )
        return values.get((None, date.min, "new_deals"), 0)

    assert (new_deals(small), new_deals(large)) == (1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        client.segment = large
        client.save()
    assert (new_deals(small), new_deals(large)) == (0, 1)


def test_saving_a_client_without_a_new_segment_leaves_the_rollups_alone(
    org, django_capture_on_commit_callbacks
):
    from voronka.analytics.rollups import company_saved
    from voronka.clients.models import Company, Segment

    small = Segment.objects.create(workspace=org.workspace, name="Малый бизнес")
    client = Company.objects.create(
        workspace=org.workspace, name="ООО «Ромашка»", owner=org.manager1, segment=small
    )
    client = Company.objects.get(pk=client.pk)
    client.name = "ООО «Ромашка и партнёры»"
    with django_capture_on_commit_callbacks() as callbacks:
        client.save()
    assert not [c for c in callbacks if c.__qualname__.startswith(company_saved.__name__)]
    client.segment = None
    with django_capture_on_commit_callbacks() as callbacks:
        client.save()
    assert [c for c in callbacks if c.__qualname__.startswith(company_saved.__name__)]


def test_calls_over_whole_months_are_counted_from_the_periods_as_from_the_days(
    org, django_capture_on_commit_callbacks
):
    tz = ZoneInfo(org.workspace.timezone)
    deal = make_deal(org.manager1, org.pipeline, owner=org.manager1)
    calls = []
    for day in (date(2026, 3, 10), date(2026, 4, 15), date(2026, 5, 31)):
        at = timezone.datetime.combine(day, timezone.datetime.min.time(), tzinfo=tz)
        with django_capture_on_commit_callbacks(execute=True):
            calls.append(
                do_log_communication(
                    org.manager1,
                    kind="call",
                    direction="out",
                    deal=deal,
                    duration_seconds=60,
                    occurred_at=at.replace(hour=12),
                )
            )
    assert CommunicationPeriod.objects.filter(workspace=org.workspace, period="2026-Q2").exists()

    def calls_out(since, until, granularity="total"):
        values = queries.kpi_values(
            org.workspace,
            ["calls_out"],
            owners=[org.manager1.id],
            since=since,
            until=until,
            granularity=granularity,
        )
        return sum(v for v in values.values() if v)

    # March less its first days, April and May whole, a quarter, the year.
    assert calls_out(date(2026, 3, 5), date(2026, 5, 31)) == 3
    assert calls_out(date(2026, 3, 11), date(2026, 5, 30)) == 1
    assert calls_out(date(2026, 1, 1), date(2026, 12, 31)) == 3
    assert calls_out(date(2026, 4, 1), date(2026, 6, 30)) == 2
    for since, until in (
        (date(2026, 3, 1), date(2026, 6, 30)),
        (date(2026, 4, 16), date(2026, 5, 31)),
    ):
        assert calls_out(since, until) == calls_out(since, until, "day")

    # A call that turns out to have been incoming leaves the months, the quarter and the year.
    with django_capture_on_commit_callbacks(execute=True):
        calls[1].direction = "in"
        calls[1].save()
    assert calls_out(date(2026, 4, 1), date(2026, 6, 30)) == 1
    assert calls_out(date(2026, 1, 1), date(2026, 12, 31)) == 2
    before = set(
        CommunicationPeriod.objects.filter(workspace=org.workspace).values_list(
            "period", "author_id", "kind", "direction", "outcome", "count", "seconds"
        )
    )
    rebuild_workspace(org.workspace)
    after = set(
        CommunicationPeriod.objects.filter(workspace=org.workspace).values_list(
            "period", "author_id", "kind", "direction", "outcome", "count", "seconds"
        )
    )
    assert after == before
