"""The full rebuild of a workspace's rollups, set-based: a handful of ``INSERT … SELECT … GROUP
BY`` statements in one transaction instead of streaming the history through Python.

The statements compute exactly what ``rules.deal_footprint`` and ``rollups._comm_counts``
compute row by row (the property test in ``analytics/tests`` holds both to a plain recomputation
from the raw rows):

- **Local days.** The workspace's UTC offsets over the span of its history are worked out in
  Python from the same ``zoneinfo`` the incremental path uses (a handful of clock changes), and
  written into the statement as a ``CASE`` over the instants the offset changes: SQLite has no
  time zone database, and PostgreSQL's might differ from Python's.
- **Durations** are whole seconds (truncated, as ``int(timedelta.total_seconds())``) between
  consecutive stage changes of a deal, bucketed as ``rules.duration_bucket``; on SQLite they are
  counted from the stored text (seconds and microseconds apart), never through floating point.
- **A deal's history** is ordered by (changed_at, id); window functions give each change the
  next one (the stay's end and where it went), the deal's first change (the cycle's start) and
  whether a win follows (``later_won``).
- **Footprints** (``DealFootprint``) are built as JSON by the database, in the format
  ``rules.deal_footprint`` writes, so that a later change to a deal is applied as a difference.
- **Comments.** A comment counts when its text, whitespace collapsed, is at least the shortest
  length that counts (``control.rules.comment_counts``). On SQLite (in this process) the rule
  itself is a function of the statement. On PostgreSQL the statement decides every comment
  whose only whitespace is single spaces; the rare others (tabs, line breaks, runs of spaces,
  other Unicode spaces) are read back and judged in Python.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F

from voronka.clients.models import Company
from voronka.control.evaluate import COMMENTED
from voronka.control.rules import comment_counts
from voronka.inbox.models import Communication
from voronka.sales.models import Deal, Stage, StageChange

from . import rules
from .models import (
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

#: Characters ``str.split()`` splits on, but for the plain space (handled separately).
OTHER_SPACES = "".join(
    chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace() and chr(c) != " "
)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def offsets(tz: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime | None, int]]:
    """[(from this UTC instant, the offset in seconds)] covering [lo, hi], oldest first; the
    first entry starts at None (any earlier instant)."""
    lo = lo.astimezone(UTC) - timedelta(days=1)
    hi = hi.astimezone(UTC) + timedelta(days=1)

    def off(moment: datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())

    out: list[tuple[datetime | None, int]] = [(None, off(lo))]
    step = timedelta(hours=6)
    at = lo
    while at < hi:
        nxt = min(at + step, hi)
        if off(nxt) != off(at):
            a, b = at, nxt  # the change lies in (a, b]: find its first second
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                mid = mid.replace(microsecond=0)
                if mid <= a:
                    mid = a + timedelta(seconds=1)
                if off(mid) == off(a):
                    a = mid
                else:
                    b = mid
            out.append((b, off(b)))
        at = nxt
    return out


class Dialect:
    """The few expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, vendor: str):
        self.pg = vendor == "postgresql"

    def instant(self, moment: datetime) -> str:
        text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"'{text}+00'::timestamptz" if self.pg else f"'{text}'"

    def local_day(self, column: str, spans) -> str:
        """The local calendar day of a UTC ``column`` as 'YYYY-MM-DD' text (SQLite) or a date."""
        if len(spans) == 1:
            shift = str(spans[0][1])
        else:
            branches = " ".join(
                f"WHEN {column} < {self.instant(spans[i + 1][0])} THEN {spans[i][1]}"
                for i in range(len(spans) - 1)
            )
            shift = f"(CASE {branches} ELSE {spans[-1][1]} END)"
        if self.pg:
            return f"(({column} AT TIME ZONE 'UTC') + {shift} * INTERVAL '1 second')::date"
        # SQLite keeps fractions of a second to the millisecond, rounding: 23:59:59.9999 would
        # be the next day. The whole seconds alone never are.
        return f"date(substr({column}, 1, 19), {shift} || ' seconds')"

    def micros(self, column: str) -> str:
        """Microseconds since the epoch of a UTC ``column``, exactly (an integer); for a
        statement with parameters (its percent signs doubled). SQLite's own date arithmetic
        rounds to milliseconds: its whole seconds and the stored microseconds are added."""
        if self.pg:
            return f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint"
        return (
            f"(CAST(strftime('%%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 "
            f"+ CAST(substr({column}, 21, 6) AS INTEGER))"
        )

    def bucket(self, seconds: str) -> str:
        """``rules.duration_bucket`` of an integer expression."""
        s = f"(CASE WHEN {seconds} < 0 THEN 0 ELSE {seconds} END)"
        hourly, daily = rules.HOURLY_UNTIL, rules.DAILY_UNTIL
        return (
            f"(CASE WHEN {s} / 3600 < {hourly} THEN {s} / 3600"
            f" WHEN {s} / 86400 < {daily} THEN ({s} / 86400) * 24"
            f" ELSE ({s} / 604800) * 168 END)"
        )

    def cents(self, column: str) -> str:
        if self.pg:
            return f"COALESCE(ROUND({column} * 100), 0)::bigint"
        return f"COALESCE(CAST(ROUND({column} * 100) AS INTEGER), 0)"

    def day_text(self, column: str) -> str:
        return f"to_char({column}, 'YYYY-MM-DD')" if self.pg else column

    def array_agg(self, items: str, where: str | None = None) -> str:
        filt = f" FILTER (WHERE {where})" if where else ""
        if self.pg:
            return f"COALESCE(jsonb_agg(jsonb_build_array({items}) ORDER BY n){filt}, '[]'::jsonb)"
        return f"json_group_array(json_array({items})){filt}"

    def footprint(self, parts: str) -> str:
        return f"jsonb_build_object({parts})" if self.pg else f"json_object({parts})"

    def month(self, column: str) -> str:
        """The 'YYYY-MM' of a date ``column``."""
        return f"to_char({column}, 'YYYY-MM')" if self.pg else f"substr({column}, 1, 7)"

    def other_spaces(self, column: str) -> str:
        """``column`` holds whitespace other than the plain space (a parameter: the class)."""
        return f"{column} ~ %s" if self.pg else f"{column} GLOB %s"

    def other_spaces_pattern(self) -> str:
        return f"[{OTHER_SPACES}]" if self.pg else f"*[{OTHER_SPACES}]*"


