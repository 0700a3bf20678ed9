"""Requests through Django's test client: real middleware, a real session, no network.

Each probe signs in (the login form for pages, a bearer token for the API), warms up, then
times ``BENCH_REQUESTS`` requests and reports p50/p95/p99 in milliseconds. One more request
of each probe runs under ``CaptureQueriesContext`` to count its queries and name the slowest
ones with their plans, so that a missed target says which query to look at.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .generate import BENCH_PASSWORD, Dataset

WARMUP = 20


@dataclass(frozen=True)
class Target:
    metric: str  # "p95" or "p99"
    limit_ms: float


TARGETS = {
    "list": Target("p95", 150),
    "board": Target("p95", 300),
    "api_deal": Target("p99", 50),
}


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile, interpolated between the nearest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _signed_in(username: str) -> Client:
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": username, "password": BENCH_PASSWORD}
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {username} answered {response.status_code}")
    return client


def _token_client(username: str) -> tuple[Client, dict]:
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


def _probe(
    name: str,
    client: Client,
    url_for: Callable[[int], str],
    requests: int,
    headers: dict | None = None,
) -> dict:
    headers = headers or {}
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


def measure(data: Dataset, requests: int, log: Callable[[str], None] = print) -> dict:
    """Run every probe; the answer maps probe names to their figures."""
    from voronka.sales.models import Deal

    rng = random.Random(7)
    inbound = data.pipelines[0]
    stages = data.open_stages[inbound]
    managers = data.managers
    manager = managers[0]
    manager_id = data.manager_ids[manager]

    def list_as_head(i: int) -> str:
        owner = data.manager_ids[managers[i % len(managers)]]
        stage = stages[(i // len(managers)) % len(stages)]
        return f"/deals/?owner={owner}&stage={stage}&sort=-stage_date"

    def list_as_manager(i: int) -> str:
        stage = stages[i % len(stages)]
        return f"/deals/?owner={manager_id}&stage={stage}&sort=-stage_date"

    def board(i: int) -> str:
        return f"/board/?pipeline={inbound}"

    max_id = Deal.objects.filter(workspace_id=data.workspace_id).aggregate(m=Max("id"))["m"]
    head_ids = [rng.randint(1, max_id) for _ in range(requests + WARMUP)]
    own_ids = list(
        Deal.objects.filter(workspace_id=data.workspace_id, owner_id=manager_id)
        .order_by("?")
        .values_list("id", flat=True)[: requests + WARMUP]
    )

    results = {}
    head_client = _signed_in(data.head)
    manager_client = _signed_in(manager)
    head_api, head_headers = _token_client(data.head)
    manager_api, manager_headers = _token_client(manager)
    probes = [
        ("list", "head", head_client, list_as_head, None),
        ("list", "manager", manager_client, list_as_manager, None),
        ("board", "head", head_client, board, None),
        ("board", "manager", manager_client, board, None),
        (
            "api_deal",
            "head",
            head_api,
            lambda i: f"/api/v1/deals/{head_ids[i % len(head_ids)]}",
            head_headers,
        ),
        (
            "api_deal",
            "manager",
            manager_api,
            lambda i: f"/api/v1/deals/{own_ids[i % len(own_ids)]}",
            manager_headers,
        ),
    ]
    for kind, who, client, url_for, headers in probes:
        name = f"{kind}:{who}"
        log(f"  measuring {name} ({requests} requests) …")
        result = _probe(name, client, url_for, requests, headers)
        result["kind"] = kind
        result["who"] = who
        results[name] = result
    return results
