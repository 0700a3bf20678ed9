"""`make bench`: a million deals on SQLite and on PostgreSQL, and how fast the pages answer.

Environment:
  BENCH_DEALS      deals to generate (default 1,000,000; e.g. 100000 for a quicker run)
  BENCH_EVENTS     stage changes and communications together (default ten per deal)
  BENCH_SCENARIOS  which scenarios, comma-separated (default every measuring one: "crud,control,
                   ingest,analytics"); each is a module of bench/ (bench.measure.SCENARIOS), all
                   measuring the same data. "data" alone generates (or checks and migrates the
                   kept) data and measures nothing: run it ahead with BENCH_REUSE=1
  BENCH_REQUESTS   timed requests per probe (default 300, at least 200)
  BENCH_DATABASES  which databases, comma-separated (default "sqlite,postgres")
  BENCH_SEED       random seed of the generated data (default 1)
  BENCH_REPORT     1: run nothing; write RESULTS.md again from the figures the last runs of
                   the chosen databases left in bench/out/ (e.g. after running them one by one)
  BENCH_REUSE      1: measure the data an earlier run left instead of generating again: the
                   SQLite file bench/out/bench.sqlite3, and PostgreSQL's cluster kept in
                   bench/out/pg/ (data/, server.log, dataset.json). The first such run
                   generates it; later runs start the cluster, migrate to the current schema,
                   measure and stop it cleanly (also on a failure, Ctrl-C or SIGTERM). Data
                   generated with other BENCH_DEALS/BENCH_EVENTS/BENCH_SEED is refused, as is
                   data without its record (bench/out/data-sqlite.json, bench/out/pg/dataset.json,
                   written once a generation is complete): remove it to generate anew. One run
                   at a time uses the kept cluster (bench/out/pg.lock); a second one is refused.
                   Its server runs as the postgres user (``voronka.testing.pgcluster``).

Each database runs in its own process (``bench.scenario``) with ``DATABASE_URL`` set: a fresh
SQLite file under bench/out/, or a throwaway PostgreSQL cluster started for the run (the kept
one with BENCH_REUSE). This process prints the machine, the figures and PASS/MISS per target,
and writes bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"

sys.path.insert(0, str(ROOT / "src"))

from bench.measure import SCENARIOS, labels, targets  # noqa: E402

TARGETS = targets()
LABELS = labels()


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


class _Busy(Exception):
    """Another run holds the kept PostgreSQL cluster."""


def _lock_kept_cluster():
    """Hold bench/out/pg.lock while this run uses the kept cluster (released when the file
    closes, also when the process dies); raise _Busy if another run holds it."""
    import fcntl

    fh = open(OUT / "pg.lock", "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another run"
        fh.close()
        raise _Busy(holder) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}, since {datetime.now(UTC):%H:%M UTC}: {' '.join(sys.argv)}\n")
    fh.flush()
    return fh


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # so that the cluster is stopped on the way out


def _run_one(vendor: str, deals: int, requests: int, events: int, scenarios: list[str]) -> dict:
    OUT.mkdir(exist_ok=True)
    # An ingest-only run writes beside, never over, the page figures of the last full run.
    # So does a run that only prepares the data.
    only = "-ingest" if scenarios == ["ingest"] else "-data" if scenarios == ["data"] else ""
    result_file = OUT / f"result-{vendor}{only}.json"
    result_file.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voronka.settings",
        "VORONKA_VAR": str(OUT / "var"),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "LOG_LEVEL": "ERROR",
        "BENCH_DEALS": str(deals),
        "BENCH_REQUESTS": str(requests),
        "BENCH_EVENTS": str(events),
        "BENCH_SCENARIOS": ",".join(scenarios),
        "BENCH_RESULT": str(result_file),
        "BENCH_DATA_INFO": str(OUT / f"data-{vendor}.json"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    stop = lock = None
    reuse = bool(os.environ.get("BENCH_REUSE"))
    from bench.measure import scenario

    # A scenario that makes its own database (ingest) neither needs nor touches the generated one.
    needs_data = any(getattr(scenario(s), "NEEDS_DATA", True) for s in scenarios)
    if vendor == "sqlite":
        db = OUT / "bench.sqlite3"
        if not reuse and needs_data:
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
        env["BENCH_DATA_PLACE"] = str(db)
    else:
        from voronka.testing.pgcluster import start_cluster

        keep = None
        # The kept cluster holds the generated deals; a scenario that makes its own database
        # (ingest) runs beside a throwaway one as before.
        if reuse and needs_data:
            keep = OUT / "pg"
            try:
                lock = _lock_kept_cluster()
            except _Busy as busy:
                return {"vendor": vendor, "error": f"the kept cluster {keep} is in use ({busy})"}
            env["BENCH_DATA_INFO"] = str(keep / "dataset.json")
            env["BENCH_DATA_PLACE"] = f"the PostgreSQL cluster kept in {keep}"
            print(f"[postgresql] starting the cluster kept in {keep} …", flush=True)
        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            url, stop = start_cluster(keep=str(keep) if keep else None)
        except BaseException:
            signal.signal(signal.SIGTERM, previous)
            if lock is not None:
                lock.close()
            raise
        env["DATABASE_URL"] = url
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.scenario"], cwd=ROOT, env=env)
    finally:
        if stop is not None:
            if lock is not None:
                print(f"[postgresql] stopping the cluster kept in {OUT / 'pg'} …", flush=True)
            stop()
            signal.signal(signal.SIGTERM, previous)
        if lock is not None:
            lock.close()
    if proc.returncode != 0 or not result_file.exists():
        return {"vendor": vendor, "error": f"the {vendor} run failed (exit {proc.returncode})"}
    return json.loads(result_file.read_text(encoding="utf-8"))


def verdict(probe: dict) -> tuple[str, str]:
    """("PASS"/"MISS"/"—", the target as text) for one probe."""
    target = TARGETS[probe["kind"]]
    if "error" in probe:
        return "—", target.text
    return ("PASS" if probe[target.metric] <= target.limit else "MISS"), target.text


def _is_job(probe: dict) -> bool:
    return TARGETS[probe["kind"]].metric in ("seconds", "ratio")


def jobs_table(results: list[dict]) -> list[str]:
    """Background jobs: how long one run takes, and where the time goes."""
    lines = [
        "| database | job | seconds | steps, s | target | result |",
        "|---|---|---:|---|---|---|",
    ]
    for r in results:
        for probe in r.get("probes", {}).values():
            if not _is_job(probe):
                continue
            mark, target = verdict(probe)
            head = f"| {r['database']} | {LABELS[probe['kind']]} |"
            if "error" in probe:
                lines.append(f"{head} {probe['error']} | | {target} | {mark} |")
                continue
            steps = ", ".join(f"{k} {v}" for k, v in probe["steps"].items())
            found = f"; {probe['open']:,} open violations" if "open" in probe else ""
            if "cases" in probe:  # the DuckDB reference: ours / DuckDB's per funnel
                found += "; " + "; ".join(
                    f"{name}: ours {c['ours_ms']} ms / DuckDB {c['duckdb_ms']} ms = {c['ratio']}"
                    for name, c in probe["cases"].items()
                )
                found += f"; ratio (worst) {probe['ratio']}"
            lines.append(f"{head} {probe['seconds']} | {steps}{found} | {target} | {mark} |")
    return lines if len(lines) > 2 else []


def table(results: list[dict]) -> list[str]:
    lines = [
        "| database | probe | as | p50 ms | p95 ms | p99 ms | CPU p50 ms | SQL ms | queries "
        "| target | result |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['vendor']} | {r['error']} | | | | | | | | | |")
            continue
        for probe in r["probes"].values():
            if _is_job(probe):
                continue
            mark, target = verdict(probe)
            head = f"| {r['database']} | {LABELS[probe['kind']]} | {probe['who']} |"
            if "error" in probe:
                lines.append(f"{head} {probe['error']} | | | | | | {target} | {mark} |")
                continue
            lines.append(
                f"{head} {probe['p50']} | {probe['p95']} | {probe['p99']} | "
                f"{probe['cpu_p50']} | {probe['sql_ms']} | {probe['queries']} | {target} | {mark} |"
            )
    return lines


def _keep_ingest(r: dict, vendor: str) -> None:
    """Move the ingest scenario's figures out of a run's result into bench/out/ingest-<db>.json:
    it has its own database and its own section, and an ingest-only run must not replace the
    page figures of the last full run."""
    found = {k: p for k, p in r.get("probes", {}).items() if p.get("kind") == "ingest"}
    if not found:
        return
    for key in found:
        del r["probes"][key]
    keep = {
        "database": r["database"],
        "command": r.get("command"),
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **found["ingest"],
    }
    (OUT / f"ingest-{vendor}.json").write_text(
        json.dumps(keep, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def ingest_lines(vendors: list[str]) -> list[str]:
    """The ingest section: the last ingest figures of each database (bench/ingest.py)."""
    from bench.ingest import RATE_TARGET

    found = []
    for v in vendors:
        path = OUT / f"ingest-{v}.json"
        if path.exists():
            found.append(json.loads(path.read_text(encoding="utf-8")))
    if not found:
        return []
    limit = TARGETS["ingest"].limit
    lines = [
        "| database | server | events/s | p50 ms | p95 ms | p99 ms | CPU ms per event: web, "
        "database, senders, worker | machine busy, load average | target | result |",
        "|---|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    for f in found:
        cpu = f["cpu_ms_per_event"]
        server = f["server"]
        passed = f["events_s"] >= RATE_TARGET and f["p99"] <= limit
        mark = "PASS" if passed else ("MISS" if "postgres" in f["database"].lower() else "—")
        lines.append(
            f"| {f['database']} ({f['durable_db']}) | {server['workers']} × "
            f"{server['worker_class']} {server['threads']} threads | {f['events_s']:,} | "
            f"{f['p50']} | {f['p95']} | {f['p99']} | {cpu.get('web')}, "
            f"{cpu.get('database', '(in web)')}, {cpu.get('senders')}, {cpu.get('worker')} | "
            f"{f['machine_busy']}%, {f['load'][0]} → {f['load'][1]} | "
            f"≥ {RATE_TARGET:,} events/s, p99 ≤ {limit:g} ms | {mark} |"
        )
    lines.append("")
    for f in found:
        cpu = f["cpu_ms_per_event"]
        server_ms = cpu.get("web", 0) + cpu.get("database", 0)
        if server_ms:
            capacity = 1000 * (os.cpu_count() or 1) / server_ms
            lines.append(
                f"- {f['database']}: {f['n']:,} events acknowledged in {f['seconds']:g} s. "
                f"Each took {server_ms:.2f} ms of server CPU (web {cpu.get('web')} + database "
                f"{cpu.get('database', 0)}); at that cost the machine's {os.cpu_count()} cores, "
                f"wholly ours, would acknowledge about {capacity:,.0f} events/s (an estimate; "
                f"the senders' {cpu.get('senders')} ms and the worker left out)."
            )
    lines += [
        "",
        "| database | processing after the run | backlog left to the worker |",
        "|---|---|---|",
    ]
    for f in found:
        per = f.get("worker_cpu_ms_per_event")
        lines.append(
            f"| {f['database']} | {f['processed_s']} events/s"
            + (f" ({per} ms of worker CPU each)" if per else "")
            + f" | {f['backlog']:,} events when the senders stopped |"
        )
    lines += [
        "",
        "| database | acknowledged | lost | stored twice | on the timeline twice | "
        "unprocessed after the drain | sent again by the senders | drain s | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for f in found:
        d = f["durability"]
        ok = d["lost"] == 0 and d["stored_twice"] == 0 and d["communications_twice"] == 0
        lines.append(
            f"| {f['database']} | {d['acked']:,} | {d['lost']} | {d['stored_twice']} | "
            f"{d['communications_twice']} | {d['unprocessed']} | {d['redelivered']:,} | "
            f"{d['processing_drain_s']} | {'PASS' if ok else 'MISS'} |"
        )
    lines.append("")
    lines += [
        f"- {f['database']}: `{f.get('command')}` on {f.get('when')}; answers "
        f"{f['statuses']}; durability run answers {f['durability']['statuses']}"
        for f in found
    ]
    return lines


def data_lines(results: list[dict]) -> list[str]:
    lines = []
    for r in results:
        if "error" in r:
            continue
        steps = ", ".join(f"{k} {v} s" for k, v in r["generate_steps_s"].items())
        if r.get("generate_s") is None:
            made = "generated by an earlier run (BENCH_REUSE), its time not recorded"
        else:
            made = f"generate {r['generate_s']} s" + (f" ({steps})" if steps else "")
            if r.get("reused"):
                made = "generated by an earlier run (BENCH_REUSE): " + made
        seed = f" (seed {r['seed']})" if r.get("seed") is not None else ""
        lines.append(
            f"- {r['database']}: {r['deals']:,} deals ({r.get('open_deals', 0):,} open), "
            f"{r.get('events', 0):,} events ({r['stage_changes']:,} stage changes, "
            f"{r.get('communications', 0):,} communications), {r['tasks']:,} tasks, "
            f"{r.get('snoozes', 0):,} snoozes, {r['companies']:,} companies, "
            f"{r['managers']} managers{seed}; "
            f"migrate {r['migrate_s']} s, {made}; "
            f"{r['requests']} timed requests per probe; scenarios "
            f"{', '.join(r.get('scenarios', ['crud']))}; load average "
            f"{r['load'][0]} → {r['load'][1]} during the measurements"
        )
    return lines


def slow_queries(results: list[dict]) -> list[str]:
    """For every missed target: where one request's time goes, and its slowest queries."""
    lines = []
    for r in results:
        for probe in r.get("probes", {}).values():
            if verdict(probe)[0] != "MISS" or _is_job(probe):
                continue
            lines.append(f"### {r['database']}: {LABELS[probe['kind']]} as {probe['who']}")
            lines.append("")
            lines.append(
                f"`GET {probe['url']}`: {probe['queries']} queries taking {probe['sql_ms']} ms "
                f"together, in a request whose median is {probe['p50']} ms "
                f"({probe['cpu_p50']} ms of CPU in this process)."
            )
            slow = [q for q in probe["slowest"] if q["ms"] >= 1]
            if not slow:
                lines.append("No query takes a millisecond: the time is spent in Python.")
            elif probe["sql_ms"] < probe["cpu_p50"] / 2:
                lines.append("Most of the time is spent in Python, not in SQL.")
            for q in slow:
                lines.append(f"- {q['ms']} ms:")
                lines.append("  ```sql")
                lines.append("  " + q["sql"][:2000])
                lines.append("  ```")
                lines.append("  ```")
                lines.extend("  " + pl for pl in q["plan"].splitlines())
                lines.append("  ```")
            lines.append("")
    return lines


