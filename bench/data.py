"""The data alone: generate it (or, with ``BENCH_REUSE``, check and migrate the kept data) and
measure nothing. ``BENCH_REUSE=1 BENCH_SCENARIOS=data python -m bench`` prepares the SQLite file
and the kept PostgreSQL cluster ahead of the runs that measure them; bench/RESULTS.md and the
last figures in bench/out/ are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from .generate import Dataset

TARGETS: dict = {}
LABELS: dict = {}


def run(data: Dataset, requests: int, log: Callable[[str], None] = print) -> dict:
    log(f"  the data is ready: {data.deals:,} deals, {data.events:,} events")
    return {}
