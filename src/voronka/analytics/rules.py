"""The analytics' decisions as plain functions over plain values (standard library only).

- ``deal_footprint``: what one deal's stage history adds to the rollups (entries per stage and
  day, the stays that ended and where they went, durations of stays and of the cycle to a win).
- ``percentile``: nearest-rank percentiles over a histogram of whole-hour buckets.
- ``funnel_rows``: the funnel of a pipeline from summed facts (entries, exits, durations).
- ``find_bottlenecks``: the stage where a manager's conversion or time is worst against the
  others', or the company's against its own norm (a stage's normal duration).

Definitions used everywhere (the KPI catalogue and the pages repeat them in words):
- an *entry* is a row of the deal's stage history, its creation included; a deal entering the
  same stage twice counts twice;
- a stay *moves on* when the deal leaves the stage for a later open stage (by position) or a
  won stage; leaving for a lost stage or an earlier stage does not move on;
- days are the workspace's local calendar days; a stay or an entry belongs to the day it
  began, a cycle to the day of the win.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

OPEN, WON, LOST = "open", "won", "lost"

#: Durations below this many hours keep whole hours…
HOURLY_UNTIL = 72
#: …those below this many days whole days, and longer ones whole weeks: a stay of months is
#: read to the week, and two years of stays are a few hundred buckets per manager and stage.
DAILY_UNTIL = 28


def duration_bucket(seconds: float) -> int:
    """The histogram bucket of a duration, in hours: whole hours below three days, whole days
    (expressed in hours) below four weeks, whole weeks (in hours) from there on. Percentiles
    are exact at this resolution."""
    seconds = max(0, int(seconds))
    hours = seconds // 3600
    if hours < HOURLY_UNTIL:
        return hours
    days = seconds // 86400
    if days < DAILY_UNTIL:
        return days * 24
    return (days // 7) * 7 * 24


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def deal_footprint(
    changes: list[tuple[datetime, int | None, int]],
    kinds: dict[int, str],
    *,
    tz: ZoneInfo,
    pipeline_id: int,
    owner_id: int,
    source: str,
    amount_cents: int,
    loss_reason: str,
    product_id: int = 0,
    segment_id: int = 0,
) -> dict:
    """What a deal adds to the rollups, from its stage history ``changes`` ((changed_at,
    from_stage_id, to_stage_id), oldest first) and the kinds of the stages by id.

    The result is JSON-ready: ``{"p", "o", "s", "r", "g"`` (pipeline, owner, source, product,
    client segment; 0 for none), ``"e"``: entries
    ``[day, stage, from_stage or 0, reason, 1, amount_cents, later_won]``, ``"x"``: ended stays
    ``[day, stage, to_stage, 1]``, ``"d"``: stays' durations ``[day, stage, "stage", hours, 1]``,
    ``"c"``: cycles ``[day, won stage, "cycle", hours, 1]``}; the same key may repeat, the
    rollups add them up. (Footprints written before "c" existed hold the cycles in "d".)
    """
    entries, exits, durations, cycles = [], [], [], []
    won_after = [False] * len(changes)
    seen_won = False
    for i in range(len(changes) - 1, -1, -1):
        seen_won = seen_won or kinds.get(changes[i][2]) == WON
        won_after[i] = seen_won
    first_at = changes[0][0] if changes else None
    for i, (at, from_id, to_id) in enumerate(changes):
        day = local_day(at, tz).isoformat()
        kind = kinds.get(to_id, OPEN)
        reason = loss_reason if kind == LOST else ""
        entries.append([day, to_id, from_id or 0, reason, 1, amount_cents, int(won_after[i])])
        if i + 1 < len(changes):
            left_at, _, next_id = changes[i + 1]
            exits.append([day, to_id, next_id, 1])
            hours = duration_bucket((left_at - at).total_seconds())
            durations.append([day, to_id, "stage", hours, 1])
        if kind == WON:
            hours = duration_bucket((at - first_at).total_seconds())
            cycles.append([day, to_id, "cycle", hours, 1])
    return {
        "p": pipeline_id,
        "o": owner_id,
        "s": source,
        "r": product_id,
        "g": segment_id,
        "e": entries,
        "x": exits,
        "d": durations,
        "c": cycles,
    }


def footprint_counts(footprint: dict | None) -> dict[tuple, list[int]]:
    """A footprint as rollup keys → summed values: ("e", pipeline, owner, source, product,
    segment, day, stage, from, reason) → [entered, amount_cents, later_won]; ("x", …, day,
    stage, to) → [left]; ("d", …, day, stage, metric, hours) → [count]. (Footprints written
    before products and segments count as neither.)"""
    out: dict[tuple, list[int]] = {}
    if not footprint:
        return out
    common = (
        footprint["p"],
        footprint["o"],
        footprint["s"],
        footprint.get("r", 0),
        footprint.get("g", 0),
    )
    for table, width in (("e", 4), ("x", 3), ("d", 4)):
        rows = footprint[table] + footprint.get("c", []) if table == "d" else footprint[table]
        for row in rows:
            key = (table, *common, *row[:width])
            values = row[width:]
            if key in out:
                out[key] = [a + b for a, b in zip(out[key], values, strict=True)]
            else:
                out[key] = list(values)
    return out


#: Where a rollup key (``footprint_counts``) holds its day; the table's own fields follow it.
DAY = 6


def footprint_delta(old: dict | None, new: dict | None) -> dict[tuple, list[int]]:
    """New minus old, keys whose difference is all zero left out."""
    before, after = footprint_counts(old), footprint_counts(new)
    delta = {}
    for key in before.keys() | after.keys():
        a = after.get(key)
        b = before.get(key)
        if a is None:
            diff = [-v for v in b]
        elif b is None:
            diff = list(a)
        else:
            diff = [x - y for x, y in zip(a, b, strict=True)]
        if any(diff):
            delta[key] = diff
    return delta


# -- Percentiles ---------------------------------------------------------------------------------


def percentile(histogram: dict[int, int], p: float) -> int | None:
    """The nearest-rank ``p``-th percentile (0 < p ≤ 100) of values given as {value: count}:
    the smallest value with at least ``ceil(p / 100 · n)`` values at or below it."""
    return percentiles(histogram, (p,))[0]


def percentiles(histogram: dict[int, int], ps) -> list[int | None]:
    """``percentile`` for each of ``ps`` (ascending), with one walk through the histogram."""
    total = sum(c for c in histogram.values() if c > 0)
    if total == 0:
        return [None] * len(ps)
    ranks = [max(1, math.ceil(p / 100 * total)) for p in ps]
    out: list[int | None] = []
    running = 0
    for value in sorted(histogram):
        count = histogram[value]
        if count <= 0:
            continue
        running += count
        while len(out) < len(ranks) and running >= ranks[len(out)]:
            out.append(value)
        if len(out) == len(ranks):
            break
    return out  # every rank is reached: running ends at total


def _running(histogram: dict[int, int]) -> tuple[list[int], list[int]]:
    """The histogram's values with a count, in order, and the running count at each."""
    values = sorted(v for v, c in histogram.items() if c > 0)
    running, total = [], 0
    for value in values:
        total += histogram[value]
        running.append(total)
    return values, running


