"""Today's violations by manager and kind, and their trend over the last days.

Read only from the open ``Violation`` rows (one grouped read of an index) and from
``DailySnapshot``: the control screen and the digests never scan deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Sum

from .kinds import KINDS
from .models import DailySnapshot, Violation

TREND_DAYS = 30


def open_counts(workspace_id: int, manager_ids=None) -> dict[tuple[int, str], int]:
    """{(manager id, kind): open violations}; ``manager_ids`` None means everyone."""
    qs = Violation.objects.filter(workspace_id=workspace_id, resolved_at__isnull=True)
    if manager_ids is not None:
        qs = qs.filter(manager_id__in=manager_ids)
    # COUNT(*), not COUNT(id): PostgreSQL then answers from the (workspace, resolved, manager,
    # kind) index alone, however many resolved rows the table has gathered.
    rows = qs.values_list("manager_id", "kind").annotate(n=Count("*")).order_by()
    return {(m, k): n for m, k, n in rows}


@dataclass
class MatrixRow:
    person: object
    cells: list[tuple[str, int]]  # (kind, count) in the order of KINDS
    total: int


@dataclass
class Matrix:
    rows: list[MatrixRow] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    total: int = 0

    def by_kind(self) -> dict[str, int]:
        return dict(zip(KINDS, self.totals, strict=True))

    @property
    def total_cells(self) -> list[tuple[str, int]]:
        return list(zip(KINDS, self.totals, strict=True))


def matrix(counts: dict[tuple[int, str], int], people) -> Matrix:
    """Managers × kinds with the counts; everyone in ``people`` has a row, zeros included.

    The people with the most violations come first.
    """
    out = Matrix(totals=[0] * len(KINDS))
    for person in people:
        cells = [(k.value, counts.get((person.id, k), 0)) for k in KINDS]
        out.rows.append(MatrixRow(person, cells, sum(n for _k, n in cells)))
    out.rows.sort(key=lambda r: (-r.total, str(r.person).lower(), r.person.id))
    for (_manager, kind), n in counts.items():
        if kind in KINDS:
            out.totals[KINDS.index(kind)] += n
    out.total = sum(out.totals)
    return out


@dataclass
class Trend:
    days: list[date]
    series: dict[str, list[int]]

    def rows(self):
        """(day, [count per kind], total), newest first, for the table beside the chart."""
        out = []
        for i in range(len(self.days) - 1, -1, -1):
            cells = [self.series[k][i] for k in KINDS]
            out.append((self.days[i], cells, sum(cells)))
        return out

    def yesterday(self) -> dict[str, int]:
        if len(self.days) < 2:
            return dict.fromkeys(KINDS, 0)
        return {k: self.series[k][-2] for k in KINDS}


def trend(
    workspace_id: int,
    today: date,
    live: dict[str, int],
    manager_ids=None,
    days: int = TREND_DAYS,
) -> Trend:
    """Open violations per kind at the end of each of the last ``days`` days; today is live."""
    first = today - timedelta(days=days - 1)
    qs = DailySnapshot.objects.filter(workspace_id=workspace_id, day__gte=first, day__lt=today)
    if manager_ids is not None:
        qs = qs.filter(manager_id__in=manager_ids)
    stored = {
        (d, k): n for d, k, n in qs.values_list("day", "kind").annotate(n=Sum("count")).order_by()
    }
    day_list = [first + timedelta(days=i) for i in range(days)]
    series = {k: [stored.get((d, k), 0) for d in day_list[:-1]] + [live.get(k, 0)] for k in KINDS}
    return Trend(day_list, series)
