"""The set-based rebuild leaves exactly the rollups the row-by-row path leaves: the same local
days across clock changes, the same duration buckets to the microsecond, the same comments
counted whatever their whitespace."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voronka.accounts.models import Role, User
from voronka.analytics import rules
from voronka.analytics.models import (
    CommunicationDay,
    CommunicationPeriod,
    DealFootprint,
    DurationDay,
    DurationPeriod,
    StageEntryDay,
    StageEntryPeriod,
    StageExitDay,
    StageExitPeriod,
)
from voronka.analytics.rebuild import Dialect, offsets
from voronka.analytics.rollups import (
    ROLLUP_MODELS,
    rebuild_workspace,
    refresh_communications,
    refresh_deals,
)
from voronka.core.models import Workspace
from voronka.inbox.models import Communication
from voronka.sales.models import Deal, Pipeline, Stage, StageChange

pytestmark = pytest.mark.django_db

STAGES = [("a", "open"), ("b", "open"), ("won", "won"), ("lost", "lost")]
#: Around Europe's and America's clock changes of 2024.
START = datetime(2024, 3, 9, tzinfo=UTC)
COMMENTS = [
    "",
    "ok",
    "Обсудили КП, договорились о встрече",
    "  Обсудили  КП  ",
    "Обсудили\tКП,\nвстреча в среду",
    "коротко\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0",
    "слово" + " " * 30,
    "a b c d e f g h i j",
    "a b c d e f g h i j k",
    "\u3000" * 25,
]


def rollups(ws) -> dict:
    def rows(model, *fields):
        return sorted(model.objects.filter(workspace=ws).values_list(*fields))

    return {
        "entries": rows(
            StageEntryDay,
            "day",
            "pipeline_id",
            "owner_id",
            "source",
            "stage_id",
            "from_stage_id",
            "loss_reason",
            "entered",
            "amount_cents",
            "later_won",
        ),
        "exits": rows(
            StageExitDay,
            "day",
            "pipeline_id",
            "owner_id",
            "source",
            "stage_id",
            "to_stage_id",
            "left",
        ),
        "durations": rows(
            DurationDay, "day", "pipeline_id", "owner_id", "stage_id", "metric", "hours", "count"
        ),
        "entry_periods": rows(
            StageEntryPeriod,
            "period",
            "pipeline_id",
            "owner_id",
            "source",
            "stage_id",
            "first",
            "loss_reason",
            "entered",
            "amount_cents",
            "later_won",
        ),
        "exit_periods": rows(
            StageExitPeriod,
            "period",
            "pipeline_id",
            "owner_id",
            "source",
            "stage_id",
            "to_stage_id",
            "left",
        ),
        "duration_periods": rows(
            DurationPeriod,
            "period",
            "pipeline_id",
            "owner_id",
            "stage_id",
            "metric",
            "hours",
            "count",
        ),
        "communications": rows(
            CommunicationDay,
            "day",
            "author_id",
            "kind",
            "direction",
            "outcome",
            "count",
            "seconds",
            "commented",
        ),
        "communication_periods": rows(
            CommunicationPeriod,
            "period",
            "author_id",
            "kind",
            "direction",
            "outcome",
            "count",
            "seconds",
            "commented",
        ),
        "footprints": sorted(
            (
                f.deal_id,
                f.company_id,
                sorted(rules.footprint_counts(f.data).items()),
            )
            for f in DealFootprint.objects.filter(workspace=ws)
            if any(f.data[k] for k in ("e", "x", "d"))
        ),
    }


moment_st = st.tuples(
    st.one_of(st.integers(0, 40), st.integers(0, 400)),  # days after START
    st.sampled_from([0, 1, 59, 60, 3599, 3600, 3601, 86399, 86400]),  # seconds into the day
    st.sampled_from([0, 1, 999_999, 500_000]),  # microseconds
)


def at(m) -> datetime:
    days, seconds, micro = m
    return START + timedelta(days=days, seconds=seconds, microseconds=micro)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tz_name=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    deals=st.lists(
        st.tuples(
            st.lists(st.tuples(st.integers(0, 3), moment_st), min_size=1, max_size=5),
            st.decimals(0, 99999, places=2),
            st.sampled_from(["", "дорого"]),
        ),
        max_size=5,
    ),
    comms=st.lists(
        st.tuples(
            st.sampled_from(["call", "meeting", "message", "note"]),
            st.sampled_from(COMMENTS),
            moment_st,
            st.none() | st.integers(0, 300),
            st.sampled_from(["", "busy"]),
            st.booleans(),
        ),
        max_size=8,
    ),
)
def test_the_rebuild_equals_the_row_by_row_rollups(tz_name, deals, comms):
    ws = Workspace.objects.create(name="R", timezone=tz_name)
    user = User.objects.create(workspace=ws, username=f"r{ws.id}", role=Role.MANAGER)
    pipeline = Pipeline.objects.create(workspace=ws, name="P")
    stages = [
        Stage.objects.create(workspace=ws, pipeline=pipeline, name=n, kind=k, position=i)
        for i, (n, k) in enumerate(STAGES)
    ]
    for moves, amount, reason in deals:
        moves = sorted((at(m), i) for i, m in moves)
        deal = Deal.objects.bulk_create(
            [
                Deal(
                    workspace=ws,
                    title="d",
                    pipeline=pipeline,
                    stage=stages[moves[-1][1]],
                    stage_entered_at=moves[-1][0],
                    owner=user,
                    amount=amount,
                    loss_reason=reason,
                )
            ]
        )[0]
        previous = None
        for when, i in moves:
            StageChange.objects.bulk_create(
                [
                    StageChange(
                        workspace=ws,
                        deal=deal,
                        from_stage=previous,
                        to_stage=stages[i],
                        changed_at=when,
                    )
                ]
            )
            previous = stages[i]
    made = Communication.objects.bulk_create(
        Communication(
            workspace=ws,
            kind=kind,
            direction="out",
            comment=comment,
            occurred_at=at(m),
            duration_seconds=seconds,
            outcome=outcome if kind == "call" else "",
            author=user if authored else None,
        )
        for kind, comment, m, seconds, outcome, authored in comms
    )
    rebuild_workspace(ws)
    rebuilt = rollups(ws)
    for model in ROLLUP_MODELS:
        model.objects.filter(workspace=ws).delete()
    refresh_deals(ws.id, Deal.objects.filter(workspace=ws).values_list("id", flat=True))
    refresh_communications(ws.id, [c.id for c in made])
    assert rebuilt == rollups(ws)


@pytest.mark.django_db
def test_the_database_buckets_a_duration_as_the_rules_do():
    edges = [-5, 0, 3599, 3600, 71 * 3600 + 3599, 72 * 3600, 27 * 86400 + 86399, 28 * 86400]
    edges += [34 * 86400 + 86399, 35 * 86400, 100 * 86400, 800 * 86400 + 7]
    bucket = Dialect(connection.vendor).bucket("v")
    values = " UNION ALL ".join(f"SELECT {v} AS v" for v in edges)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT v, {bucket} FROM ({values}) AS t ORDER BY v")
        got = cursor.fetchall()
    assert got == [(v, rules.duration_bucket(v)) for v in sorted(edges)]


@pytest.mark.parametrize("tz_name", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_the_offsets_follow_the_clock_changes(tz_name):
    tz = ZoneInfo(tz_name)
    lo, hi = datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    spans = offsets(tz, lo, hi)
    assert len(spans) == 5  # two changes a year

    def offset_at(moment):
        chosen = spans[0][1]
        for start, seconds in spans[1:]:
            if moment >= start:
                chosen = seconds
        return chosen

    moment = lo
    while moment < hi:
        assert offset_at(moment) == moment.astimezone(tz).utcoffset().total_seconds(), moment
        moment += timedelta(minutes=29, seconds=7)
    for start, _seconds in spans[1:]:
        before = start - timedelta(seconds=1)
        assert offset_at(before) == before.astimezone(tz).utcoffset().total_seconds()


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_on_postgresql_clears_the_rows_it_replaced():
    ws = Workspace.objects.create(name="V", timezone="Europe/Moscow")
    timings: dict = {}
    rebuild_workspace(ws, timings)
    if connection.vendor != "postgresql":
        assert "vacuum" not in timings  # SQLite reuses the freed pages by itself
        return
    assert "vacuum" in timings
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL"
            " AND last_analyze IS NOT NULL"
        )
        vacuumed = {row[0] for row in cursor.fetchall()}
    assert {m._meta.db_table for m in ROLLUP_MODELS} <= vacuumed
