"""Ingest: signed webhook events from 32 concurrent senders, and a SIGKILL in the middle.

Issue 4's target: ≥ 1,000 events/s with p99 ≤ 100 ms on PostgreSQL (SQLite with WAL: the best
it can do, reported), every acknowledged event in the database; killed with SIGKILL mid-run
and restarted, no acknowledged event lost and none stored twice.

It does not use the generated million deals: it makes its own fresh database (a SQLite file
under bench/out/, or a throwaway PostgreSQL cluster with fsync and synchronous_commit ON, as in
production), migrates it, and creates a workspace (``voronka.testing.fixtures.build_org``: a
head, an owner, two seniors, four managers) with a generic PBX channel (``generic_pbx``: HMAC-
SHA256 over ``timestamp.body``, what a PBX pushes at call volume). Then it starts the real
server as ``voronka serve`` does (``serve.web_command``: uvicorn running ``voronka.front``, which
takes deliveries in on its event loop and stores them by group commit) with the production
settings (``VORONKA_ENV=production``, HTTPS redirect off since it listens on loopback) and no
access log, beside the background worker (``voronka worker``), with the worker configuration in
``SERVER``.

The senders are one separate process (``python -m bench.ingest load``) so that its CPU is
counted apart: asyncio, raw HTTP/1.1 keep-alive, each body signed before the clock starts.
Each sender posts one call event at a time and waits for the answer; a 5xx answer or a broken
connection is retried (as providers retry) until acknowledged; a 4xx is counted, not retried.

1. Throughput: ``BENCH_INGEST_SECONDS`` (default 20) after a warm-up (``_WARMUP``, 10 s); events/s
   acknowledged, per-request latency p50/p95/p99, the CPU seconds of the senders, the web
   server, the worker and the database over the timed window, and the machine's load average.
   Then the worker's pace alone for ``PROCESSING_WINDOW`` seconds; the rest of its backlog is
   dropped so that the next run starts from nothing.
2. Durability: the same senders for ``BENCH_INGEST_DURABILITY_SECONDS`` (default 10); halfway
   the server and the worker are killed with SIGKILL (each one's whole process group) and
   restarted a second later; the senders keep sending what was not acknowledged. The database
   is counted at once (acknowledged events missing: must be 0) and again once the worker has
   processed every stored event (at most ``BENCH_INGEST_DRAIN`` seconds, default 600): events
   stored twice and communications made twice for one event (must be 0), left unprocessed.

Server configuration: ``BENCH_INGEST_WORKERS`` (default 1: uvicorn's worker processes, each
with its own event loop and group commit; one takes the load within a core and commits bigger
batches than two, which leaves the other core to the database, the senders and the worker) and
``_THREADS`` (16: the site's threads per process; deliveries need none). ``python -m
bench.ingest`` subcommands (setup, load, pending, discard, count) are the pieces run as
subprocesses against the bench database.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .measure import Target, percentile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"

TARGETS = {"ingest": Target("p99", 100)}
LABELS = {"ingest": "signed webhook ingest (generic PBX), 32 senders"}
#: Events per second the ingest must sustain (besides the p99 above).
RATE_TARGET = 1000
#: The generated deals are not needed: this scenario makes its own database.
NEEDS_DATA = False

SENDERS = 32
SECRET = "bench-pbx-signing-secret-0123456789"
#: Requests per keep-alive connection before a sender opens a new one: the server's worker
#: processes do not share out connections that stay open, so without recycling one could keep
#: them all.
RECYCLE_AFTER = 100
#: Distinct callers: the first call of each makes a contact and a deal, the rest add to them.
CLIENTS = 2000


def _server_config() -> dict:
    return {
        "workers": int(os.environ.get("BENCH_INGEST_WORKERS", "1")),
        "threads": int(os.environ.get("BENCH_INGEST_THREADS", "16")),
        # The report's "server" column: <workers> × <worker_class> <threads> threads.
        "worker_class": "uvicorn voronka.front, site on",
    }


def _log(message: str) -> None:
    print(message, flush=True)


# -- Inside the bench database (subprocesses with its DATABASE_URL) ----------------------------


def _setup() -> None:
    """Migrate the fresh database, make the workspace and the channel; print what the senders
    need."""
    import django

    django.setup()
    from django.core.management import call_command

    from voronka.inbox.actions import do_create_channel
    from voronka.testing.fixtures import build_org

    call_command("migrate", verbosity=0, interactive=False)
    org = build_org("Ingest")
    channel = do_create_channel(
        org.head, kind="generic_pbx", name="АТС", credentials={"secret": SECRET}
    )
    print(json.dumps({"channel": channel.id, "key": channel.webhook_key}))


def _count(acked_file: str) -> None:
    """How the database holds the acknowledged events: print the counts as JSON."""
    import django

    django.setup()
    from django.db.models import Count

    from voronka.inbox.models import Communication, ReceivedEvent

    info = json.loads(Path(acked_file).read_text())
    channel, acked = info["channel"], set(info["acked"])
    prefix = info["prefix"]
    stored = ReceivedEvent.objects.filter(channel_id=channel, event_id__startswith=prefix)
    stored_ids = set(stored.values_list("event_id", flat=True))
    twice = (
        stored.values("event_id").annotate(n=Count("id")).filter(n__gt=1).count()
    )  # the unique constraint forbids it; counted all the same
    comms = Communication.objects.filter(
        conversation__channel_id=channel, external_id__startswith=prefix
    )
    comm_twice = comms.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count()
    print(
        json.dumps(
            {
                "acked": len(acked),
                "stored": len(stored_ids),
                "lost": len(acked - stored_ids),
                "stored_twice": twice,
                "communications": comms.count(),
                "communications_twice": comm_twice,
                "unprocessed": _unprocessed(stored),
            }
        )
    )


def _unprocessed(stored) -> int:
    from voronka.inbox.models import ReceivedEvent

    if any(f.name == "processed_at" for f in ReceivedEvent._meta.get_fields()):
        return stored.filter(processed_at__isnull=True).count()
    return stored.filter(communication__isnull=True).count()


def _pending(channel: int) -> None:
    import django

    django.setup()
    from voronka.inbox.models import ReceivedEvent

    print(_unprocessed(ReceivedEvent.objects.filter(channel_id=channel)))


def _discard(channel: int, prefix: str) -> None:
    """Drop the throughput run's events the worker has not reached (its backlog), so that the
    durability run's worker starts from nothing; print how many."""
    import django

    django.setup()
    from voronka.inbox.models import ReceivedEvent

    left = ReceivedEvent.objects.filter(
        channel_id=channel, event_id__startswith=prefix, processed_at__isnull=True
    )
    print(left.delete()[0])


