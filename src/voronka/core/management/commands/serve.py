"""`voronka serve`: the web server and the background worker together, for one machine."""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from voronka.accounts.models import User


class Command(BaseCommand):
    help = "Start the web server (gunicorn) and the background worker, and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        # Threads per worker (gunicorn's gthread): the site chat's long polls each hold one for
        # up to 20 s, at most VORONKA_SITECHAT_HELD_POLLS (8) of them, so half stay for pages.
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "16")))

    def handle(self, *args, host, port, workers, threads, **options):
        bindir = os.path.dirname(sys.executable)
        # The worker reports only problems here; `voronka worker` alone shows every task it runs.
        worker = subprocess.Popen([os.path.join(bindir, "voronka"), "worker", "--verbosity", "0"])
        web = subprocess.Popen(
            [
                os.path.join(bindir, "gunicorn"),
                "voronka.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--access-logfile",
                "-",
                "--log-level",
                "warning",
            ]
        )
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

        def stop(*_):
            for p in (web, worker):
                if p.poll() is None:
                    p.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
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
