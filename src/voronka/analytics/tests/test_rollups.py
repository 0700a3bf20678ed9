"""The rollups follow the deals and communications as they are written."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from voronka.analytics import queries
from voronka.analytics.models import StageEntryDay
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
