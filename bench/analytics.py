"""Issue 5's analytics: the rollups' full rebuild, the funnel page and the plan-fact page, and
the same funnel computed by DuckDB from the raw history as a reference.

- **Rebuild.** ``voronka.analytics.rollups.rebuild_workspace`` (what ``voronka rebuild_rollups``
  runs), timed from its start to its end, with its steps.
- **Funnel page** ``/analytics/funnel/``: each timed request takes the next of a realistic set
  of filters, as the head (the whole company last quarter, a team, one manager, the other
  pipeline, two years, a product, a client segment) and as a senior (their group, one of their
  managers, the other pipeline, two years).
- **Plan-fact page** ``/plan/fact/``: a company target and one per team for the current month
  are set first (``planning.actions.do_set_target``), then the page is requested as the head
  and as a senior.
- **DuckDB reference.** The columns the funnel needs (deals, their stage history, the stages)
  are exported to CSV and loaded into an in-memory DuckDB (no extension is loaded or fetched);
  the load is timed on its own. DuckDB then computes the funnel of a probe straight from the
  history (entries per stage, their amount, how many moved on and how many ended in a win, by
  the workspace's local days), the result is checked equal to ours, and both are timed (median
  of a few runs): ours is ``queries.funnel_facts`` + ``rules.funnel_rows`` on the rollups, the
  part of the page that stands for DuckDB's query.
"""

from __future__ import annotations

import csv
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, timedelta

from .generate import Dataset
from .measure import Target, probe, signed_in

TARGETS = {
    "rollup_rebuild": Target("seconds", 120),
    "funnel": Target("p95", 300),
    "plan_fact": Target("p95", 300),
    "duckdb_ratio": Target("ratio", 1),
}
LABELS = {
    "rollup_rebuild": "full rebuild of the analytics rollups (voronka rebuild_rollups)",
    "funnel": "funnel page /analytics/funnel/ (quarter, team, manager, pipeline, 2 years, "
    "product, client segment)",
    "plan_fact": "plan-fact page /plan/fact/ (current month, targets set)",
    "duckdb_ratio": "funnel computed by us (rollups) / by DuckDB (raw history)",
}
#: Runs of each side of the DuckDB comparison; the median is kept.
RUNS = 7


def _rebuild(data: Dataset, log) -> dict:
    from voronka.analytics.rollups import rebuild_workspace
    from voronka.core.models import Workspace

    workspace = Workspace.objects.get(id=data.workspace_id)
    steps: dict[str, float] = {}
    started = time.monotonic()
    outcome = rebuild_workspace(workspace, timings=steps)
    seconds = time.monotonic() - started
    log(f"  rebuild: {seconds:.1f} s ({ {k: round(v, 1) for k, v in steps.items()} }); {outcome}")
    return {
        "kind": "rollup_rebuild",
        "who": "worker",
        "seconds": round(seconds, 1),
        "steps": {k: round(v, 1) for k, v in steps.items()},
        **outcome,
    }