class Cumulative:
    """A histogram laid out for percentiles of itself less a part of it: its values in order
    and the running count at each (values with no count left out)."""

    __slots__ = ("values", "running", "total")

    def __init__(self, histogram: dict[int, int]):
        self.values, self.running = _running(histogram)
        self.total = self.running[-1] if self.running else 0

    def percentile_without(self, part: dict[int, int], p: float) -> int | None:
        """``percentile`` of this histogram less ``part`` (whose counts are each at most this
        one's at the same value, as one manager's stays are of everyone's), without building
        the difference: a binary search over the running counts, each less the part's."""
        part_values, part_running = _running(part)
        total = self.total - (part_running[-1] if part_running else 0)
        if total <= 0:
            return None
        rank = max(1, math.ceil(p / 100 * total))
        values, running = self.values, self.running
        lo, hi = 0, len(values) - 1
        while lo < hi:  # the first value whose running count, less the part's, reaches rank
            mid = (lo + hi) // 2
            j = bisect_right(part_values, values[mid])
            if running[mid] - (part_running[j - 1] if j else 0) >= rank:
                hi = mid
            else:
                lo = mid + 1
        return values[lo]


# -- The funnel ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageInfo:
    id: int
    name: str
    kind: str
    position: int
    normal_days: int | None = None


