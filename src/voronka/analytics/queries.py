"""The analytics' query interface: observed conversions, the average deal, KPI facts and the
funnel, read from the rollups (never from the raw history).

Conventions of every function here:

- ``workspace`` is a ``Workspace`` or its id;
- ``since`` and ``until`` are ``datetime.date`` values, both included, meaning calendar days in
  the workspace's time zone;
- ``owners`` is a list of user ids (the deals' owners, the communications' authors) or None for
  everyone; **visibility is the caller's job**: pass ``accounts.access.owner_scope(user)`` (or a
  part of it) for a person;
- amounts are ``Decimal`` in the workspace's currency; shares are floats in 0..1, or None when
  there is nothing to divide by.

The definitions (what counts, from which records) are in ``voronka.analytics.kpis.KPIS`` and
``voronka.analytics.rules``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Sum
from django.utils import timezone

from voronka.accounts.models import User
from voronka.control.evaluate import COMMENTED
from voronka.core.models import Workspace
from voronka.inbox.models import CommKind, Direction
from voronka.sales.models import Pipeline, Stage

from . import rules
from .kpis import COUNTED, KPIS, Kpi
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

__all__ = [
    "KPIS",
    "Kpi",
    "StageConversion",
    "Selection",
    "stage_conversions",
    "average_won_amount",
    "kpi_values",
    "funnel_facts",
    "funnel_stages",
    "cohorts",
]


def _ws_id(workspace) -> int:
    return workspace.pk if isinstance(workspace, Workspace) else int(workspace)


def _pipeline_id(pipeline) -> int | None:
    if pipeline is None:
        return None
    return pipeline.pk if isinstance(pipeline, Pipeline) else int(pipeline)


def money(cents_: int) -> Decimal:
    return (Decimal(cents_) / 100).quantize(Decimal("0.01"))


def _ids(values) -> tuple[int, ...] | None:
    return (
        tuple(sorted({int(getattr(v, "pk", v) or 0) for v in values}))
        if values is not None
        else None
    )


@dataclass(frozen=True)
class Selection:
    """Which deals' figures to read: a pipeline, a period, and optional filters.

    ``products`` and ``segments`` are ids, 0 standing for "none" (a deal without a product, a
    client without a segment). The month, quarter and year rollups keep neither: a selection
    filtered by them reads the daily rows only.

    ``company_id`` (one client) is read from the deals' footprints rather than the daily
    rollups: one client's deals are few, and the figures are the same by construction.
    """

    workspace_id: int
    pipeline_id: int
    since: date
    until: date
    owners: tuple[int, ...] | None = None
    sources: tuple[str, ...] | None = None
    company_id: int | None = None
    products: tuple[int, ...] | None = None
    segments: tuple[int, ...] | None = None

    @classmethod
    def make(
        cls,
        workspace,
        pipeline,
        *,
        since,
        until,
        owners=None,
        sources=None,
        company=None,
        products=None,
        segments=None,
    ):
        return cls(
            workspace_id=_ws_id(workspace),
            pipeline_id=_pipeline_id(pipeline),
            since=since,
            until=until,
            owners=_ids(owners),
            sources=tuple(sorted(sources)) if sources is not None else None,
            company_id=(getattr(company, "pk", company) if company is not None else None),
            products=_ids(products),
            segments=_ids(segments),
        )

    def base(self, qs, *, sources: bool = True):
        """``qs`` (daily or period rows) narrowed to the workspace, pipeline, owners and (with
        ``sources``) sources, but not to the period."""
        qs = qs.filter(workspace_id=self.workspace_id, pipeline_id=self.pipeline_id)
        if self.owners is not None:
            qs = qs.filter(owner_id__in=self.owners)
        if sources and self.sources is not None:
            qs = qs.filter(source__in=self.sources)
        return qs

    def days(self, qs):
        """``qs`` (daily rows) narrowed to the whole selection but for its period."""
        qs = self.base(qs)
        if self.products is not None:
            qs = qs.filter(product_id__in=self.products)
        if self.segments is not None:
            qs = qs.filter(segment_id__in=self.segments)
        return qs

    def periods(self, qs, *, sources: bool = True):
        """``qs`` (period rows) narrowed like ``base``, or None when the periods do not keep a
        dimension the selection filters by (products, segments; sources when ``sources`` is
        false): then the daily rows alone answer."""
        if self.products is not None or self.segments is not None:
            return None
        if not sources and self.sources is not None:
            return None
        return self.base(qs, sources=sources)

    def footprint_counts(self):
        """Per deal of the client: (owner_id, counts) within the selection."""
        qs = DealFootprint.objects.filter(
            workspace_id=self.workspace_id, company_id=self.company_id
        ).order_by("deal_id")
        for fp in qs.values_list("data", flat=True).iterator(chunk_size=2000):
            if fp["p"] != self.pipeline_id:
                continue
            if self.owners is not None and fp["o"] not in self.owners:
                continue
            if self.sources is not None and fp["s"] not in self.sources:
                continue
            if self.products is not None and fp.get("r", 0) not in self.products:
                continue
            if self.segments is not None and fp.get("g", 0) not in self.segments:
                continue
            yield fp["o"], rules.footprint_counts(fp)


def funnel_stages(pipeline) -> list[rules.StageInfo]:
    """The pipeline's stages (archived ones too: history may have passed through them)."""
    return [
        rules.StageInfo(id=s[0], name=s[1], kind=s[2], position=s[3], normal_days=s[4])
        for s in Stage.objects.filter(pipeline_id=_pipeline_id(pipeline))
        .order_by("position", "id")
        .values_list("id", "name", "kind", "position", "normal_days")
    ]


