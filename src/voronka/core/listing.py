"""One page of a long list, without counting the whole table.

The count is exact up to a cap and reported as "cap+" above it: nobody reads "1 000 347"
exactly, and counting millions of rows on every page view is what makes lists slow.
"""

from __future__ import annotations

from dataclasses import dataclass

PER_PAGE = 50
COUNT_CAP = 10_000


@dataclass(frozen=True)
class ListPage:
    rows: list
    number: int
    per_page: int
    count: int  # exact when not ``capped``; otherwise the cap
    capped: bool
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1 if self.rows else 0

    @property
    def num_pages(self) -> int | None:
        """The number of pages, or None when the count is capped."""
        if self.capped:
            return None
        return max(1, -(-self.count // self.per_page))


def capped_count(qs, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """The number of rows up to ``cap``, and whether there are more."""
    n = qs.order_by()[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def paginate(qs, page: str | int | None, *, per_page: int = PER_PAGE, cap: int = COUNT_CAP):
    """The rows of page ``page`` (1-based; a bad value means the first) of an ordered queryset."""
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    count, capped = capped_count(qs, cap)
    if not capped:
        last = max(1, -(-count // per_page))
        number = min(number, last)
    offset = (number - 1) * per_page
    rows = list(qs[offset : offset + per_page + 1])
    has_next = len(rows) > per_page
    return ListPage(rows[:per_page], number, per_page, count, capped, has_next)