def _funnel_urls(data: Dataset, who: str) -> list[str]:
    from voronka.accounts.models import Team, User
    from voronka.clients.models import Segment
    from voronka.control.evaluate import local_today
    from voronka.core.models import Workspace
    from voronka.sales.models import Product

    today = local_today(Workspace.objects.get(id=data.workspace_id))
    first, second = data.pipelines[0], data.pipelines[-1]
    quarter = f"since={today - timedelta(days=89)}&until={today}"
    years = f"since={today - timedelta(days=729)}&until={today}"
    base = "/analytics/funnel/?"
    if who == "head":
        team = Team.objects.filter(workspace_id=data.workspace_id).order_by("id").first()
        manager = data.manager_ids[data.managers[len(data.managers) // 2]]
        ws = data.workspace_id
        product = Product.objects.filter(workspace_id=ws).order_by("position", "id").first()
        segment = Segment.objects.filter(workspace_id=ws).order_by("position", "id").first()
        return [
            f"{base}pipeline={first}&{quarter}",
            f"{base}pipeline={first}&{quarter}&team={team.id}",
            f"{base}pipeline={first}&{quarter}&manager={manager}",
            f"{base}pipeline={second}&{quarter}",
            f"{base}pipeline={first}&{years}",
            # A product or a client segment: the daily rows (the periods keep neither).
            f"{base}pipeline={first}&{quarter}&product={product.id}",
            f"{base}pipeline={first}&{quarter}&segment={segment.id}",
        ]
    senior = User.objects.get(workspace_id=data.workspace_id, username=data.seniors[0])
    mine = (
        User.objects.filter(workspace_id=data.workspace_id, team__lead=senior)
        .exclude(id=senior.id)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    return [
        f"{base}pipeline={first}&{quarter}",
        f"{base}pipeline={first}&{quarter}&manager={mine}",
        f"{base}pipeline={second}&{quarter}",
        f"{base}pipeline={first}&{years}",
    ]


def _targets(data: Dataset, log) -> None:
    from voronka.accounts.models import Team, User
    from voronka.planning.actions import do_set_target
    from voronka.planning.models import PeriodKind, Scope

    head = User.objects.get(workspace_id=data.workspace_id, username=data.head)
    from voronka.control.evaluate import local_today

    today = local_today(head.workspace)
    do_set_target(
        head,
        period_kind=PeriodKind.MONTH,
        period_start=today,
        scope=Scope.COMPANY,
        amount=50_000_000,
    )
    for team in Team.objects.filter(workspace_id=data.workspace_id).order_by("id"):
        do_set_target(
            head,
            period_kind=PeriodKind.MONTH,
            period_start=today,
            scope=Scope.TEAM,
            team=team,
            amount=10_000_000,
        )
    log("  targets set: the company and every team, this month")


# -- DuckDB --------------------------------------------------------------------------------------


def _utc_text(moment) -> str:
    if isinstance(moment, str):  # SQLite's stored text, already UTC
        return moment
    if moment.tzinfo is None:  # SQLite's text read back as a naive datetime: UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _export(data: Dataset, folder) -> dict[str, str]:
    """The columns the funnel needs, as CSV files; returns {table: path}."""
    from django.db import connection

    from voronka.analytics.rebuild import Dialect

    d = Dialect(connection.vendor)
    cents = d.cents("amount")
    queries = {
        "deals": (
            f"SELECT id, pipeline_id, owner_id, COALESCE(source, ''), {cents} FROM sales_deal "
            "WHERE workspace_id = %s",
            ["id", "pipeline_id", "owner_id", "source", "cents"],
        ),
        "changes": (
            "SELECT id, deal_id, changed_at, to_stage_id FROM sales_stagechange "
            "WHERE workspace_id = %s",
            ["id", "deal_id", "changed_at", "stage_id"],
        ),
        "stages": (
            "SELECT id, kind, position FROM sales_stage WHERE workspace_id = %s",
            ["id", "kind", "position"],
        ),
    }
    paths = {}
    for name, (sql, header) in queries.items():
        path = os.path.join(folder, f"duckdb-{name}.csv")
        with connection.cursor() as cur, open(path, "w", newline="", encoding="utf-8") as fh:
            cur.execute(sql, [data.workspace_id])
            writer = csv.writer(fh)
            writer.writerow(header)
            while rows := cur.fetchmany(20000):
                if name == "changes":
                    rows = [(r[0], r[1], _utc_text(r[2]), r[3]) for r in rows]
                writer.writerows(rows)
        paths[name] = path
    return paths


def _duckdb_funnel(con, spans, pipeline_id, since, until, owners) -> dict[int, tuple]:
    """Per stage: (entered, amount_cents, moved_on, later_won), straight from the history."""
    if len(spans) == 1:
        shift = str(spans[0][1])
    else:
        branches = " ".join(
            f"WHEN h.changed < TIMESTAMP '{spans[i + 1][0]:%Y-%m-%d %H:%M:%S}' THEN {spans[i][1]}"
            for i in range(len(spans) - 1)
        )
        shift = f"(CASE {branches} ELSE {spans[-1][1]} END)"
    who = f"AND d.owner_id IN ({', '.join(str(o) for o in owners)})" if owners else ""
    rows = con.execute(
        f"""
        WITH h AS (
            SELECT c.stage_id, c.changed, d.cents,
                   LEAD(c.stage_id) OVER w AS next_stage,
                   MAX(CASE WHEN s.kind = 'won' THEN 1 ELSE 0 END) OVER (
                       PARTITION BY c.deal_id ORDER BY c.changed, c.id
                       ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS later_won
            FROM changes c JOIN deals d ON d.id = c.deal_id
            LEFT JOIN stages s ON s.id = c.stage_id
            WHERE d.pipeline_id = {int(pipeline_id)} {who}
            WINDOW w AS (PARTITION BY c.deal_id ORDER BY c.changed, c.id)
        )
        SELECT h.stage_id, COUNT(*), SUM(h.cents),
               SUM(CASE WHEN s.kind = 'open' AND (n.kind = 'won'
                   OR (n.kind = 'open' AND n.position > s.position)) THEN 1 ELSE 0 END),
               SUM(h.later_won)
        FROM h LEFT JOIN stages s ON s.id = h.stage_id LEFT JOIN stages n ON n.id = h.next_stage
        WHERE CAST(h.changed + {shift} * INTERVAL 1 SECOND AS DATE)
              BETWEEN DATE '{since}' AND DATE '{until}'
        GROUP BY h.stage_id
        """
    ).fetchall()
    return {r[0]: (r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows}


def _ours(sel) -> dict[int, tuple]:
    from voronka.analytics import queries, rules

    rows = rules.funnel_rows(queries.funnel_stages(sel.pipeline_id), queries.funnel_facts(sel))
    return {
        r.stage.id: (r.entered, r.amount_cents, r.moved_on, r.later_won) for r in rows if r.entered
    }


def _median_ms(fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _duckdb(data: Dataset, log) -> dict:
    import duckdb

    from voronka.analytics import queries
    from voronka.analytics.rebuild import _span, offsets
    from voronka.control.evaluate import local_today
    from voronka.core.models import Workspace

    workspace = Workspace.objects.get(id=data.workspace_id)
    tz = __import__("zoneinfo").ZoneInfo(workspace.timezone)
    folder = os.path.dirname(os.environ.get("BENCH_RESULT", "bench/out/x"))
    started = time.monotonic()
    paths = _export(data, folder)
    exported = time.monotonic() - started
    started = time.monotonic()
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute(
        f"CREATE TABLE deals AS SELECT * FROM read_csv('{paths['deals']}', header=true, "
        "columns={'id': 'BIGINT', 'pipeline_id': 'BIGINT', 'owner_id': 'BIGINT', "
        "'source': 'VARCHAR', 'cents': 'BIGINT'})"
    )
    con.execute(
        f"CREATE TABLE changes AS SELECT * FROM read_csv('{paths['changes']}', header=true, "
        "columns={'id': 'BIGINT', 'deal_id': 'BIGINT', 'changed': 'TIMESTAMP', "
        "'stage_id': 'BIGINT'})"
    )
    con.execute(
        f"CREATE TABLE stages AS SELECT * FROM read_csv('{paths['stages']}', header=true, "
        "columns={'id': 'BIGINT', 'kind': 'VARCHAR', 'position': 'INTEGER'})"
    )
    loaded = time.monotonic() - started
    for path in paths.values():
        os.unlink(path)
    log(f"  DuckDB {duckdb.__version__}: export {exported:.1f} s, load {loaded:.1f} s")
    spans = offsets(tz, *_span(data.workspace_id))
    today = local_today(workspace)
    manager = data.manager_ids[data.managers[len(data.managers) // 2]]
    cases = {
        "company, last quarter": (data.pipelines[0], today - timedelta(days=89), None),
        "one manager, last quarter": (data.pipelines[0], today - timedelta(days=89), [manager]),
        "company, 2 years": (data.pipelines[0], today - timedelta(days=729), None),
    }
    figures = {}
    worst = 0.0
    for name, (pipeline_id, since, owners) in cases.items():
        sel = queries.Selection.make(
            workspace, pipeline_id, since=since, until=today, owners=owners
        )
        ours_ms, ours = _median_ms(lambda sel=sel: _ours(sel))
        duck_ms, duck = _median_ms(
            lambda p=pipeline_id, s=since, o=owners: _duckdb_funnel(con, spans, p, s, today, o)
        )
        if ours != duck:
            raise AssertionError(f"the funnel differs from DuckDB's ({name}): {ours} != {duck}")
        ratio = ours_ms / duck_ms
        worst = max(worst, ratio)
        figures[name] = {
            "ours_ms": round(ours_ms, 1),
            "duckdb_ms": round(duck_ms, 1),
            "ratio": round(ratio, 3),
            "entered": sum(v[0] for v in ours.values()),
        }
        log(f"  {name}: ours {ours_ms:.1f} ms, DuckDB {duck_ms:.1f} ms, ratio {ratio:.3f}; equal")
    con.close()
    return {
        "kind": "duckdb_ratio",
        "who": "worker",
        "ratio": round(worst, 3),
        "seconds": round(exported + loaded, 1),
        "steps": {"export": round(exported, 1), "load": round(loaded, 1)},
        "cases": figures,
        "duckdb": duckdb.__version__,
    }


def run(data: Dataset, requests: int, log: Callable[[str], None] = print) -> dict:
    results = {}
    log("  rebuilding the rollups …")
    results["rollup_rebuild:worker"] = _rebuild(data, log)
    _targets(data, log)
    for who, username in (("head", data.head), ("senior", data.seniors[0])):
        urls = _funnel_urls(data, who)
        name = f"funnel:{who}"
        log(f"  measuring {name} ({requests} requests over {len(urls)} filters) …")
        result = probe(signed_in(username), lambda i, urls=urls: urls[i % len(urls)], requests)
        result.update(kind="funnel", who=who, filters=urls)
        results[name] = result
        name = f"plan_fact:{who}"
        log(f"  measuring {name} ({requests} requests) …")
        result = probe(signed_in(username), lambda i: "/plan/fact/", requests)
        result.update(kind="plan_fact", who=who)
        results[name] = result
    log("  the funnel by DuckDB …")
    results["duckdb_ratio:worker"] = _duckdb(data, log)
    return results