def main() -> int:
    deals = int(os.environ.get("BENCH_DEALS", "1000000"))
    requests = max(200, int(os.environ.get("BENCH_REQUESTS", "300")))
    vendors = [v.strip() for v in os.environ.get("BENCH_DATABASES", "sqlite,postgres").split(",")]
    events = int(os.environ.get("BENCH_EVENTS") or 10 * deals)
    # Every scenario that measures; "data" only prepares the data and is chosen by name.
    measuring = [s for s in SCENARIOS if s != "data"]
    chosen = os.environ.get("BENCH_SCENARIOS") or ",".join(measuring)
    scenarios = [s.strip() for s in chosen.split(",") if s.strip()]
    for name in scenarios:
        if name not in SCENARIOS:
            print(f"Unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
            return 2
    info = machine()
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}, "
        f"Python {info['python']}, SQLite {info['sqlite']}",
        flush=True,
    )
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) * 0.5:
        print(
            f"Note: load average {load:.1f} on {info['cores']} cores; other work competes for the "
            "CPU and the wall-clock figures will be inflated (compare the CPU column).",
            flush=True,
        )
    command = "make bench" if deals == 1_000_000 else f"BENCH_DEALS={deals} make bench"
    if events != 10 * deals:
        command = f"BENCH_EVENTS={events} " + command
    if set(vendors) != {"sqlite", "postgres"}:
        command = f"BENCH_DATABASES={','.join(vendors)} " + command
    if os.environ.get("BENCH_REUSE"):
        command = "BENCH_REUSE=1 " + command
    if scenarios != measuring:
        command = f"BENCH_SCENARIOS={','.join(scenarios)} " + command
    if scenarios == ["ingest"]:
        run = not os.environ.get("BENCH_REPORT")
        return ingest_only(vendors, requests, deals, events, command, run=run)
    if scenarios == ["data"]:
        failed = [
            r["error"]
            for r in (_run_one(v, deals, requests, events, scenarios) for v in vendors)
            if "error" in r
        ]
        for error in failed:
            print(error)
        return 1 if failed else 0
    if os.environ.get("BENCH_REPORT"):
        results = []
        for v in vendors:
            path = OUT / f"result-{v}.json"
            if path.exists():
                results.append(json.loads(path.read_text(encoding="utf-8")))
            else:
                results.append({"vendor": v, "error": f"no figures of {v} in {OUT}"})
    else:
        results = []
        for v in vendors:
            r = _run_one(v, deals, requests, events, scenarios)
            if "error" not in r:
                # Which command produced these figures, for a report written from them later.
                r["command"] = command
                _keep_ingest(r, v)
                path = OUT / f"result-{v}.json"
                path.write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")
            results.append(r)
    versions = ", ".join(r["database"] for r in results if "database" in r)
    print()
    print(f"Databases: {versions}")
    for line in data_lines(results):
        print(line)
    print()
    for line in table(results):
        print(line)
    jobs = jobs_table(results)
    if jobs:
        print()
        for line in jobs:
            print(line)
    slow = slow_queries(results)
    if slow:
        print()
        print("Slowest queries behind the missed targets:")
        for line in slow:
            print(line)

    commands = {r["command"] for r in results if "command" in r}
    if os.environ.get("BENCH_REPORT") and commands:
        command = "; ".join(
            f"`{r['command']}` ({r['database']})" for r in results if "command" in r
        )
        produced = f"Produced by {command}, reported with `BENCH_REPORT=1 make bench`"
    else:
        produced = f"Produced by `{command}`"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = [
        "# Benchmark results",
        "",
        f"{produced} on {when}.",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores; RAM {info['ram']}; {info['os']}",
        f"- Python {info['python']}; {versions}",
        "",
        "## Data",
        "",
        "One workspace: a head, an owner, 5 seniors each leading a team of 10 managers, two "
        "pipelines, deals walking the funnel over two years with their stage history (won, lost "
        "with a reason from the head's list, open at every stage, an eighth of the stays far "
        "longer than normal: rotting deals), amounts, invoices for the deals that reached the "
        "invoice stage; communications in every stay (calls in and out, some missed, messages, "
        "emails, meetings with durations, notes; 8% without a comment, 4% with a word only), a "
        "done task for half the finished stays, a next task for 85% of the open deals (a "
        "quarter of them overdue, some far ahead), a snooze on 3% of them. Events are stage "
        "changes and communications together (`bench/generate.py`). SQLite is measured without "
        "ANALYZE (an installation never runs it); PostgreSQL after VACUUM ANALYZE (as "
        "autovacuum leaves it).",
        "",
        *data_lines(results),
        "",
        "## Figures",
        "",
        "In-process requests through Django's test client (all middleware, a signed-in session "
        "or a bearer token, templates rendered; no network). The head sees the whole "
        "workspace; the manager only their own deals. p50/p95/p99 are wall-clock times; "
        "CPU p50 is this process's CPU time per request (Python, plus SQLite's engine, which "
        "runs in-process; PostgreSQL's work is in its own processes); queries are counted in one "
        "more request under CaptureQueriesContext, and SQL ms is the time its SELECTs take "
        "when run again on their own with all rows fetched (best of three).",
        "",
        *table(results),
        "",
    ]
    if jobs:
        doc += [
            "## Jobs",
            "",
            "A background job run once, timed from its start to its end in this process "
            "(the database's work included). The nightly evaluation is "
            "`voronka.control.jobs.evaluate_rules_nightly` as the worker runs it (every rule, "
            "communications a month back, then the day's snapshot); its steps come from the "
            "outcome it logs (`bench/control.py`).",
            "",
            *jobs,
            "",
        ]
    ingest = ingest_section(vendors)
    if ingest:
        print()
        for line in ingest:
            print(line)
        doc += ingest
    if slow:
        doc += ["## Slowest queries behind the missed targets", "", *slow, ""]
    print()
    if any("error" in r for r in results):
        # A failed run must not replace the figures RESULTS.md holds; those of the databases
        # that did run are in bench/out/result-<db>.json for BENCH_REPORT=1.
        print(f"A run failed: {HERE / 'RESULTS.md'} is left as it was")
        return 1
    (HERE / "RESULTS.md").write_text("\n".join(doc), encoding="utf-8")
    print(f"Written to {HERE / 'RESULTS.md'}")
    return 0


