"""voronka rebuild_rollups: recompute the analytics' rollups from the raw history."""

import time

from django.core.management.base import BaseCommand

from voronka.analytics.rollups import rebuild_workspace
from voronka.core.models import Workspace


class Command(BaseCommand):
    help = "Recompute the analytics rollups of every workspace (or one) from the raw history."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", type=int, help="only this workspace id")

    def handle(self, *args, workspace=None, **options):
        qs = Workspace.objects.order_by("id")
        if workspace is not None:
            qs = qs.filter(pk=workspace)
        for ws in qs:
            started = time.monotonic()
            outcome = rebuild_workspace(ws)
            self.stdout.write(
                f"workspace {ws.pk}: {outcome['deals']} deals, {outcome['rows']} funnel rows, "
                f"{outcome['communication_rows']} communication rows "
                f"in {time.monotonic() - started:.1f} s"
            )