#: SQLite's page cache while rebuilding (KiB): the new rows' indexes are built in it instead of
#: in the 2 MB a connection has by default.
REBUILD_CACHE_KIB = 256 * 1024


@contextmanager
def sqlite_cache():
    """On SQLite, a large page cache for this connection while the block runs."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        before = cur.fetchone()[0]
        cur.execute(f"PRAGMA cache_size = -{REBUILD_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {int(before)}")


def vacuum(models) -> bool:
    """On PostgreSQL, once a rebuild has committed: the tables' old rows (every one the
    rebuild replaced) cleared and their statistics renewed now rather than when autovacuum
    next comes by, so that the pages' next reads do not step over ten million dead rows.
    Not inside an outer transaction (VACUUM cannot run there). Returns whether it ran."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) " + ", ".join(_table(m) for m in models))
    return True


def clear(model, ws: int) -> None:
    """Delete the workspace's rows of a rollup table. On SQLite, a table that holds no other
    workspace's rows is emptied whole (a DELETE without a WHERE clause, which SQLite does
    without visiting each row and index entry; readers keep their snapshot until the commit).
    PostgreSQL deletes row by row: its TRUNCATE would lock readers out until the commit."""
    table = _table(model)
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            # Two index ranges: "<>" would read every row of the table to find none.
            cur.execute(
                f"SELECT 1 FROM {table} WHERE workspace_id < %s "
                f"UNION ALL SELECT 1 FROM {table} WHERE workspace_id > %s LIMIT 1",
                [ws, ws],
            )
            if cur.fetchone() is None:
                cur.execute(f"DELETE FROM {table}")
                return
        cur.execute(f"DELETE FROM {table} WHERE workspace_id = %s", [ws])


