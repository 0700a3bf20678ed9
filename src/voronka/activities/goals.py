"""The goals offered when a task is planned: the head's list for the deal's stage, then the
goals for every stage. Free text stays allowed; these are suggestions."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, Value, When

from .models import TaskGoal


def suggested_goals(workspace_id: int, stage_id: int | None = None) -> list[str]:
    """The texts to offer, the stage's own first, each once, archived ones left out."""
    where = Q(stage__isnull=True)
    if stage_id is not None:
        where |= Q(stage_id=stage_id)
    rows = (
        TaskGoal.objects.filter(where, workspace_id=workspace_id, is_archived=False)
        .annotate(
            own=Case(
                When(stage__isnull=True, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("own", "position", "id")
        .values_list("text", flat=True)
    )
    seen: set[str] = set()
    out = []
    for text in rows:
        if text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out