def latest_local_day() -> date:
    """A day no workspace has reached yet anywhere: today in UTC and one more (no time zone is
    a whole day ahead of UTC). Nothing can have happened after it."""
    return timezone.now().date() + timedelta(days=1)


def _signed_parts(day_qs, period_qs, since: date, until: date, merge: bool):
    """(sign, queryset, from the periods?) covering ``[since, until]``: whole months, quarters
    and years from the period rollups (``period_qs``; None: read only daily rows), and the days
    at the edges from the daily ones (``day_qs``), added or subtracted as ``rules.cover`` says."""
    if period_qs is None:
        periods, ranges = [], [(since, until, 1)]
    else:
        periods, ranges = rules.cover(since, until, merge=merge, empty_after=latest_local_day())
    if periods:
        yield 1, period_qs.filter(period__in=periods), True
    # A read per range: ranges joined by OR in one query can lead SQLite's planner away from
    # the (pipeline, day) index to a scan of the whole workspace.
    for first, last, sign in ranges:
        yield sign, day_qs.filter(day__gte=first, day__lte=last), False


def signed_sums(
    day_qs, period_qs, since: date, until: date, group_day, group_period, sums, *, merge=True
):
    """The grouped sums of a period as (sign, row dict), read as ``_signed_parts`` says."""
    for sign, qs, periodic in _signed_parts(day_qs, period_qs, since, until, merge):
        group = group_period if periodic else group_day
        for row in qs.values(*group).annotate(**sums).order_by():
            yield sign, row


def signed_rows(day_qs, period_qs, since: date, until: date, group_day, group_period, sums):
    """As ``signed_sums``, but (sign, from the periods?, row) with the row the database's own
    tuple (the group's columns, then the sums): no dict and no field conversion per row, for
    the tens of thousands of rows a funnel reads. Values are as the driver gives them (SQLite:
    a boolean is 0 or 1, a date is text), so only integer and text columns are read this way."""
    for sign, qs, periodic in _signed_parts(day_qs, period_qs, since, until, True):
        group = group_period if periodic else group_day
        grouped = qs.values(*group).annotate(**sums).order_by().values_list(*group, *sums)
        try:
            sql, params = grouped.query.sql_with_params()
        except EmptyResultSet:  # a filter nothing can pass (an empty list of ids)
            continue
        with connections[qs.db].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for row in rows:
            yield sign, periodic, row


def _pruned(facts: rules.Facts) -> rules.Facts:
    """Without the keys whose sums came to zero (a block less its edge days)."""
    facts.entries = {k: v for k, v in facts.entries.items() if any(v)}
    facts.exits = {k: v for k, v in facts.exits.items() if v}
    facts.durations = {k: v for k, v in facts.durations.items() if v}
    return facts