# -- The senders (their own process) -----------------------------------------------------------


def _bodies(path: str, prefix: str, n: int) -> list[tuple[str, bytes]]:
    """``n`` signed requests, ready to write: (event id, bytes)."""
    import hashlib
    import hmac

    stamp = str(int(time.time()))
    out = []
    started = "2026-03-03T10:15:00+03:00"
    for i in range(n):
        event_id = f"{prefix}{i}"
        call = {
            "event_id": event_id,
            "call_id": event_id,
            "direction": "in",
            "from": f"+7916{1000000 + (i * 7919) % CLIENTS:07d}",
            "to": "+74951112233",
            "started_at": started,
            "duration": 30 + i % 300,
            "outcome": "answered" if i % 4 else "missed",
        }
        body = json.dumps(call).encode()
        digest = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Voronka-Timestamp: {stamp}\r\n"
            f"X-Voronka-Signature: sha256={digest.hexdigest()}\r\n\r\n"
        )
        out.append((event_id, head.encode() + body))
    return out


async def _exchange(reader, request: bytes, writer) -> tuple[int, bool]:
    writer.write(request)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("closed")
    status = int(status_line.split()[1])
    length, close, chunked = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, close


async def _load(port: int, requests: list[tuple[str, bytes]], seconds: float, warmup: float):
    """Send until ``seconds`` after the warm-up are over; each sender finishes (has
    acknowledged) its event in hand before it stops."""
    acked: list[str] = []
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    attempts: dict[str, int] = {}
    state = {"next": 0}
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_end = t_measure + seconds
    in_window = {"n": 0}
    cpu = {}

    async def sender():
        reader = writer = None
        used = 0
        while True:
            now = time.perf_counter()
            if now >= t_end or state["next"] >= len(requests):
                break
            if "measure" not in cpu and now >= t_measure:
                cpu["measure"] = time.process_time()
            event_id, request = requests[state["next"]]
            state["next"] += 1
            while True:
                attempts[event_id] = attempts.get(event_id, 0) + 1
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    began = time.perf_counter()
                    status, close = await _exchange(reader, request, writer)
                    done = time.perf_counter()
                    used += 1
                    if used % RECYCLE_AFTER == 0:
                        close = True  # a client's pool recycles its connections now and then
                    if close:
                        writer.close()
                        writer = None
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    statuses["connection error"] = statuses.get("connection error", 0) + 1
                    if writer is not None:
                        writer.close()
                    writer = None
                    await asyncio.sleep(0.05)
                    continue
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if 400 <= status < 500:
                    break  # refused for good (a wrong signature would be): counted, not retried
                if 200 <= status < 300:
                    acked.append(event_id)
                    if began >= t_measure and done <= t_end:
                        latencies.append((done - began) * 1000)
                        in_window["n"] += 1
                    break
                await asyncio.sleep(0.05)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    cpu_end = time.process_time()
    elapsed = time.perf_counter() - t_start
    return {
        "acked": acked,
        "latencies": latencies,
        "in_window": in_window["n"],
        "window_s": seconds,
        "elapsed_s": elapsed,
        "statuses": statuses,
        "redelivered": sum(1 for n in attempts.values() if n > 1),
        "client_cpu_s": cpu_end - cpu.get("measure", cpu_end),
    }