@dataclass
class Facts:
    """Summed rollup facts of one selection (a pipeline, period, filters)."""

    #: (stage, 1 for the deal's creation else 0, loss reason) → [entered, amount_cents,
    #: later_won]
    entries: dict[tuple, list[int]] = field(default_factory=dict)
    #: (stage, to_stage) → stays that ended
    exits: dict[tuple, int] = field(default_factory=dict)
    #: (metric, stage, hours) → count
    durations: dict[tuple, int] = field(default_factory=dict)

    def add_entry(self, stage, first, reason, entered, cents, won) -> None:
        row = self.entries.setdefault((stage, int(first), reason), [0, 0, 0])
        row[0] += entered
        row[1] += cents
        row[2] += won

    def add_exit(self, stage, to_stage, left) -> None:
        self.exits[(stage, to_stage)] = self.exits.get((stage, to_stage), 0) + left

    def add_duration(self, metric, stage, hours, count) -> None:
        key = (metric, stage, hours)
        self.durations[key] = self.durations.get(key, 0) + count

    def add(self, other: Facts, sign: int = 1) -> None:
        """Add (or, with ``sign`` -1, subtract) another selection's facts."""
        for (stage, first, reason), (n, c, w) in other.entries.items():
            self.add_entry(stage, first, reason, sign * n, sign * c, sign * w)
        exits, durations = self.exits, self.durations  # the many keys, without a call each
        for key, left in other.exits.items():
            exits[key] = exits.get(key, 0) + sign * left
        for key, count in other.durations.items():
            durations[key] = durations.get(key, 0) + sign * count

    def add_counts(self, counts: dict[tuple, list[int]], since: str, until: str) -> None:
        """Add footprint counts (``footprint_counts``) whose day is within [since, until]."""
        for key, values in counts.items():
            table, day, rest = key[0], key[DAY], key[DAY + 1 :]
            if not since <= day <= until:
                continue
            if table == "e":
                stage, from_id, reason = rest
                self.add_entry(stage, from_id == 0, reason, *values)
            elif table == "x":
                self.add_exit(*rest, values[0])
            else:
                stage, metric, hours = rest
                self.add_duration(metric, stage, hours, values[0])


@dataclass
class FunnelRow:
    stage: StageInfo
    entered: int = 0
    amount_cents: int = 0
    later_won: int = 0
    left: int = 0
    moved_on: int = 0
    next_stage: StageInfo | None = None
    to_next: float | None = None
    to_won: float | None = None
    stays: int = 0
    median_hours: int | None = None
    p75_hours: int | None = None
    p90_hours: int | None = None


def ordered_stages(stages: list[StageInfo]) -> list[StageInfo]:
    """Open stages by position, then won, then lost."""
    rank = {OPEN: 0, WON: 1, LOST: 2}
    return sorted(stages, key=lambda s: (rank.get(s.kind, 0), s.position, s.id))


def moves_on(stage: StageInfo, to: StageInfo | None) -> bool:
    """Leaving ``stage`` for ``to`` is a step forward: to a won stage or a later open one."""
    if to is None:
        return False
    if to.kind == WON:
        return stage.kind == OPEN
    return stage.kind == OPEN and to.kind == OPEN and to.position > stage.position


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def funnel_rows(
    stages: list[StageInfo],
    facts: Facts,
    *,
    histograms: dict[int, dict[int, int]] | None = None,
    spread: bool = True,
) -> list[FunnelRow]:
    """The funnel: per stage the entries, their amount, the share that moved on (to the next
    step) and that ended in a win, and the time spent (median, p75, p90 of finished stays;
    the median only when ``spread`` is false). ``histograms``: ``stage_histograms(facts)``,
    when the caller has them already."""
    by_id = {s.id: s for s in stages}
    ordered = ordered_stages(stages)
    rows = {s.id: FunnelRow(stage=s) for s in ordered}
    opens = [s for s in ordered if s.kind == OPEN]
    won = next((s for s in ordered if s.kind == WON), None)
    for i, s in enumerate(opens):
        rows[s.id].next_stage = opens[i + 1] if i + 1 < len(opens) else won
    for (stage_id, _from, _reason), (entered, cents, later_won) in facts.entries.items():
        row = rows.get(stage_id)
        if row is not None:
            row.entered += entered
            row.amount_cents += cents
            row.later_won += later_won
    for (stage_id, to_id), left in facts.exits.items():
        row = rows.get(stage_id)
        if row is not None:
            row.left += left
            if moves_on(row.stage, by_id.get(to_id)):
                row.moved_on += left
    if histograms is None:
        histograms = stage_histograms(facts)
    for row in rows.values():
        if row.stage.kind == OPEN:
            row.to_next = rate(row.moved_on, row.entered)
            row.to_won = rate(row.later_won, row.entered)
        h = histograms.get(row.stage.id, {})
        row.stays = sum(h.values())
        if spread:
            row.median_hours, row.p75_hours, row.p90_hours = percentiles(h, (50, 75, 90))
        else:
            row.median_hours = percentiles(h, (50,))[0]
    return [rows[s.id] for s in ordered]


