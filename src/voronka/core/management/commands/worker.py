"""`voronka worker`: run background tasks, and enqueue the scheduled ones on time."""

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from voronka.core.jobs import SCHEDULE

log = logging.getLogger("voronka.worker")


class Command(BaseCommand):
    help = "Run the background worker: the task queue plus the cron schedule."

    def add_arguments(self, parser):
        parser.add_argument("--no-schedule", action="store_true", help="Only run queued tasks.")

    def handle(self, *args, **options):
        scheduler = None
        if not options["no_schedule"]:
            scheduler = BackgroundScheduler(timezone=settings.TIME_ZONE)
            for job, cron in SCHEDULE:
                scheduler.add_job(
                    job.enqueue,
                    CronTrigger(**cron),
                    id=job.name,
                    replace_existing=True,
                    misfire_grace_time=3600,
                    coalesce=True,
                )
            scheduler.start()
            self.stdout.write(f"worker: {len(SCHEDULE)} scheduled jobs")
        try:
            call_command("db_worker", interval=1.0, verbosity=options["verbosity"])
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
