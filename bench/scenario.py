"""One database's run: migrate, generate, measure, write the figures as JSON.

``python -m bench`` starts this once per database as its own process, with ``DATABASE_URL``
pointing at a fresh SQLite file or a throwaway PostgreSQL cluster, so that Django is set up
for exactly one database per process. The shared data is generated once; then each scenario
``BENCH_SCENARIOS`` names (``bench.measure.SCENARIOS``) measures it in turn.

With ``BENCH_REUSE`` the database may hold the data of an earlier run (the SQLite file, the
kept PostgreSQL cluster): it is migrated to the current schema and measured again. A
generation records what it was generated with (deals, events, seed) in ``BENCH_DATA_INFO``
once it has finished; data generated with other figures than this run asks for, or without
such a record (an interrupted generation), is refused rather than measured.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def _log(message: str) -> None:
    print(message, flush=True)


def _database_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            return "PostgreSQL " + cur.fetchone()[0].split()[0]
        cur.execute("SELECT sqlite_version()")
        return "SQLite " + cur.fetchone()[0]


def _refusal(info: dict, wanted: dict, data) -> str | None:
    """Why the data an earlier run left must not be measured as this run's, or None."""
    if not info:
        return (
            "it holds a generated workspace but no record of how it was generated "
            "(an interrupted generation?)"
        )
    names = {"deals": "BENCH_DEALS", "events": "BENCH_EVENTS", "seed": "BENCH_SEED"}
    if "deals" in info:
        differ = [k for k in names if info.get(k) != wanted[k]]
        if differ:
            was = ", ".join(f"{names[k]}={info.get(k)}" for k in differ)
            now = ", ".join(f"{names[k]}={wanted[k]}" for k in differ)
            return f"it was generated with {was}; this run asks for {now}"
        if data.deals != info["deals"]:
            return f"it holds {data.deals:,} deals, not the {info['deals']:,} it was generated with"
        return None
    # A record from before the figures were written in it: judge by what the database holds.
    if data.deals != wanted["deals"]:
        return f"it holds {data.deals:,} deals; this run asks for {wanted['deals']:,}"
    if abs(data.events - wanted["events"]) > 0.01 * wanted["events"]:
        return f"it holds {data.events:,} events; this run asks for {wanted['events']:,}"
    return None


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voronka.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from .generate import existing, generate
    from .measure import scenario

    deals = int(os.environ["BENCH_DEALS"])
    events = int(os.environ.get("BENCH_EVENTS") or 10 * deals)
    scenarios = [s for s in os.environ["BENCH_SCENARIOS"].split(",") if s]
    requests = int(os.environ["BENCH_REQUESTS"])
    out = os.environ["BENCH_RESULT"]
    seed = int(os.environ.get("BENCH_SEED", "1"))
    label = connection.vendor
    # A scenario with NEEDS_DATA = False (ingest) makes its own database: nothing to generate.
    needs_data = any(getattr(scenario(s), "NEEDS_DATA", True) for s in scenarios)
    t0 = time.monotonic()
    if needs_data:
        _log(f"[{label}] migrating …")
        call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.monotonic() - t0
    data = existing() if os.environ.get("BENCH_REUSE") else None
    reused = data is not None
    saved = Path(os.environ.get("BENCH_DATA_INFO", os.devnull))
    info = {}
    if data is not None:
        info = json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else {}
        refusal = _refusal(info, {"deals": deals, "events": events, "seed": seed}, data)
        if refusal:
            place = os.environ.get("BENCH_DATA_PLACE", "the database")
            _log(
                f"[{label}] not reusing {place}: {refusal}. Run with the figures it was "
                "generated with, or remove it (or run without BENCH_REUSE) to generate anew."
            )
            return 3
        if "seed" not in info:
            _log(f"[{label}] note: the data's record does not say its seed (from an older run)")
    if data is None and not needs_data:
        from .generate import Dataset

        data = Dataset(0, "", "", [], {}, [], {})
        generate_s = None
        _log(f"[{label}] no generated data needed; measuring …")
    elif data is not None:
        # An earlier run's data, kept: its generation's timings come from beside the database.
        data.timings = info.get("steps", {})
        generate_s = info.get("seconds")
        _log(f"[{label}] reusing the data of an earlier run ({data.deals:,} deals); measuring …")
    else:
        _log(f"[{label}] generating {deals:,} deals and {events:,} events …")
        record = saved.parent.is_dir() and str(saved) != os.devnull
        if record:  # an earlier data set's record goes now; this one's once it is complete
            saved.unlink(missing_ok=True)
        t0 = time.monotonic()
        data = generate(deals, events=events, seed=seed, log=_log)
        generate_s = time.monotonic() - t0
        if record:
            saved.write_text(
                json.dumps(
                    {
                        "deals": deals,
                        "events": events,
                        "seed": seed,
                        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                        "seconds": round(generate_s, 1),
                        "steps": {k: round(v, 1) for k, v in data.timings.items()},
                    }
                ),
                encoding="utf-8",
            )
        _log(f"[{label}] generated in {generate_s:.0f} s; measuring …")
    load_before = os.getloadavg()[0]
    probes = {}
    for name in scenarios:
        _log(f"[{label}] scenario {name}")
        for key, figures in scenario(name).run(data, requests, log=_log).items():
            probes[key] = {**figures, "scenario": name}
    load_after = os.getloadavg()[0]
    result = {
        "database": _database_version(),
        "vendor": label,
        "deals": data.deals,
        "open_deals": data.open_deals,
        "stage_changes": data.stage_changes,
        "communications": data.communications,
        "events": data.events,
        "tasks": data.tasks,
        "snoozes": data.snoozes,
        "companies": data.companies,
        "managers": len(data.managers),
        "migrate_s": round(migrate_s, 1),
        "generate_s": None if generate_s is None else round(generate_s, 1),
        "generate_steps_s": {k: round(v, 1) for k, v in data.timings.items()},
        "reused": reused,
        "seed": info.get("seed") if reused else seed,
        "requests": requests,
        "scenarios": scenarios,
        "load": [round(load_before, 1), round(load_after, 1)],
        "probes": probes,
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False, indent=1)
    _log(f"[{label}] done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
