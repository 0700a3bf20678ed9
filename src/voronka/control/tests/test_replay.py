"""Snapshots of past days rebuilt from the history the database keeps (the demo's trend)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from voronka.activities.models import Task
from voronka.control.models import DailySnapshot
from voronka.control.replay import backfill_snapshots
from voronka.testing.factories import make_deal


def counts(org, day):
    return {
        (s.manager_id, s.kind): s.count
        for s in DailySnapshot.objects.filter(workspace=org.workspace, day=day)
    }


def day_ago(org, n):
    tz = ZoneInfo(org.workspace.timezone)
    return timezone.now().astimezone(tz).date() - timedelta(days=n)


def test_a_deal_without_a_task_counts_from_the_day_it_was_made(org):
    deal = make_deal(org.manager1, org.pipeline, days_ago=5)
    made = backfill_snapshots(org.workspace, days=10)
    assert made == 9
    assert counts(org, day_ago(org, 7)) == {}
    assert counts(org, day_ago(org, 3))[(org.manager1.id, "no_next_step")] == 1
    assert (deal.owner_id, "stalled") in counts(org, day_ago(org, 1))  # «Новый лид»: 2 days


def test_a_task_counts_as_overdue_from_its_due_time_until_it_was_done(org):
    deal = make_deal(org.manager2, org.pipeline, days_ago=20)
    tz = ZoneInfo(org.workspace.timezone)
    at = lambda n: datetime.combine(day_ago(org, n), time(12), tzinfo=tz)  # noqa: E731
    Task.objects.create(
        workspace=org.workspace,
        owner=org.manager2,
        deal=deal,
        goal="Перезвонить",
        due_at=at(8),
        done_at=at(3),
    )
    Task.objects.filter(deal=deal).update(created_at=at(15))
    backfill_snapshots(org.workspace, days=12)
    key = (org.manager2.id, "overdue_task")
    assert key not in counts(org, day_ago(org, 9))
    assert counts(org, day_ago(org, 8))[key] == 1
    assert counts(org, day_ago(org, 4))[key] == 1
    assert key not in counts(org, day_ago(org, 3))
    # While the task was open the deal had its next step.
    assert (org.manager2.id, "no_next_step") not in counts(org, day_ago(org, 5))
    assert counts(org, day_ago(org, 2))[(org.manager2.id, "no_next_step")] == 1


def test_days_that_have_snapshots_keep_them(org):
    make_deal(org.manager1, org.pipeline, days_ago=5)
    DailySnapshot.objects.create(
        workspace=org.workspace, day=day_ago(org, 2), manager=org.manager3, kind="stalled", count=4
    )
    backfill_snapshots(org.workspace, days=5)
    assert counts(org, day_ago(org, 2)) == {(org.manager3.id, "stalled"): 4}
    assert backfill_snapshots(org.workspace, days=5) == 0