def stage_histograms(facts: Facts) -> dict[int, dict[int, int]]:
    """Per stage, the histogram of its finished stays: {stage id: {hours: count}}."""
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for (metric, stage_id, hours), count in facts.durations.items():
        if metric == "stage":
            h = out[stage_id]
            h[hours] = h.get(hours, 0) + count
    return out


def cycle_histogram(facts: Facts) -> dict[int, int]:
    out: dict[int, int] = {}
    for (metric, _stage, hours), count in facts.durations.items():
        if metric == "cycle":
            out[hours] = out.get(hours, 0) + count
    return out


def losses_by_reason(stages: list[StageInfo], facts: Facts) -> list[tuple[str, int, int]]:
    """(reason, deals lost, amount_cents), most frequent first; "" is a loss without reason."""
    lost = {s.id for s in stages if s.kind == LOST}
    out: dict[str, list[int]] = {}
    for (stage_id, _from, reason), (entered, cents, _won) in facts.entries.items():
        if stage_id in lost:
            row = out.setdefault(reason, [0, 0])
            row[0] += entered
            row[1] += cents
    return sorted(((r, n, c) for r, (n, c) in out.items() if n), key=lambda t: (-t[1], t[0]))


# -- The bottleneck ------------------------------------------------------------------------------

#: Fewer entries than this into a stage say nothing about a manager's conversion there.
MIN_ENTRIES = 5
#: A manager's conversion below this share of the others' is worth naming…
CONVERSION_RATIO = 0.75
#: …as is a median stay this many times the others' (or the stage's normal duration).
TIME_RATIO = 1.5


@dataclass(frozen=True)
class Bottleneck:
    """A stage where deals stall: whose (None: the company's), the conversion against its
    norm, and the median stay against its norm (hours)."""

    owner_id: int | None
    stage: StageInfo
    next_stage: StageInfo | None
    rate: float | None
    norm_rate: float | None
    median_hours: int | None
    norm_hours: int | None
    entered: int
    severity: float


def _severity(rate_, norm_rate, hours, norm_hours) -> float:
    score = 0.0
    if rate_ is not None and norm_rate:
        score += max(0.0, 1 - rate_ / norm_rate) * 2
    if hours is not None and norm_hours:
        score += max(0.0, hours / norm_hours - 1) / 2
    return score


