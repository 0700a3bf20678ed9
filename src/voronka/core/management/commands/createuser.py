"""`voronka createuser USERNAME --role head`: add a person (the first one creates the workspace)."""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from voronka.accounts.actions import do_create_user
from voronka.accounts.models import Role
from voronka.core.errors import DomainError
from voronka.core.models import Workspace


class Command(BaseCommand):
    help = "Create a user. Without a workspace in the database, one is created first."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", default=Role.MANAGER, choices=Role.values)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--workspace", type=int, help="Workspace id (default: the first one).")
        parser.add_argument(
            "--company", default="", help="Name of a new workspace, if none exists."
        )
        parser.add_argument(
            "--password", help="The password (default: $VORONKA_PASSWORD, or asked for)."
        )

    def handle(self, *args, **o):
        ws = (
            Workspace.objects.filter(id=o["workspace"]).first()
            if o["workspace"]
            else Workspace.objects.order_by("id").first()
        )
        if ws is None:
            if o["workspace"]:
                raise CommandError(f"No workspace with id {o['workspace']}.")
            ws = Workspace.objects.create(name=o["company"] or "Voronka")
            self.stdout.write(f"created workspace «{ws.name}» (id {ws.id})")
        password = o["password"] or os.environ.get("VORONKA_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        try:
            user = do_create_user(
                None,
                username=o["username"],
                password=password,
                role=o["role"],
                first_name=o["first_name"],
                last_name=o["last_name"],
                email=o["email"],
                workspace_id=ws.id,
                is_staff=o["role"] == Role.OWNER,
                is_superuser=o["role"] == Role.OWNER,
            )
        except DomainError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {details}".strip()) from None
        self.stdout.write(
            self.style.SUCCESS(f"created {user.username} ({user.role}) in «{ws.name}»")
        )