def funnel_facts(sel: Selection, *, by_owner: bool = False, durations: bool = True):
    """The summed facts of the selection (``rules.Facts``), or {owner_id: Facts} by owner;
    without the durations when ``durations`` is false (conversions need none)."""
    out: dict[int | None, rules.Facts] = defaultdict(rules.Facts)
    if sel.company_id is not None:
        since, until = sel.since.isoformat(), sel.until.isoformat()
        for owner_id, counts in sel.footprint_counts():
            out[owner_id if by_owner else None].add_counts(counts, since, until)
        return dict(out) if by_owner else out[None]
    # Rows are tuples: (owner,) then the group's columns and the sums.
    group = ["owner_id"] if by_owner else []
    for sign, periodic, row in signed_rows(
        sel.days(StageEntryDay.objects),
        sel.periods(StageEntryPeriod.objects),
        sel.since,
        sel.until,
        [*group, "stage_id", "from_stage_id", "loss_reason"],
        [*group, "stage_id", "first", "loss_reason"],
        {"n": Sum("entered"), "c": Sum("amount_cents"), "w": Sum("later_won")},
    ):
        *owner, stage_id, first, reason, n, c, w = row
        out[owner[0] if owner else None].add_entry(
            stage_id,
            bool(first) if periodic else first == 0,
            reason,
            sign * n,
            sign * int(c),  # PostgreSQL's sum of a bigint is a numeric (a Decimal here)
            sign * w,
        )
    for sign, _periodic, row in signed_rows(
        sel.days(StageExitDay.objects),
        sel.periods(StageExitPeriod.objects),
        sel.since,
        sel.until,
        [*group, "stage_id", "to_stage_id"],
        [*group, "stage_id", "to_stage_id"],
        {"n": Sum("left")},
    ):
        *owner, stage_id, to_id, n = row
        out[owner[0] if owner else None].add_exit(stage_id, to_id, sign * n)
    # The period durations hold every source together: a source filter reads the daily rows.
    if durations:
        for sign, _periodic, row in signed_rows(
            sel.days(DurationDay.objects),
            sel.periods(DurationPeriod.objects, sources=False),
            sel.since,
            sel.until,
            [*group, "metric", "stage_id", "hours"],
            [*group, "metric", "stage_id", "hours"],
            {"n": Sum("count")},
        ):
            # Tens of thousands of rows: the histogram's dict is added to in place.
            histogram = out[row[0] if by_owner else None].durations
            key = row[-4:-1]  # (metric, stage, hours)
            histogram[key] = histogram.get(key, 0) + sign * row[-1]
    for facts in out.values():
        _pruned(facts)
    if by_owner:
        return {k: v for k, v in out.items() if v.entries or v.exits or v.durations}
    return out[None]


def cohorts(sel: Selection) -> list[tuple[date, int, int, int]]:
    """Deals created per month of the period: (month's first day, created, of them won by now,
    amount created in cents), oldest first."""
    months: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    if sel.company_id is not None:
        since, until = sel.since.isoformat(), sel.until.isoformat()
        for _owner, counts in sel.footprint_counts():
            for key, (n, c, w) in ((k, v) for k, v in counts.items() if k[0] == "e"):
                day, _stage, from_id, _reason = key[rules.DAY :]
                if from_id == 0 and since <= day <= until:
                    m = months[date.fromisoformat(day).replace(day=1)]
                    m[0] += n
                    m[1] += w
                    m[2] += c
    else:
        day_qs = sel.days(StageEntryDay.objects).filter(from_stage_id=0)
        period_qs = sel.periods(StageEntryPeriod.objects)
        if period_qs is not None:
            period_qs = period_qs.filter(first=True)
        sums = {"n": Sum("entered"), "w": Sum("later_won"), "c": Sum("amount_cents")}
        for sign, row in signed_sums(
            day_qs, period_qs, sel.since, sel.until, ["day"], ["period"], sums, merge=False
        ):
            when = row.get("day") or date.fromisoformat(row["period"] + "-01")
            m = months[when.replace(day=1)]
            m[0] += sign * row["n"]
            m[1] += sign * row["w"]
            m[2] += sign * row["c"]
        months = {k: v for k, v in months.items() if v[0]}
    return [(month, *months[month]) for month in sorted(months)]


class StageConversion(NamedTuple):
    """Observed conversion from one stage to the next step of the funnel."""

    from_stage_id: int
    #: The next open stage by position, or the pipeline's won stage after the last open one.
    to_stage_id: int | None
    #: Entries into ``from_stage`` in the window.
    entered: int
    #: Of those, the stays that moved on: left for a later open stage or a won stage.
    moved_on: int
    #: moved_on / entered, or None when nothing entered.
    rate: float | None