def find_bottlenecks(
    stages: list[StageInfo],
    by_owner: dict[int, Facts],
    *,
    limit: int = 3,
    total: Facts | None = None,
) -> list[Bottleneck]:
    """The worst stages, most severe first.

    Per manager: a stage (with at least ``MIN_ENTRIES`` entries) where the manager's step
    conversion is under ``CONVERSION_RATIO`` of the other managers' together, or their median
    stay over ``TIME_RATIO`` times the others'. For the company as a whole: a stage whose
    median stay is over ``TIME_RATIO`` times its normal duration. The company always has a
    line of its own among them: the most severe of those, or else its stage with the lowest
    step conversion. ``total``: the owners' facts summed, when the caller has them already.
    """
    found: list[Bottleneck] = []
    if total is None:
        total = Facts()
        for facts in by_owner.values():
            total.add(facts)
    company_rows = {r.stage.id: r for r in funnel_rows(stages, total)}
    if len(by_owner) > 1:
        whole = {stage_id: Cumulative(h) for stage_id, h in stage_histograms(total).items()}
        nothing = Cumulative({})
        for owner_id in sorted(by_owner):
            hours = stage_histograms(by_owner[owner_id])
            mine = funnel_rows(stages, by_owner[owner_id], histograms=hours, spread=False)
            for row in mine:
                if row.stage.kind != OPEN or row.entered < MIN_ENTRIES:
                    continue
                # The others' figures are the whole less this manager's: exact, as all are sums.
                company = company_rows[row.stage.id]
                peer_entered = company.entered - row.entered
                peer_rate = rate(company.moved_on - row.moved_on, peer_entered)
                peer_hours = whole.get(row.stage.id, nothing).percentile_without(
                    hours.get(row.stage.id, {}), 50
                )
                low = (
                    row.to_next is not None
                    and peer_rate
                    and peer_entered >= MIN_ENTRIES
                    and row.to_next < CONVERSION_RATIO * peer_rate
                )
                slow = (
                    row.median_hours is not None
                    and peer_hours
                    and row.median_hours > TIME_RATIO * peer_hours
                )
                if low or slow:
                    found.append(
                        Bottleneck(
                            owner_id=owner_id,
                            stage=row.stage,
                            next_stage=row.next_stage,
                            rate=row.to_next,
                            norm_rate=peer_rate,
                            median_hours=row.median_hours,
                            norm_hours=peer_hours,
                            entered=row.entered,
                            severity=_severity(
                                row.to_next, peer_rate, row.median_hours, peer_hours
                            ),
                        )
                    )
    for row in company_rows.values():
        if row.stage.kind != OPEN or not row.stage.normal_days or row.median_hours is None:
            continue
        norm_hours = row.stage.normal_days * 24
        if row.median_hours > TIME_RATIO * norm_hours:
            found.append(
                Bottleneck(
                    owner_id=None,
                    stage=row.stage,
                    next_stage=row.next_stage,
                    rate=row.to_next,
                    norm_rate=None,
                    median_hours=row.median_hours,
                    norm_hours=norm_hours,
                    entered=row.entered,
                    severity=_severity(None, None, row.median_hours, norm_hours),
                )
            )
    found.sort(key=lambda b: (-b.severity, b.owner_id is None, b.owner_id or 0, b.stage.position))
    top = found[:limit]
    if not any(b.owner_id is None for b in top):
        # The company's own line is always there: its slowest stage against the norm, or else
        # its weakest step.
        company = next((b for b in found if b.owner_id is None), None) or _weakest(company_rows)
        if company is not None:
            top = [*top[: limit - 1], company] if len(top) >= limit else [*top, company]
    return top


def _weakest(company_rows: dict[int, FunnelRow]) -> Bottleneck | None:
    """The company's open stage with the lowest step conversion (enough stays having ended)."""
    candidates = [
        r
        for r in company_rows.values()
        if r.stage.kind == OPEN and r.to_next is not None and r.left >= MIN_ENTRIES
    ]
    if not candidates:
        return None
    worst = min(candidates, key=lambda r: (r.to_next, r.stage.position, r.stage.id))
    return Bottleneck(
        owner_id=None,
        stage=worst.stage,
        next_stage=worst.next_stage,
        rate=worst.to_next,
        norm_rate=None,
        median_hours=worst.median_hours,
        norm_hours=worst.stage.normal_days * 24 if worst.stage.normal_days else None,
        entered=worst.entered,
        severity=0.0,
    )


# -- Periods -------------------------------------------------------------------------------------


