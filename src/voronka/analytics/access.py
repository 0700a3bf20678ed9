"""Who reads the analytics, and whose figures: the owner and the head everyone's, a senior their
group's, a manager their own (``accounts.access.owner_scope``); nobody else (404)."""

from __future__ import annotations

from django.http import Http404

from voronka.accounts.access import owner_scope
from voronka.accounts.models import Role

ANALYTICS_ROLES = frozenset({Role.OWNER, Role.HEAD, Role.SENIOR, Role.MANAGER})
EXPORT_ROLES = frozenset({Role.OWNER, Role.HEAD, Role.SENIOR})


def may_read_analytics(user) -> bool:
    return user.is_authenticated and user.is_active and user.role in ANALYTICS_ROLES


def analytics_scope(user) -> frozenset[int] | None:
    """The ids of the people whose figures ``user`` reads, or None for everyone; 404 for a
    person the analytics are not for."""
    if not may_read_analytics(user):
        raise Http404
    return owner_scope(user)


def may_export(user) -> bool:
    """CSV downloads: the owner, the head, and a senior for their group."""
    return may_read_analytics(user) and user.role in EXPORT_ROLES


def narrow(scope: frozenset[int] | None, wanted) -> tuple[int, ...] | None:
    """The owners to read: ``wanted`` (ids or None) within ``scope``; never more than the
    scope, and nobody (not everyone) when the wish lies outside it."""
    if wanted is None:
        return None if scope is None else tuple(sorted(scope))
    wanted = {int(w) for w in wanted}
    return tuple(sorted(wanted if scope is None else wanted & scope))