def stage_conversions(
    workspace,
    pipeline,
    *,
    owners=None,
    since: date,
    until: date,
    sources=None,
    products=None,
    segments=None,
) -> list[StageConversion]:
    """Step-to-step conversions of the pipeline's open stages, in funnel order, observed over
    the deals that entered each stage between ``since`` and ``until`` (local days, included).

    Multiplying the rates of consecutive rows gives the share of entries into the first stage
    that end up won, as near as the funnel's skips and returns allow.
    """
    sel = Selection.make(
        workspace,
        pipeline,
        since=since,
        until=until,
        owners=owners,
        sources=sources,
        products=products,
        segments=segments,
    )
    rows = rules.funnel_rows(funnel_stages(pipeline), funnel_facts(sel))
    return [
        StageConversion(
            from_stage_id=r.stage.id,
            to_stage_id=r.next_stage.id if r.next_stage else None,
            entered=r.entered,
            moved_on=r.moved_on,
            rate=r.to_next,
        )
        for r in rows
        if r.stage.kind == rules.OPEN
    ]


def _stage_meanings(workspace_id: int) -> tuple[dict[int, tuple], set[int], set[int]]:
    stages = list(
        Stage.objects.filter(workspace_id=workspace_id).values_list(
            "id", "pipeline_id", "kind", "position", "required_fields"
        )
    )
    proposals, invoices = rules.document_stages(stages)
    return {s[0]: s for s in stages}, proposals, invoices


def average_won_amount(
    workspace, *, pipeline=None, owners=None, since: date, until: date, products=None
) -> Decimal | None:
    """The average amount of the deals won (entering a won stage) between ``since`` and
    ``until``, for the pipeline (or all), owners (or everyone) and products (ids, 0: none; or
    every deal); None when none was won."""
    values = kpi_values(
        workspace,
        ["average_deal"],
        owners=owners,
        per="company",
        since=since,
        until=until,
        granularity="total",
        pipeline=pipeline,
        products=products,
    )
    return values.get((None, date.min, "average_deal"))


def _entry_rows(base, pipeline_ids, since, until, *, whole: bool):
    """(owner_id, day, stage_id, from_stage_id, entered, amount_cents) of the stage entries;
    with ``whole`` (a total over the period), day is None and from_stage_id is 0 for a deal's
    creation, None for any other entry."""
    day_qs = base(StageEntryDay.objects, "owner_id", days=not whole, deals=True)
    day_qs = day_qs.filter(pipeline_id__in=pipeline_ids)
    if not whole:
        yield from (
            day_qs.values("owner_id", "day", "stage_id", "from_stage_id")
            .annotate(n=Sum("entered"), c=Sum("amount_cents"))
            .order_by()
            .values_list("owner_id", "day", "stage_id", "from_stage_id", "n", "c")
        )
        return
    period_qs = base(StageEntryPeriod.objects, "owner_id", days=False)
    period_qs = period_qs.filter(pipeline_id__in=pipeline_ids)
    for sign, periodic, row in signed_rows(
        day_qs,
        period_qs,
        since,
        until,
        ["owner_id", "stage_id", "from_stage_id"],
        ["owner_id", "stage_id", "first"],
        {"n": Sum("entered"), "c": Sum("amount_cents")},
    ):
        owner_id, stage_id, first, n, c = row
        created = bool(first) if periodic else first == 0
        yield owner_id, None, stage_id, 0 if created else None, sign * n, sign * int(c)


def _cycle_rows(base, pipeline_ids, since, until, *, whole: bool):
    """(owner_id, day, hours, count) of the cycles to a win (day None with ``whole``)."""
    day_qs = base(DurationDay.objects, "owner_id", days=not whole, deals=True).filter(
        metric="cycle"
    )
    day_qs = day_qs.filter(pipeline_id__in=pipeline_ids)
    if not whole:
        yield from (
            day_qs.values("owner_id", "day", "hours")
            .annotate(n=Sum("count"))
            .order_by()
            .values_list("owner_id", "day", "hours", "n")
        )
        return
    period_qs = base(DurationPeriod.objects, "owner_id", days=False).filter(metric="cycle")
    period_qs = period_qs.filter(pipeline_id__in=pipeline_ids)
    for sign, row in signed_sums(
        day_qs,
        period_qs,
        since,
        until,
        ["owner_id", "hours"],
        ["owner_id", "hours"],
        {"n": Sum("count")},
    ):
        yield row["owner_id"], None, row["hours"], sign * row["n"]


