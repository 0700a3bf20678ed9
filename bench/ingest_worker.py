"""The worker's side of the ingest alone: the CPU it takes to put one stored event on the timeline.

``python -m bench.ingest_worker [EVENTS] [sqlite|postgres] [--profile FILE]``

Makes a fresh database (a SQLite file under bench/out/, or a throwaway PostgreSQL cluster with
fsync and synchronous_commit on), a workspace (``build_org``) with a Telegram bot, a WhatsApp
number and a generic PBX, and stores EVENTS events (default 3000) as the webhook does under
load (``ingest.store``, each body parsed by its provider from the provider's own format): a
third Telegram messages, a third WhatsApp messages, a third calls, from ``CLIENTS`` clients per
channel, so that most events add to a conversation that exists and some make a new contact and
deal. Then the worker's ``process_pending`` drains them; printed: the worker's CPU ms per
event (this process), the database server's CPU ms per event (PostgreSQL), events/s, and that
every event was processed once. ``--profile FILE`` writes cProfile's statistics of the drain.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"

#: Distinct clients per channel: the first event of each makes a contact, a deal and a task.
CLIENTS = 200


def _bodies(n: int):
    """(channel kind, body) for ``n`` events in the providers' formats, interleaved."""
    stamp = int(time.time()) - 60
    for i in range(n):
        client = (i * 7919) % CLIENTS
        kind = ("telegram", "whatsapp", "generic_pbx")[i % 3]
        if kind == "telegram":
            person = {"id": 500_000 + client, "first_name": "Ирина", "username": f"client{client}"}
            body = {
                "update_id": 1_000_000 + i,
                "message": {
                    "message_id": i,
                    "from": {**person, "is_bot": False, "language_code": "ru"},
                    "chat": {**person, "type": "private"},
                    "date": stamp,
                    "text": f"Здравствуйте, сколько стоит доставка? ({i})",
                },
            }
        elif kind == "whatsapp":
            wa_id = f"7926{2000000 + client:07d}"
            value = {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "74951112233", "phone_number_id": "1065"},
                "contacts": [{"profile": {"name": "Олег Смирнов"}, "wa_id": wa_id}],
                "messages": [
                    {
                        "from": wa_id,
                        "id": f"wamid.bench{i}",
                        "timestamp": str(stamp),
                        "type": "text",
                        "text": {"body": f"Добрый день, счёт получил ({i})"},
                    }
                ],
            }
            body = {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1022", "changes": [{"value": value, "field": "messages"}]}],
            }
        else:
            body = {
                "event_id": f"call-{i}",
                "call_id": f"call-{i}",
                "direction": "in",
                "from": f"+7916{3000000 + client:07d}",
                "to": "+74951112233",
                "started_at": "2026-03-03T10:15:00+03:00",
                "duration": 30 + i % 300,
                "outcome": "answered" if i % 4 else "missed",
            }
        yield kind, json.dumps(body).encode()


def _db_cpu(pids) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) in pids or int(fields[1]) in pids:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _postmaster(url: str) -> set[int]:
    port = url.rsplit(":", 1)[1].split("/")[0]
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"postgres") and f"-p {port}".encode() in b" ".join(cmd):
                found.add(int(entry))
    return found


def main(argv: list[str]) -> None:
    profile = None
    if "--profile" in argv:
        at = argv.index("--profile")
        profile = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    n = int(argv[0]) if argv else 3000
    vendor = argv[1] if len(argv) > 1 else "sqlite"
    sys.path.insert(0, str(ROOT / "src"))
    stop_db = None
    OUT.mkdir(exist_ok=True)
    if vendor == "postgres":
        from voronka.testing.pgcluster import start_cluster

        url, stop_db = start_cluster(durable=True)
    else:
        db = OUT / "ingest-worker.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="voronka.settings",
        VORONKA_VAR=str(OUT / "var"),
        DEBUG="0",
        LOG_LEVEL="ERROR",
    )
    try:
        _run(n, vendor, url, profile)
    finally:
        if stop_db is not None:
            stop_db()


def _run(n: int, vendor: str, url: str, profile: str | None) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from voronka.inbox.actions import do_create_channel
    from voronka.inbox.channels import provider_for
    from voronka.inbox.ingest import process_pending, store
    from voronka.inbox.models import Communication, ReceivedEvent
    from voronka.testing.fixtures import build_org

    call_command("migrate", verbosity=0, interactive=False)
    org = build_org("Ingest worker")
    channels = {
        "telegram": do_create_channel(
            org.head,
            kind="telegram",
            name="Бот",
            credentials={"bot_token": "123456:ABC-bench", "secret_token": "bench-secret"},
        ),
        "whatsapp": do_create_channel(
            org.head,
            kind="whatsapp",
            name="WhatsApp",
            credentials={
                "app_secret": "bench-app-secret",
                "verify_token": "bench-verify",
                "access_token": "bench-access",
                "phone_number_id": "1065",
            },
        ),
        "generic_pbx": do_create_channel(
            org.head, kind="generic_pbx", name="АТС", credentials={"secret": "bench-pbx"}
        ),
    }
    stored = 0
    for kind, body in _bodies(n):
        channel = channels[kind]
        stored += store(channel, provider_for(kind).parse(channel, body)).stored
    pids = _postmaster(url) if vendor == "postgres" else set()
    db0 = _db_cpu(pids) if pids else 0.0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    done = process_pending()
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    db = (_db_cpu(pids) - db0) if pids else None
    left = ReceivedEvent.objects.filter(processed_at__isnull=True).count()
    comms = Communication.objects.count()
    figures = {
        "database": vendor,
        "events": stored,
        "processed": done,
        "left": left,
        "communications": comms,
        "worker_cpu_ms_per_event": round(cpu * 1000 / max(done, 1), 2),
        "database_cpu_ms_per_event": round(db * 1000 / max(done, 1), 2) if pids else None,
        "events_s": round(done / wall, 1),
        "wall_s": round(wall, 1),
        "profiled": bool(profile),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
