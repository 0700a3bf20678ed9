"""Violations over the API (read only): parse → access → schema."""

from __future__ import annotations

from ninja import Query, Router

from voronka.api.schemas import READ_ERRORS, page

from .access import visible_violations
from .schemas import ViolationFilters, ViolationPage

router = Router(tags=["control"])


@router.get("/violations", response={200: ViolationPage, **READ_ERRORS})
def list_violations(request, filters: Query[ViolationFilters]):
    """The violations the caller sees, newest first: a manager their own, a senior their team's,
    the head everyone's."""
    qs = visible_violations(request.auth)
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind)
    if filters.manager_id is not None:
        qs = qs.filter(manager_id=filters.manager_id)
    if filters.deal_id is not None:
        qs = qs.filter(deal_id=filters.deal_id)
    if filters.status == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif filters.status == "resolved":
        qs = qs.filter(resolved_at__isnull=False)
    return page(qs.order_by("-id"), filters)