def _load_main(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    requests = _bodies(spec["path"], spec["prefix"], spec["events"])
    print("ready", flush=True)
    sys.stdin.readline()  # the go signal: the parent samples the CPU counters first
    result = asyncio.run(_load(spec["port"], requests, spec["seconds"], spec["warmup"]))
    result["client_total_cpu_s"] = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    Path(spec["out"]).write_text(json.dumps(result))


# -- The scenario (in bench.scenario's process) ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> tuple[int, int, float] | None:
    """(ppid, process group, CPU seconds) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / tick


def _processes() -> dict[int, tuple[int, int, float]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                found[int(entry)] = st
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = parts[3] + parts[4]
    return (sum(parts) - idle) / tick, sum(parts) / tick


class _Bench:
    """The fresh database, the server and the worker of one run."""

    def __init__(self, vendor: str, log):
        self.vendor = vendor
        self.log = log
        self.stop_db = None
        self.db_pid = None
        if vendor == "postgresql":
            from voronka.testing.pgcluster import start_cluster

            self.url, self.stop_db = start_cluster(durable=True)
            port = self.url.rsplit(":", 1)[1].split("/")[0]
            for pid in _processes():
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if cmd and cmd[0].endswith(b"postgres") and f"-p {port}".encode() in b" ".join(cmd):
                    self.db_pid = pid
        else:
            OUT.mkdir(exist_ok=True)
            db = OUT / "ingest.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            self.url = f"sqlite:///{db}"
        self.port = _free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "VORONKA_ENV": "production",
            "SECRET_KEY": "bench-ingest-" + "k" * 40,
            "SECURE_SSL_REDIRECT": "0",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "ERROR",
        }
        self.web = self.worker = None
        bindir = os.path.dirname(sys.executable)
        self.voronka = os.path.join(bindir, "voronka")

    def run_py(self, *args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.ingest", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"bench.ingest {args[0]} failed: {proc.stderr[-3000:]}")
        return proc.stdout.strip().splitlines()[-1]

    def start(self) -> None:
        from voronka.core.management.commands.serve import web_command

        cfg = _server_config()
        self.worker = subprocess.Popen(
            [self.voronka, "worker", "--verbosity", "0"],
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
        )
        command, extra = web_command(
            "127.0.0.1", self.port, cfg["workers"], cfg["threads"], access_log=False
        )
        self.web = subprocess.Popen(
            command, env={**self.env, **extra}, cwd=ROOT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        """SIGKILL to the server's and the worker's whole process groups."""
        for proc in (self.web, self.worker):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop(self) -> None:
        for proc in (self.web, self.worker):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()

    def close(self) -> None:
        self.stop()
        if self.stop_db is not None:
            self.stop_db()

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the web server, the worker and the database."""
        procs = _processes()
        groups = {
            "web": self.web.pid if self.web else None,
            "worker": self.worker.pid if self.worker else None,
        }
        out = {
            name: sum(cpu for _pp, pg, cpu in procs.values() if pg == pid)
            for name, pid in groups.items()
        }
        if self.db_pid is not None:
            out["database"] = sum(
                cpu
                for pid, (pp, _pg, cpu) in procs.items()
                if pid == self.db_pid or pp == self.db_pid
            )
        return out

    def wait_processed(self, channel: int, timeout: float) -> tuple[int, float]:
        started = time.monotonic()
        while True:
            left = int(self.run_py("pending", str(channel)))
            waited = time.monotonic() - started
            if left == 0 or waited > timeout:
                return left, waited
            time.sleep(1)


def _load_process(bench: _Bench, key: str, prefix: str, seconds: float, warmup: float):
    spec = OUT / f"ingest-load-{prefix}.json"
    out = OUT / f"ingest-result-{prefix}.json"
    spec.write_text(
        json.dumps(
            {
                "port": bench.port,
                "path": f"/hooks/generic_pbx/{key}/",
                "prefix": prefix,
                "events": int((seconds + warmup) * 3000) + 5000,
                "seconds": seconds,
                "warmup": warmup,
                "out": str(out),
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.ingest", "load", str(spec)],
        cwd=ROOT,
        env=bench.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the senders did not start")
    return proc, out


#: Seconds the worker's pace is watched after the throughput run.
PROCESSING_WINDOW = 20.0


def _throughput(bench: _Bench, channel: int, key: str, seconds: float, log) -> dict:
    warmup = float(os.environ.get("BENCH_INGEST_WARMUP", "10"))
    proc, out = _load_process(bench, key, "t-", seconds, warmup)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    time.sleep(warmup)
    cpu0, busy0, load0 = bench.cpu(), _machine_busy(), os.getloadavg()[0]
    time.sleep(seconds)
    cpu1, busy1, load1 = bench.cpu(), _machine_busy(), os.getloadavg()[0]
    proc.wait()
    r = json.loads(out.read_text())
    lat = r["latencies"]
    window = seconds
    cpu = {k: round(cpu1.get(k, 0) - cpu0.get(k, 0), 1) for k in cpu1}
    cpu["senders"] = round(r["client_cpu_s"], 1)
    machine = (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1e-9)
    figures = {
        "events_s": round(r["in_window"] / window),
        "n": r["in_window"],
        "seconds": window,
        "p50": round(percentile(lat, 50), 1),
        "p95": round(percentile(lat, 95), 1),
        "p99": round(percentile(lat, 99), 1),
        "max": round(max(lat), 1) if lat else None,
        "statuses": r["statuses"],
        "cpu_s": cpu,
        "cpu_ms_per_event": {
            k: round(v * 1000 / max(r["in_window"], 1), 2) for k, v in cpu.items()
        },
        "machine_busy": round(machine * 100),
        "load": [round(load0, 1), round(load1, 1)],
    }
    # The worker's pace: how many of the stored events it processes in PROCESSING_WINDOW s
    # once the senders have stopped (it has the machine to itself then).
    before = int(bench.run_py("pending", str(channel)))
    w0 = bench.cpu().get("worker", 0)
    t0 = time.monotonic()
    time.sleep(PROCESSING_WINDOW)
    after = int(bench.run_py("pending", str(channel)))
    spent = time.monotonic() - t0
    done = before - after
    figures["backlog"] = before
    figures["processed_s"] = round(done / spent, 1)
    figures["worker_cpu_ms_per_event"] = (
        round((bench.cpu().get("worker", 0) - w0) * 1000 / done, 1) if done else None
    )
    figures["discarded_backlog"] = int(bench.run_py("discard", str(channel), "t-"))
    log(
        f"  {figures['events_s']} events/s, p50 {figures['p50']} p99 {figures['p99']} ms, "
        f"CPU s {cpu}, machine {figures['machine_busy']}% busy, load {figures['load']}"
    )
    return figures


def _durability(bench: _Bench, channel: int, key: str, seconds: float, log) -> dict:
    proc, out = _load_process(bench, key, "d-", seconds, 0.0)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    time.sleep(seconds / 2)
    bench.kill()
    log("  killed the server and the worker with SIGKILL")
    time.sleep(1.0)
    bench.start()
    log("  restarted")
    proc.wait()
    r = json.loads(out.read_text())
    acked_file = OUT / "ingest-acked.json"
    acked_file.write_text(json.dumps({"channel": channel, "prefix": "d-", "acked": r["acked"]}))
    at_once = json.loads(bench.run_py("count", str(acked_file)))
    drain = float(os.environ.get("BENCH_INGEST_DRAIN", "600"))
    left, waited = bench.wait_processed(channel, timeout=drain)
    counts = json.loads(bench.run_py("count", str(acked_file)))
    figures = {
        **counts,
        "lost_right_after": at_once["lost"],
        "redelivered": r["redelivered"],
        "statuses": r["statuses"],
        "processing_drain_s": round(waited, 1),
    }
    log(f"  durability: {figures}")
    return figures


def run(data, requests: int, log=_log) -> dict:
    from django.db import connection

    seconds = float(os.environ.get("BENCH_INGEST_SECONDS", "20"))
    vendor = connection.vendor
    log(f"  fresh {vendor} database for the ingest; server {_server_config()}")
    bench = _Bench(vendor, log)
    try:
        made = json.loads(bench.run_py("setup"))
        bench.start()
        figures = _throughput(bench, made["channel"], made["key"], seconds, log)
        durable_s = float(os.environ.get("BENCH_INGEST_DURABILITY_SECONDS", "10"))
        figures["durability"] = _durability(bench, made["channel"], made["key"], durable_s, log)
    finally:
        bench.close()
    figures.update(
        kind="ingest",
        who="32 senders",
        server=_server_config(),
        durable_db=(
            "fsync on, synchronous_commit on"
            if vendor == "postgresql"
            else "WAL, synchronous=NORMAL"
        ),
    )
    return {"ingest": figures}


if __name__ == "__main__":
    command = sys.argv[1]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voronka.settings")
    sys.path.insert(0, str(ROOT / "src"))
    if command == "setup":
        _setup()
    elif command == "count":
        _count(sys.argv[2])
    elif command == "pending":
        _pending(int(sys.argv[2]))
    elif command == "discard":
        _discard(int(sys.argv[2]), sys.argv[3])
    elif command == "load":
        _load_main(sys.argv[2])
    else:
        raise SystemExit(f"unknown command {command}")