def kpi_values(
    workspace,
    kpi_codes,
    *,
    owners=None,
    per: str = "owner",
    since: date,
    until: date,
    granularity: str = "day",
    pipeline=None,
    products=None,
    segments=None,
) -> dict[tuple, object]:
    """KPI values counted from the rollups: {(who, bucket, code): value}.

    - ``kpi_codes``: codes of ``KPIS`` (all counted ones when None; "stage_conversion" is per
      stage pair: ``stage_conversions``);
    - ``owners``: user ids (None: everyone in the workspace);
    - ``per``: "owner" (who = the user id), "team" (who = the person's current team id, None
      without a team) or "company" (who = None);
    - ``granularity``: "day", "week" (bucket = its Monday), "month" (its 1st) or "total"
      (bucket = ``date.min``);
    - ``pipeline``: deal KPIs of one pipeline (None: all); ``products``, ``segments``: deal KPIs
      of these products and client segments (ids, 0: none; None: all). Communications are
      counted per author, never per pipeline, product or segment.

    Only (who, bucket) pairs with some activity appear; a missing count means zero. Values:
    counts and minutes are ints, amounts Decimal, ``cycle_days`` a Decimal with one decimal,
    shares floats.
    """
    ws = _ws_id(workspace)
    codes = list(kpi_codes) if kpi_codes is not None else list(COUNTED)
    unknown = set(codes) - set(COUNTED)
    if unknown:
        raise ValueError(f"unknown or uncounted KPI codes: {sorted(unknown)}")
    if per not in ("owner", "team", "company"):
        raise ValueError(f"per must be owner, team or company, not {per!r}")
    teams: dict[int, int | None] = {}
    if per == "team":
        teams = dict(User.objects.filter(workspace_id=ws).values_list("id", "team_id"))

    def who(user_id: int):
        if per == "owner":
            return user_id
        if per == "team":
            return teams.get(user_id)
        return None

    def bucket(day: date) -> date:
        return rules.bucket_start(day, granularity)

    acc: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cycles: dict[tuple, dict[int, int]] = defaultdict(dict)
    pipeline_id = _pipeline_id(pipeline)
    # Every pipeline named rather than none: the rollups' keys start with the pipeline, so a
    # period is then found by the index instead of a scan of the whole table.
    pipeline_ids = (
        [pipeline_id]
        if pipeline_id is not None
        else list(Pipeline.objects.filter(workspace_id=ws).values_list("id", flat=True))
    )
    # A total over the period reads whole months, quarters and years from the period rollups;
    # the moves forward need each entry's previous stage, which only the daily rows keep.
    # The period rollups keep neither products nor segments either.
    product_ids, segment_ids = _ids(products), _ids(segments)
    wholly = (
        granularity == "total"
        and "moved_forward" not in codes
        and product_ids is None
        and segment_ids is None
    )

    def base(qs, owner_field, *, days=True, deals=False):
        qs = qs.filter(workspace_id=ws)
        if days:
            qs = qs.filter(day__gte=since, day__lte=until)
        if owners is not None:
            qs = qs.filter(**{f"{owner_field}__in": list(owners)})
        if deals and product_ids is not None:
            qs = qs.filter(product_id__in=product_ids)
        if deals and segment_ids is not None:
            qs = qs.filter(segment_id__in=segment_ids)
        return qs

    if DEAL_CODES & set(codes):
        rows = _entry_rows(base, pipeline_ids, since, until, whole=wholly)
        _count_entries(acc, rows, ws, who, bucket)
    if "cycle_days" in codes:
        for owner_id, day, hours, n in _cycle_rows(base, pipeline_ids, since, until, whole=wholly):
            key = (who(owner_id), bucket(day))
            h = cycles[key]
            h[hours] = h.get(hours, 0) + n
            acc[key]  # the pair has activity
    comm_codes = {
        "calls_out",
        "calls_in",
        "calls_answered",
        "call_minutes",
        "meetings_held",
        "comment_share",
    }
    if comm_codes & set(codes):
        group = ["author_id", "kind", "direction", "outcome"]
        sums = {"n": Sum("count"), "s": Sum("seconds"), "k": Sum("commented")}
        if granularity == "total":
            # A total needs no day: whole months, quarters and years summed by the database,
            # the days at the edges added or taken away (a row per author and kind).
            rows = (
                (sign, row[0], date.min, *row[1:])
                for sign, _periodic, row in signed_rows(
                    base(CommunicationDay.objects, "author_id", days=False),
                    base(CommunicationPeriod.objects, "author_id", days=False),
                    since,
                    until,
                    group,
                    group,
                    sums,
                )
            )
        else:
            rows = (
                (1, *row)
                for row in base(CommunicationDay.objects, "author_id")
                .values("day", *group)
                .annotate(**sums)
                .order_by()
                .values_list("author_id", "day", "kind", "direction", "outcome", *sums)
            )
        for sign, author_id, day, kind, direction, outcome, n, secs, commented in rows:
            n, secs, commented = sign * n, sign * int(secs), sign * commented
            a = acc[(who(author_id), bucket(day))]
            if kind == CommKind.CALL:
                if direction == Direction.OUTGOING:
                    a["calls_out"] += n
                elif direction == Direction.INCOMING:
                    a["calls_in"] += n
                if outcome == "answered":
                    a["calls_answered"] += n
                a["call_seconds"] += secs
            elif kind == CommKind.MEETING:
                a["meetings_held"] += n
            if kind in COMMENTED:
                a["to_comment"] += n
                a["commented"] += commented
    return _values(acc, cycles, codes)