INGEST_HEADING = "## Ingest (issue 4)"


def ingest_section(vendors: list[str]) -> list[str]:
    lines = ingest_lines(vendors)
    if not lines:
        return []
    return [
        INGEST_HEADING,
        "",
        "`BENCH_SCENARIOS=ingest make bench` (`bench/ingest.py`; its own fresh database, not "
        "the generated deals): the real server, uvicorn running `voronka.front` (deliveries "
        "taken in on its event loop, the site in Django's WSGI application on threads) with "
        "the production settings, beside the background worker, as `voronka serve` starts "
        "them; 32 "
        "senders in a process of their own (asyncio, HTTP/1.1 keep-alive, every body signed "
        "with the generic PBX channel's HMAC before the clock starts) each post one call "
        "event at a time and wait for its answer. Events/s are those acknowledged (2xx) "
        "within the timed window after a warm-up; latency is per request as the sender sees "
        "it. CPU per event is each side's CPU time over the window divided by the events: "
        "the web server (all uvicorn processes), PostgreSQL (all its processes; SQLite "
        "works inside the web server), the senders, the worker. A busy server answers once "
        "the event is stored (group commit: one INSERT and one commit for every delivery "
        "queued meanwhile) and the worker processes it "
        "(matching, contact, deal, task, rules, rollups); its pace is watched after the "
        "senders stop, and the rest of that backlog is dropped before the durability run. "
        "Durability: the same senders, the server and the worker killed with SIGKILL "
        "halfway and restarted a second later, every unacknowledged event sent again until "
        "acknowledged; then the database is counted once the worker has processed "
        "everything (or the drain time is up). The load average is the machine's: at a load "
        "far above its cores the figures measure the competition for the CPU as much as the "
        "ingest path.",
        "",
        *lines,
        "",
    ]


def ingest_only(
    vendors: list[str], requests: int, deals: int, events: int, command: str, *, run: bool
) -> int:
    """``BENCH_SCENARIOS=ingest``: run it on each database (with ``BENCH_REPORT``, only report
    its last figures) and put its section into the existing RESULTS.md, leaving the other
    sections as the last full run wrote them."""
    failed = False
    for v in vendors if run else []:
        r = _run_one(v, deals, requests, events, ["ingest"])
        if "error" in r:
            print(r["error"])
            failed = True
            continue
        r["command"] = command
        _keep_ingest(r, v)
    # Every database's last ingest figures, whichever this run measured.
    section = ingest_section(["sqlite", "postgres"])
    print()
    print("\n".join(section))
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    lines = text.rstrip("\n").split("\n")
    if INGEST_HEADING in lines:  # replace the earlier ingest section, up to the next heading
        start = lines.index(INGEST_HEADING)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        lines[start:end] = section
    else:
        slowest = "## Slowest queries behind the missed targets"
        at = lines.index(slowest) if slowest in lines else len(lines)
        if at == len(lines):
            lines.append("")
        lines[at:at] = section
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    print(f"Ingest section written to {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
