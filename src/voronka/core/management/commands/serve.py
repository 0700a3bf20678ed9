"""`voronka serve`: the web server and the background worker together, for one machine.

The web server is uvicorn running ``voronka.front``: providers' webhook deliveries are taken in on
its event loop and stored by group commit, the site runs in Django's WSGI application on a pool
of threads in each server process (see ``voronka.front``)."""

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


def web_command(
    host: str, port: int, workers: int, threads: int, *, access_log: bool = True
) -> tuple[list[str], dict[str, str]]:
    """The web server's command line and the environment it adds (the benchmark starts it so)."""
    bindir = os.path.dirname(sys.executable)
    command = [
        os.path.join(bindir, "uvicorn"),
        "voronka.front:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--lifespan",
        "on",
        # Providers and browsers keep connections open between requests.
        "--timeout-keep-alive",
        "30",
        "--log-level",
        "warning",
        "--access-log" if access_log else "--no-access-log",
    ]
    return command, {"WEB_THREADS": str(threads)}


def wait_until_answering(host: str, port: int, process, *, limit: float = 180.0) -> bool:
    """Wait until something accepts connections on ``host:port`` (True), or until ``process``
    ends or ``limit`` seconds pass (False). A server bound to every address is asked on the
    loopback one."""
    if host in ("0.0.0.0", "", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


class Command(BaseCommand):
    help = "Start the web server (uvicorn) and the background worker, and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        # Threads for the site per server process: the site chat's long polls each hold one for
        # up to 20 s, at most VORONKA_SITECHAT_HELD_POLLS (8) of them, so half stay for pages.
        # Webhook deliveries need none (the event loop takes them in).
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "16")))
        parser.add_argument(
            "--no-access-log", dest="access_log", action="store_false", help="Log no requests."
        )

    def handle(self, *args, host, port, workers, threads, access_log, **options):
        bindir = os.path.dirname(sys.executable)
        # The worker reports only problems here; `voronka worker` alone shows every task it runs.
        worker = subprocess.Popen([os.path.join(bindir, "voronka"), "worker", "--verbosity", "0"])
        command, env = web_command(host, port, workers, threads, access_log=access_log)
        web = subprocess.Popen(command, env={**os.environ, **env})

        def stop(*_):
            for p in (web, worker):
                if p.poll() is None:
                    p.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            self._banner(host, port, web)
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for p in (web, worker):
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

    def _banner(self, host, port, web):
        """The address and the logins, printed once the server answers on its port."""
        from voronka.accounts.models import User

        self.stdout.write(f"Voronka is starting at http://{host}:{port}/ …")
        self.stdout.flush()
        if not wait_until_answering(host, port, web):
            if web.poll() is None:
                self.stderr.write(f"The server does not answer on port {port} yet; still waiting.")
            return
        self.stdout.write(self.style.SUCCESS(f"\nVoronka is running at http://{host}:{port}/"))
        self.stdout.write(f"database: {settings.DATABASES['default']['NAME']}")
        if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            self.stdout.write(f"outgoing mail is kept in: {settings.EMAIL_FILE_PATH}")
        demo = list(
            User.objects.filter(username__in=["head", "manager1", "manager3", "owner"]).values_list(
                "username", flat=True
            )
        )
        if demo:
            self.stdout.write(
                "demo logins (password voronka-demo): "
                + ", ".join(
                    ["owner", "head", "senior1", "senior2", "manager1…manager8", "assistant", "qc"]
                )
            )
        self.stdout.write("Ctrl+C stops the server and the worker.\n")
