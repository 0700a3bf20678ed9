"""`make bench`: a million deals on SQLite and on PostgreSQL, and how fast the pages answer.

Environment:
  BENCH_DEALS      deals to generate (default 1,000,000; e.g. 100000 for a quicker run)
  BENCH_EVENTS     stage changes and communications together (default ten per deal)
  BENCH_SCENARIOS  which scenarios, comma-separated (default all: "crud,control"); each is a
                   module of bench/ (see bench.measure.SCENARIOS), all measuring the same data
  BENCH_REQUESTS   timed requests per probe (default 300, at least 200)
  BENCH_DATABASES  which databases, comma-separated (default "sqlite,postgres")
  BENCH_SEED       random seed of the generated data (default 1)
  BENCH_REPORT     1: run nothing; write RESULTS.md again from the figures the last runs of
                   the chosen databases left in bench/out/ (e.g. after running them one by one)
  BENCH_REUSE      1: measure the SQLite file an earlier run left in bench/out/ instead of
                   generating again (PostgreSQL's throwaway cluster is always generated)

Each database runs in its own process (``bench.scenario``) with ``DATABASE_URL`` set: a fresh
SQLite file under bench/out/, or a throwaway PostgreSQL cluster started for the run. This
process prints the machine, the figures and PASS/MISS per target, and writes bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
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


def _run_one(vendor: str, deals: int, requests: int, events: int, scenarios: list[str]) -> dict:
    OUT.mkdir(exist_ok=True)
    result_file = OUT / f"result-{vendor}.json"
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
    stop = None
    if vendor == "sqlite":
        db = OUT / "bench.sqlite3"
        if not os.environ.get("BENCH_REUSE"):
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    else:
        from voronka.testing.pgcluster import start_cluster

        url, stop = start_cluster()
        env["DATABASE_URL"] = url
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.scenario"], cwd=ROOT, env=env)
    finally:
        if stop is not None:
            stop()
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
    return TARGETS[probe["kind"]].metric == "seconds"


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
        lines.append(
            f"- {r['database']}: {r['deals']:,} deals ({r.get('open_deals', 0):,} open), "
            f"{r.get('events', 0):,} events ({r['stage_changes']:,} stage changes, "
            f"{r.get('communications', 0):,} communications), {r['tasks']:,} tasks, "
            f"{r.get('snoozes', 0):,} snoozes, {r['companies']:,} companies, "
            f"{r['managers']} managers; "
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
    chosen = os.environ.get("BENCH_SCENARIOS") or ",".join(SCENARIOS)
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
    if scenarios != list(SCENARIOS):
        command = f"BENCH_SCENARIOS={','.join(scenarios)} " + command
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
    if slow:
        doc += ["## Slowest queries behind the missed targets", "", *slow, ""]
    (HERE / "RESULTS.md").write_text("\n".join(doc), encoding="utf-8")
    print()
    print(f"Written to {HERE / 'RESULTS.md'}")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