def _span(ws: int) -> tuple[datetime, datetime] | None:
    """The earliest and latest moment of the workspace's history."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT MIN(changed_at), MAX(changed_at) FROM {_table(StageChange)} "
            "WHERE workspace_id = %s",
            [ws],
        )
        a = cur.fetchone()
        cur.execute(
            f"SELECT MIN(occurred_at), MAX(occurred_at) FROM {_table(Communication)} "
            "WHERE workspace_id = %s",
            [ws],
        )
        b = cur.fetchone()
    values = [v for v in (*a, *b) if v is not None]
    if not values:
        return None
    moments = []
    for v in values:
        if isinstance(v, str):  # SQLite hands back the stored text of an aggregate
            v = datetime.fromisoformat(v)
        if v.tzinfo is None:
            v = v.replace(tzinfo=UTC)
        moments.append(v)
    return min(moments), max(moments)


def rebuild_deals(ws: int, tz: ZoneInfo, timings: dict | None = None) -> dict:
    """Stage entries, exits, durations and the deals' footprints, from the stage history.

    Runs inside the caller's transaction; the workspace's old rows must be gone already."""
    import time

    d = Dialect(connection.vendor)
    span = _span(ws)
    spans = offsets(tz, *span) if span else [(None, 0)]
    changes, deals, stages = _table(StageChange), _table(Deal), _table(Stage)
    companies = _table(Company)
    # Whole seconds (truncated: never negative here), computed once per row.
    seconds_stay = "stay_s"
    seconds_cycle = "cycle_s"
    temp = "analytics_rebuild_change"
    started = time.monotonic()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {temp}")
        cur.execute(
            f"""
            CREATE TEMPORARY TABLE {temp} AS
            SELECT deal_id, p, o, s, r, g, company, n, day, stage, from_id, reason, cents,
                   later_won, next_stage,
                   CASE WHEN stay_s IS NOT NULL THEN {d.bucket(seconds_stay)} END AS stay_hours,
                   CASE WHEN kind = 'won' THEN {d.bucket(seconds_cycle)} END AS cycle_hours
            FROM (
            SELECT deal_id, p, o, s, r, g, company, n, kind,
                   {d.local_day("at", spans)} AS day,
                   stage, from_id,
                   CASE WHEN kind = 'lost' THEN reason ELSE '' END AS reason,
                   cents, later_won, next_stage,
                   (next_us - at_us) / 1000000 AS stay_s,
                   (at_us - first_us) / 1000000 AS cycle_s
            FROM (
                SELECT sc.deal_id, dl.pipeline_id AS p, dl.owner_id AS o,
                       COALESCE(dl.source, '') AS s, COALESCE(dl.product_id, 0) AS r,
                       COALESCE(co.segment_id, 0) AS g, COALESCE(dl.company_id, 0) AS company,
                       COALESCE(dl.loss_reason, '') AS reason,
                       {d.cents("dl.amount")} AS cents,
                       sc.changed_at AS at, sc.to_stage_id AS stage,
                       COALESCE(sc.from_stage_id, 0) AS from_id,
                       COALESCE(st.kind, 'open') AS kind,
                       ROW_NUMBER() OVER w AS n,
                       {d.micros("sc.changed_at")} AS at_us,
                       LEAD({d.micros("sc.changed_at")}) OVER w AS next_us,
                       LEAD(sc.to_stage_id) OVER w AS next_stage,
                       FIRST_VALUE({d.micros("sc.changed_at")}) OVER w AS first_us,
                       MAX(CASE WHEN st.kind = 'won' THEN 1 ELSE 0 END) OVER (
                           PARTITION BY sc.deal_id ORDER BY sc.changed_at, sc.id
                           ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
                       ) AS later_won
                FROM {changes} sc
                JOIN {deals} dl ON dl.id = sc.deal_id
                LEFT JOIN {companies} co ON co.id = dl.company_id
                LEFT JOIN {stages} st ON st.id = sc.to_stage_id AND st.workspace_id = %s
                WHERE dl.workspace_id = %s
                WINDOW w AS (PARTITION BY sc.deal_id ORDER BY sc.changed_at, sc.id)
            ) h
            ) t
            """,
            [ws, ws],
        )
        if timings is not None:
            timings["history"] = time.monotonic() - started
            started = time.monotonic()
        cur.execute(
            f"""
            INSERT INTO {_table(StageEntryDay)} (workspace_id, day, pipeline_id, owner_id, source,
                product_id, segment_id, stage_id, from_stage_id, loss_reason, entered,
                amount_cents, later_won)
            SELECT %s, day, p, o, s, r, g, stage, from_id, reason, COUNT(*), SUM(cents),
                SUM(later_won)
            FROM {temp} GROUP BY p, day, o, s, stage, from_id, reason, r, g
            ORDER BY p, day, o, s, stage, from_id, reason, r, g
            """,
            [ws],
        )
        entry_rows = cur.rowcount
        cur.execute(
            f"""
            INSERT INTO {_table(StageExitDay)} (workspace_id, day, pipeline_id, owner_id, source,
                product_id, segment_id, stage_id, to_stage_id, {connection.ops.quote_name("left")})
            SELECT %s, day, p, o, s, r, g, stage, next_stage, COUNT(*)
            FROM {temp} WHERE next_stage IS NOT NULL
            GROUP BY p, day, o, s, stage, next_stage, r, g
            ORDER BY p, day, o, s, stage, next_stage, r, g
            """,
            [ws],
        )
        exit_rows = cur.rowcount
        cur.execute(
            f"""
            INSERT INTO {_table(DurationDay)} (workspace_id, day, pipeline_id, owner_id, source,
                product_id, segment_id, stage_id, metric, hours,
                {connection.ops.quote_name("count")})
            SELECT %s, day, p, o, s, r, g, stage, metric, hours, COUNT(*) FROM (
                SELECT day, p, o, s, r, g, stage, 'stage' AS metric, stay_hours AS hours
                FROM {temp} WHERE stay_hours IS NOT NULL
                UNION ALL
                SELECT day, p, o, s, r, g, stage, 'cycle', cycle_hours
                FROM {temp} WHERE cycle_hours IS NOT NULL
            ) t GROUP BY p, day, o, s, stage, metric, hours, r, g
            ORDER BY p, day, o, s, stage, metric, hours, r, g
            """,
            [ws],
        )
        duration_rows = cur.rowcount
        period_rows = rebuild_periods(cur, ws, d)
        if timings is not None:
            timings["rollups"] = time.monotonic() - started
            started = time.monotonic()
        day = d.day_text("day")
        parts = ", ".join(
            [
                "'p', MIN(p)",
                "'o', MIN(o)",
                "'s', MIN(s)",
                "'r', MIN(r)",
                "'g', MIN(g)",
                f"'e', {d.array_agg(f'{day}, stage, from_id, reason, 1, cents, later_won')}",
                f"'x', {d.array_agg(f'{day}, stage, next_stage, 1', 'next_stage IS NOT NULL')}",
                "'d', "
                + d.array_agg(f"{day}, stage, 'stage', stay_hours, 1", "stay_hours IS NOT NULL"),
                "'c', "
                + d.array_agg(f"{day}, stage, 'cycle', cycle_hours, 1", "cycle_hours IS NOT NULL"),
            ]
        )
        cur.execute(
            f"""
            INSERT INTO {_table(DealFootprint)} (deal_id, workspace_id, company_id, data)
            SELECT deal_id, %s, MIN(company), {d.footprint(parts)}
            FROM {temp} GROUP BY deal_id
            """,
            [ws],
        )
        footprints = cur.rowcount
        cur.execute(f"DROP TABLE {temp}")
        if timings is not None:
            timings["footprints"] = time.monotonic() - started
    return {
        "deals": footprints,
        "rows": entry_rows + exit_rows + duration_rows,
        "period_rows": period_rows,
    }


#: The quarter ("2025-Q4") of a month's period key ("2025-11"), in SQL.
QUARTER_OF_MONTH = (
    "substr(period, 1, 4) || '-Q' || ((CAST(substr(period, 6, 2) AS INTEGER) + 2) / 3)"
)


def rebuild_periods(cur, ws: int, d: Dialect) -> int:
    """The month, quarter and year rollups from the workspace's daily ones (just written):
    months from the days, quarters and years from the months. Returns the rows written."""
    q = connection.ops.quote_name
    tables = [
        (
            StageEntryPeriod,
            StageEntryDay,
            f"source, stage_id, {q('first')}, loss_reason",
            "source, stage_id, from_stage_id = 0, loss_reason",
            ["entered", "amount_cents", "later_won"],
        ),
        (
            StageExitPeriod,
            StageExitDay,
            "source, stage_id, to_stage_id",
            "source, stage_id, to_stage_id",
            [q("left")],
        ),
        (
            DurationPeriod,
            DurationDay,
            "stage_id, metric, hours",
            "stage_id, metric, hours",
            [q("count")],
        ),
    ]
    return sum(
        periods_from_days(cur, ws, d, period_model, day_model, keys, day_keys, values)
        for period_model, day_model, keys, day_keys, values in tables
    )


def periods_from_days(
    cur, ws: int, d: Dialect, period_model, day_model, keys, day_keys, values, *, deals=True
) -> int:
    """One period table from its daily table (just written): months from the days (``keys``
    read as ``day_keys`` there), then quarters and years from the months, each written in the
    order of its key. ``deals``: the rows are keyed by pipeline and owner first. Returns the
    rows written."""
    target = _table(period_model)
    names = ", ".join(values)
    sums = ", ".join(f"SUM({v})" for v in values)
    columns = "pipeline_id, owner_id, " if deals else ""

    def grouped(period: str, by: str) -> str:
        # The period after the pipeline, as the key orders them.
        return f"pipeline_id, {period}, owner_id, {by}" if deals else f"{period}, {by}"

    cur.execute(
        f"""
        INSERT INTO {target} (workspace_id, period, {columns}{keys}, {names})
        SELECT %s, {d.month("day")}, {columns}{day_keys}, {sums}
        FROM {_table(day_model)} WHERE workspace_id = %s
        GROUP BY {grouped(d.month("day"), day_keys)}
        ORDER BY {grouped(d.month("day"), day_keys)}
        """,
        [ws, ws],
    )
    written = cur.rowcount
    for expr in (QUARTER_OF_MONTH, "substr(period, 1, 4)"):
        cur.execute(
            f"""
            INSERT INTO {target} (workspace_id, period, {columns}{keys}, {names})
            SELECT %s, {expr}, {columns}{keys}, {sums}
            FROM {target} WHERE workspace_id = %s AND length(period) = 7
                AND substr(period, 6, 1) <> 'Q'
            GROUP BY {grouped(expr, keys)}
            ORDER BY {grouped(expr, keys)}
            """,
            [ws, ws],
        )
        written += cur.rowcount
    return written


def rebuild_communications(
    ws: int, tz: ZoneInfo, min_length: int, timings: dict | None = None
) -> int:
    """The communications per author and local day; returns the rows written."""
    import time

    from .rollups import HAS_OUTCOME, call_outcome

    started = time.monotonic()
    d = Dialect(connection.vendor)
    span = _span(ws)
    spans = offsets(tz, *span) if span else [(None, 0)]
    comms = _table(Communication)
    kinds = ", ".join(f"'{k}'" for k in sorted(str(k) for k in COMMENTED))
    outcome = "c.outcome <> '' THEN c.outcome WHEN " if HAS_OUTCOME else ""
    unsure = (
        f"c.kind IN ({kinds}) AND length(c.comment) >= %s "
        f"AND ({d.other_spaces('c.comment')} OR c.comment LIKE '%%  %%')"
    )
    sure = (
        f"c.kind IN ({kinds}) AND length(c.comment) >= %s "
        f"AND NOT ({d.other_spaces('c.comment')} OR c.comment LIKE '%%  %%') "
        "AND length(trim(c.comment, ' ')) >= %s"
    )
    pattern = d.other_spaces_pattern()
    params = [ws, min_length, pattern, min_length, ws]
    if d.pg:
        sure = sure.replace("trim(c.comment, ' ')", "btrim(c.comment, ' ')")
    else:
        # SQLite runs in this process: the rule itself judges every comment, as a function of
        # the statement (a pattern over the Unicode spaces costs SQLite far more).
        connection.ensure_connection()
        connection.connection.create_function(
            "voronka_comment_counts",
            2,
            lambda text, length: int(comment_counts(text, length)),
            deterministic=True,
        )
        sure = (
            f"c.kind IN ({kinds}) AND length(c.comment) >= %s "
            "AND voronka_comment_counts(c.comment, %s)"
        )
        params = [ws, min_length, min_length, ws]
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {_table(CommunicationDay)} (workspace_id, day, author_id, kind, direction,
                outcome, {connection.ops.quote_name("count")}, seconds, commented)
            SELECT %s, day, author, kind, direction, outcome, COUNT(*), SUM(secs), SUM(commented)
            FROM (
                SELECT {d.local_day("c.occurred_at", spans)} AS day,
                       COALESCE(c.author_id, 0) AS author, c.kind,
                       COALESCE(c.direction, '') AS direction,
                       CASE WHEN c.kind = 'call' THEN (
                           CASE WHEN {outcome}COALESCE(c.duration_seconds, 0) > 0
                           THEN 'answered' ELSE 'missed' END
                       ) ELSE '' END AS outcome,
                       COALESCE(c.duration_seconds, 0) AS secs,
                       CASE WHEN {sure} THEN 1 ELSE 0 END AS commented
                FROM {comms} c WHERE c.workspace_id = %s
            ) t GROUP BY day, author, kind, direction, outcome
            """,
            params,
        )
        written = cur.rowcount
        if not d.pg:
            written += communication_periods(cur, ws, d)
            return _done(written, timings, started)
        # The comments the statement could not judge: whitespace other than single spaces.
        out_field = ", c.outcome" if HAS_OUTCOME else ""
        cur.execute(
            f"""
            SELECT c.author_id, c.occurred_at, c.kind, c.direction, c.duration_seconds,
                   c.comment{out_field}
            FROM {comms} c WHERE c.workspace_id = %s AND {unsure}
            """,
            [ws, min_length, pattern],
        )
        add: dict[tuple, int] = {}
        for row in cur.fetchall():
            author_id, at, kind, direction, seconds, comment = row[:6]
            if not comment_counts(comment, min_length):
                continue
            if isinstance(at, str):
                at = datetime.fromisoformat(at)
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            key = (
                rules.local_day(at, tz),
                author_id or 0,
                kind,
                direction or "",
                call_outcome(kind, seconds, row[6] if HAS_OUTCOME else None),
            )
            add[key] = add.get(key, 0) + 1
    for (day, author_id, kind, direction, outcome_), n in add.items():
        CommunicationDay.objects.filter(
            workspace_id=ws,
            day=day,
            author_id=author_id,
            kind=kind,
            direction=direction,
            outcome=outcome_,
        ).update(commented=F("commented") + n)
    with connection.cursor() as cur:
        written += communication_periods(cur, ws, d)
    return _done(written, timings, started)


def communication_periods(cur, ws: int, d: Dialect) -> int:
    """The communications per month, quarter and year from the workspace's daily rows (just
    written). Returns the rows written."""
    keys = "author_id, kind, direction, outcome"
    count = connection.ops.quote_name("count")
    return periods_from_days(
        cur,
        ws,
        d,
        CommunicationPeriod,
        CommunicationDay,
        keys,
        keys,
        [count, "seconds", "commented"],
        deals=False,
    )


def _done(written: int, timings: dict | None, started: float) -> int:
    import time

    if timings is not None:
        timings["communications"] = time.monotonic() - started
    return written
