"""The analytics' scheduled work: the rollups follow the rows written since the last run.

The schedule itself is in ``voronka.core.jobs.SCHEDULE``.
"""

from __future__ import annotations

from django_tasks import task

from .rollups import refresh_all


@task()
def refresh_rollups() -> None:
    """Every minute: stage changes and communications past each workspace's mark."""
    refresh_all()
