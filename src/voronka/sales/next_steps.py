"""A deal's next step as the board sorts it: ``Deal.next_step_due``, kept by one function.

``next_step_due`` is the due time of the deal's earliest open task (None when it has none), a
copy kept on the deal so that a column of the board can be read in next-step order from an
index instead of looking up the tasks of every deal in it. ``sync_next_step_due`` is the only
writer: every path that creates, reschedules, completes, reopens or removes a task, or moves a
deal, calls it for the deals concerned; bulk loads (the demo, the bench) call it once for the
workspace. ``Deal.save`` leaves the column alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import OuterRef, Q, Subquery

#: Deals per UPDATE, well below SQLite's limit on a statement's parameters.
CHUNK = 500


def _earliest_open_due():
    from voronka.activities.models import Task

    return Subquery(
        Task.objects.filter(
            workspace_id=OuterRef("workspace_id"), deal_id=OuterRef("pk"), done_at__isnull=True
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )


def sync_next_step_due(
    deal_ids: Iterable[int | None] = (), *, workspace_id: int | None = None
) -> int:
    """Set ``next_step_due`` of the given deals (or of a whole workspace) from their open tasks.

    Call it in the transaction that changed the tasks: the copy commits with them. Answers the
    number of deals written.
    """
    from voronka.activities.models import Task

    from .models import Deal

    written = 0
    if workspace_id is not None:
        # Deals holding a value or having an open task: every other deal is None already.
        open_task_deals = Task.objects.filter(
            workspace_id=workspace_id, done_at__isnull=True, deal_id__isnull=False
        ).values("deal_id")
        written += (
            Deal.objects.filter(workspace_id=workspace_id)
            .filter(Q(next_step_due__isnull=False) | Q(id__in=open_task_deals))
            .update(next_step_due=_earliest_open_due())
        )
    ids = sorted({i for i in deal_ids if i})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        written += Deal.objects.filter(id__in=chunk).update(next_step_due=_earliest_open_due())
    return written
