"""A throwaway PostgreSQL cluster for the test suite (pytest plugin, loaded with ``-p``).

With ``VORONKA_TEST_DB=postgres`` and no ``DATABASE_URL`` given, the plugin runs ``initdb`` in a
temporary folder, starts the server on a free loopback port, points ``DATABASE_URL`` at it before
Django reads its settings, and stops and removes it when the run ends. As root (CI, these
machines) the server runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile


def _bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError(
        "PostgreSQL server binaries not found: `apt-get install postgresql` (make test does it)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(*, durable: bool = False, keep: str | None = None) -> tuple[str, callable]:
    """Start a cluster; return its DATABASE_URL and the function that stops it.

    ``durable``: fsync and synchronous_commit on, as in production (the ingest benchmark);
    by default both are off, which is enough for tests and much faster.
    ``keep``: a folder that holds the cluster from one run to the next (the benchmark's
    ``BENCH_REUSE``): initialised only if it has no cluster yet, started from its files
    otherwise (a server an interrupted run left running there is stopped first), and stopped
    cleanly at the end, its files kept."""
    bindir = _bindir()
    if keep:
        root = os.path.abspath(keep)
        os.makedirs(root, exist_ok=True)
    else:
        root = tempfile.mkdtemp(prefix="voronka-pg-")
    data = os.path.join(root, "data")
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        os.chmod(root, 0o700)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    initialised = keep and os.path.exists(os.path.join(data, "PG_VERSION"))
    if initialised:
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    else:
        subprocess.run(
            [
                *prefix,
                f"{bindir}/initdb",
                "-D",
                data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
                # Byte-order collation, but Unicode case rules: «ромашка» finds «Ромашка» with
                # icontains as it does on a production cluster in a UTF-8 locale.
                "--lc-ctype=C.UTF-8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=50"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        [
            *prefix,
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-o",
            options,
            "-l",
            os.path.join(root, "server.log"),
            "-w",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def stop() -> None:
        mode = "fast" if keep else "immediate"  # a kept cluster is shut down cleanly
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", mode, "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        if not keep:
            shutil.rmtree(root, ignore_errors=True)

    return f"postgres://postgres@127.0.0.1:{port}/postgres", stop


if os.environ.get("VORONKA_TEST_DB") == "postgres" and not os.environ.get("DATABASE_URL"):
    _url, _stop = start_cluster()
    os.environ["DATABASE_URL"] = _url
    atexit.register(_stop)


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
