"""Requests through Django's test client: real middleware, a real session, no network.

The tools every scenario (``bench.crud``, ``bench.control``, …) measures with, and the list of
scenarios. Each probe signs in (the login form for pages, a bearer token for the API), warms
up, then times ``BENCH_REQUESTS`` requests and reports p50/p95/p99 in milliseconds. One more
request of each probe runs under ``CaptureQueriesContext`` to count its queries and name the
slowest ones with their plans, so that a missed target says which query to look at.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from voronka.core.memory import freeze_loaded

from .generate import BENCH_PASSWORD

WARMUP = 20


@dataclass(frozen=True)
class Target:
    metric: str  # "p95" or "p99" of a request in ms, "seconds" of a job, or a "ratio"
    limit: float

    @property
    def unit(self) -> str:
        return {"seconds": "s", "ratio": ""}.get(self.metric, "ms")

    @property
    def text(self) -> str:
        return f"{self.metric} ≤ {self.limit:g} {self.unit}".rstrip()


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile, interpolated between the nearest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def signed_in(username: str) -> Client:
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": username, "password": BENCH_PASSWORD}
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {username} answered {response.status_code}")
    return client


def token_client(username: str) -> tuple[Client, dict]:
    from voronka.accounts.actions import do_create_token
    from voronka.accounts.models import User

    user = User.objects.get(username=username)
    _token, raw = do_create_token(None, user, name="bench")
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _explain(sql: str) -> str:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    try:
        with connection.cursor() as cur:
            cur.execute(prefix + sql)
            rows = cur.fetchall()
    except Exception as exc:  # a plan is a diagnosis; its absence must not stop the bench
        return f"(no plan: {exc})"
    if connection.vendor == "sqlite":
        return "\n".join(str(r[-1]) for r in rows)
    return "\n".join(r[0] for r in rows)


def _replay(sql: str) -> float:
    """Milliseconds to run a captured query again and fetch all its rows.

    The debug cursor times ``execute`` only; SQLite does much of a query's work while rows
    are fetched, so the captured times understate it. Replaying measures the whole query.
    """
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(sql)
        cur.fetchall()
    return (time.perf_counter() - started) * 1000


def _diagnose(client: Client, url: str, headers: dict) -> dict:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    queries = []
    for q in ctx.captured_queries:
        sql = q["sql"]
        if sql.lstrip().upper().startswith("SELECT"):
            try:
                ms = min(_replay(sql) for _ in range(3))
            except Exception:  # a query that does not replay is timed as captured
                ms = float(q["time"]) * 1000
        else:
            ms = float(q["time"]) * 1000
        queries.append((ms, sql))
    slowest = sorted(queries, reverse=True)[:3]
    return {
        "status": response.status_code,
        "queries": len(queries),
        "sql_ms": round(sum(ms for ms, _sql in queries), 1),
        "slowest": [{"ms": round(ms, 1), "sql": sql, "plan": _explain(sql)} for ms, sql in slowest],
    }


def probe(
    client: Client,
    url_for: Callable[[int], str],
    requests: int,
    headers: dict | None = None,
) -> dict:
    headers = headers or {}
    # As the server does once it has loaded the site (voronka.front): what is alive now (for
    # the bench, also the data it made or rebuilt) is left out of the collector's full passes.
    freeze_loaded()
    for i in range(WARMUP):
        response = client.get(url_for(i), **headers)
        if response.status_code != 200:
            return {
                "error": f"GET {url_for(i)} answered {response.status_code}",
                "url": url_for(0),
            }
    times, cpu = [], []
    for i in range(requests):
        url = url_for(WARMUP + i)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if response.status_code != 200:
            return {"error": f"GET {url} answered {response.status_code}", "url": url}
    diagnosis = _diagnose(client, url_for(0), headers)
    return {
        "url": url_for(0),
        "n": len(times),
        "p50": round(percentile(times, 50), 1),
        "p95": round(percentile(times, 95), 1),
        "p99": round(percentile(times, 99), 1),
        "max": round(max(times), 1),
        # CPU time of this process (Python, and SQLite's engine, which runs in-process):
        # unlike wall time, it does not grow when other work competes for the cores.
        "cpu_p50": round(percentile(cpu, 50), 1),
        **diagnosis,
    }


#: The scenarios ``BENCH_SCENARIOS`` chooses from, in the order they run: each is a module of
#: this package with ``TARGETS`` {kind: Target}, ``LABELS`` {kind: text} and
#: ``run(data, requests, log) -> {name: figures}``; figures name their ``kind`` and ``who``.
#: A request's figures come from ``probe``; a job's are {"seconds": …, "steps": {…}}.
SCENARIOS = ("crud", "control", "ingest", "analytics", "data")


def scenario(name: str):
    if name not in SCENARIOS:
        raise SystemExit(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    return importlib.import_module(f"bench.{name}")


def targets() -> dict[str, Target]:
    return {k: t for name in SCENARIOS for k, t in scenario(name).TARGETS.items()}


def labels() -> dict[str, str]:
    return {k: t for name in SCENARIOS for k, t in scenario(name).LABELS.items()}