def deal_kpis_from_facts(workspace, by_owner: dict[int, rules.Facts], kpi_codes) -> dict:
    """Deal KPI totals per owner, {(owner_id, ``date.min``, code): value} as ``kpi_values``
    gives them with ``granularity="total"``, counted from funnel facts already read
    (``funnel_facts(sel, by_owner=True)``) instead of reading the same stage entries again.
    The moves forward need each entry's previous stage, which the facts do not keep."""
    codes = list(kpi_codes)
    unknown = set(codes) - (DEAL_CODES - {"moved_forward"})
    if unknown:
        raise ValueError(f"not counted from funnel facts: {sorted(unknown)}")
    rows = (
        (owner_id, None, stage_id, 0 if first else None, n, c)
        for owner_id, facts in by_owner.items()
        for (stage_id, first, _reason), (n, c, _w) in facts.entries.items()
    )
    acc: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    _count_entries(acc, rows, _ws_id(workspace), lambda owner_id: owner_id, lambda _day: date.min)
    return _values(acc, {}, codes)


#: The KPIs counted from the stage entries.
DEAL_CODES = frozenset(
    {
        "proposals_sent",
        "invoices_issued",
        "payments_count",
        "payments_amount",
        "new_deals",
        "moved_forward",
        "won",
        "lost",
        "average_deal",
    }
)


def _count_entries(acc, rows, workspace_id: int, who, bucket) -> None:
    """Count the deal KPIs of stage entries (owner_id, day, stage_id, from_stage_id, entered,
    amount_cents) into ``acc[(who(owner_id), bucket(day))]``; from_stage_id is 0 for a deal's
    creation and None when unknown (a total read from the period rollups)."""
    stages, proposals, invoices = _stage_meanings(workspace_id)
    for owner_id, day, stage_id, from_id, n, c in rows:
        a = acc[(who(owner_id), bucket(day))]
        stage = stages.get(stage_id)
        kind = stage[2] if stage else rules.OPEN
        if from_id == 0:
            a["new_deals"] += n
        elif from_id is not None:
            prev = stages.get(from_id)
            if stage and prev:
                here = rules.StageInfo(stage_id, "", kind, stage[3])
                there = rules.StageInfo(from_id, "", prev[2], prev[3])
                if rules.moves_on(there, here):
                    a["moved_forward"] += n
        if kind == rules.WON:
            a["won"] += n
            a["won_cents"] += c
        elif kind == rules.LOST:
            a["lost"] += n
        if stage_id in proposals:
            a["proposals_sent"] += n
        if stage_id in invoices:
            a["invoices_issued"] += n


def _values(acc, cycles, codes) -> dict[tuple, object]:
    """{(who, bucket, code): value} from the counts ``kpi_values`` gathered."""
    out: dict[tuple, object] = {}
    for (key_who, key_bucket), a in acc.items():
        for code in codes:
            if code == "payments_count":
                value = a["won"]
            elif code == "payments_amount":
                value = money(a["won_cents"])
            elif code == "average_deal":
                value = money(a["won_cents"]) / a["won"] if a["won"] else None
                if value is not None:
                    value = value.quantize(Decimal("0.01"))
            elif code == "call_minutes":
                value = a["call_seconds"] // 60
            elif code == "comment_share":
                value = rules.rate(a["commented"], a["to_comment"])
            elif code == "cycle_days":
                median = rules.percentile(cycles.get((key_who, key_bucket), {}), 50)
                value = None if median is None else (Decimal(median) / 24).quantize(Decimal("0.1"))
            else:
                value = a[code]
            out[(key_who, key_bucket, code)] = value
    return out