def bucket_start(day: date, granularity: str) -> date:
    """The first day of the day's bucket: the day itself, its week's Monday, its month's 1st,
    or ``date.min`` for the whole period ("total")."""
    if granularity == "day":
        return day
    if granularity == "week":
        return date.fromordinal(day.toordinal() - day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "total":
        return date.min
    raise ValueError(f"unknown granularity {granularity!r}")


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_key(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def year_key(day: date) -> str:
    return f"{day.year:04d}"


def period_keys(day: date) -> tuple[str, str, str]:
    """The month, quarter and year a local day belongs to, as the period rollups name them."""
    return month_key(day), quarter_key(day), year_key(day)


def _month_end(first: date) -> date:
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def cover(
    since: date, until: date, *, merge: bool = True, empty_after: date | None = None
) -> tuple[list[str], list[tuple[date, date, int]]]:
    """The days ``since``..``until`` (both included) as whole periods plus signed day ranges:
    (period keys, [(first day, last day, +1 or -1)]) whose sum is exactly those days.

    A month the range only partly covers is read as its days when they are fewer than the
    days it leaves out, otherwise as the whole month less the days left out. Whole months are
    merged into quarters and years where these lie inside (unless ``merge`` is false), so two
    years are a handful of blocks. Days after ``empty_after`` (the latest day anything can
    have happened on) hold no history: leaving them out costs nothing, so a period ending
    today reads its month, quarter or year whole, less the days and months still to come.
    """
    periods: list[str] = []
    ranges: list[tuple[date, date, int]] = []
    if since > until:
        return periods, ranges

    def cost(first: date, last: date) -> int:
        """Days from ``first`` to ``last`` that may hold history."""
        if empty_after is not None:
            last = min(last, empty_after)
        return max(0, last.toordinal() - first.toordinal() + 1)

    months: list[date] = []
    first = since.replace(day=1)
    while first <= until:
        last = _month_end(first)
        lo, hi = max(since, first), min(until, last)
        inside = hi.toordinal() - lo.toordinal() + 1
        outside = last.toordinal() - first.toordinal() + 1 - inside
        left_out = lo.toordinal() - first.toordinal()
        if hi < last:
            left_out += cost(date.fromordinal(hi.toordinal() + 1), last)
        if outside == 0 or left_out < inside:
            months.append(first)
            if lo > first:
                ranges.append((first, date.fromordinal(lo.toordinal() - 1), -1))
            if hi < last:
                ranges.append((date.fromordinal(hi.toordinal() + 1), last, -1))
        else:
            ranges.append((lo, hi, 1))
        first = date.fromordinal(last.toordinal() + 1)
    whole = set(months)
    # Months of the last month's year that lie after both the range and empty_after: a quarter
    # or year may take them in (and leave them out again as days, which nothing has).
    to_come: set[date] = set()
    if merge and empty_after is not None and months and months[-1].month < 12:
        m = date(months[-1].year, months[-1].month + 1, 1)
        while m.year == months[-1].year:
            if m > until and m > empty_after:
                to_come.add(m)
            m = date.fromordinal(_month_end(m).toordinal() + 1)
    have = whole | to_come
    i = 0
    while i < len(months):
        m = months[i]
        year = [date(m.year, k, 1) for k in range(1, 13)]
        quarter = [date(m.year, m.month + k, 1) for k in range(3)] if m.month % 3 == 1 else []
        if merge and m.month == 1 and have.issuperset(year):
            periods.append(year_key(m))
            taken = year
        elif merge and quarter and have.issuperset(quarter):
            periods.append(quarter_key(m))
            taken = quarter
        else:
            periods.append(month_key(m))
            taken = [m]
        for k in taken:
            if k in to_come:
                ranges.append((k, _month_end(k), -1))
        i += sum(1 for k in taken if k in whole)
    return periods, _joined(ranges)


def _joined(ranges: list[tuple[date, date, int]]) -> list[tuple[date, date, int]]:
    """The ranges (in order), with one that starts the day after its predecessor of the same
    sign ends joined to it: fewer, longer reads."""
    out: list[tuple[date, date, int]] = []
    for first, last, sign in sorted(ranges):
        if out and out[-1][2] == sign and out[-1][1].toordinal() + 1 == first.toordinal():
            out[-1] = (out[-1][0], last, sign)
        else:
            out.append((first, last, sign))
    return out


# -- What a stage means for the KPIs -------------------------------------------------------------

INVOICE_FIELDS = frozenset({"invoice_no", "invoice_amount"})


def document_stages(stages: list[tuple[int, int, str, int, list]]) -> tuple[set[int], set[int]]:
    """(proposal stage ids, invoice stage ids) from (id, pipeline_id, kind, position,
    required_fields) of every stage.

    An invoice stage is an open stage that requires the invoice number or amount to enter; the
    proposal stage of a pipeline is the open stage right before its first invoice stage. A
    pipeline without an invoice stage has neither.
    """
    by_pipeline: dict[int, list] = defaultdict(list)
    for stage in stages:
        if stage[2] == OPEN:
            by_pipeline[stage[1]].append(stage)
    proposals, invoices = set(), set()
    for opens in by_pipeline.values():
        opens.sort(key=lambda s: (s[3], s[0]))
        first = None
        for i, stage in enumerate(opens):
            if INVOICE_FIELDS & set(stage[4] or ()):
                invoices.add(stage[0])
                if first is None:
                    first = i
        if first:
            proposals.add(opens[first - 1][0])
    return proposals, invoices
