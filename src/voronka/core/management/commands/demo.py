"""`voronka demo [--if-empty] [--seed N]`: load the demo company (``make run`` does it once)."""

import time

from django.core.management.base import BaseCommand, CommandError

from voronka.accounts.models import User
from voronka.core.demo import DEFAULT_SEED, DEMO_PASSWORD, build_demo
from voronka.core.models import Workspace

DEMO_USERNAMES = (
    "owner",
    "head",
    "senior1",
    "senior2",
    *(f"manager{i}" for i in range(1, 9)),
    "assistant",
    "qc",
)


class Command(BaseCommand):
    # `make run` calls this on every start: skip the system checks (migrate has just run them)
    # so that the answer for a database with data comes at once.
    requires_system_checks = []
    help = (
        "Load a demo company: 14 people, ~500 companies, ~800 contacts, two pipelines and "
        "~1,500 deals with six months of history. The same seed gives the same company."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when the database already holds a workspace or a user.",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed.")
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply the numbers of companies, contacts and deals (default 1).",
        )

    def handle(self, *args, if_empty, seed, scale, **options):
        if if_empty and (Workspace.objects.exists() or User.objects.exists()):
            self.stdout.write("The database already holds data; the demo company is not loaded.")
            return
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        taken = sorted(
            User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)
        )
        if taken:
            raise CommandError(
                "The demo logins are taken in this database: "
                + ", ".join(taken)
                + ". Load the demo into an empty database."
            )
        started = time.monotonic()
        summary = build_demo(seed=seed, scale=scale)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo company «{summary.workspace.name}» loaded in {elapsed:.1f} s (seed {seed}):"
            )
        )
        for line in summary.lines():
            self.stdout.write(f"  {line}")
        self.stdout.write(f"Sign in with one of these logins; the password is «{DEMO_PASSWORD}»:")
        for user in summary.people:
            team = f", {user.team.name}" if user.team_id else ""
            self.stdout.write(
                f"  {user.username:<10} {user.get_full_name():<26} {user.get_role_display()}{team}"
            )
