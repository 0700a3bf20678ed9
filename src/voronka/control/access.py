"""The only way violations, snoozes and the control screen are loaded on behalf of a person.

A manager sees their own violations (on My day and over the API); a senior their team's; the
head, the owner and the quality controller everything; an assistant those on deals handed to
them. The control screen is for the head, the owner and the seniors: for anyone else it is
absent (404).
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from voronka.accounts.access import is_assistant, may_write, owner_scope
from voronka.accounts.models import Role

from .models import Snooze, Violation

#: Who opens the control screen: the head and the owner see everyone, a senior their team.
CONTROL_ROLES = frozenset({Role.OWNER, Role.HEAD, Role.SENIOR})


def control_scope(user) -> frozenset[int] | None:
    """The ids of the managers whose violations ``user`` controls, or None for everyone.

    404 for a person the control screen is not for.
    """
    if not user.is_authenticated or user.role not in CONTROL_ROLES:
        raise Http404
    if user.role in (Role.OWNER, Role.HEAD):
        return None
    return owner_scope(user)


def visible_violations(user):
    qs = Violation.objects.filter(workspace_id=user.workspace_id)
    if is_assistant(user):
        return qs.filter(Q(manager_id=user.id) | Q(deal__assistant_id=user.id))
    scope = owner_scope(user)
    if scope is None:
        return qs
    return qs.filter(manager_id__in=scope)


def visible_snoozes(user):
    """Snoozes of the deals ``user`` sees (a deal's snooze is as visible as the deal)."""
    qs = Snooze.objects.filter(workspace_id=user.workspace_id)
    if is_assistant(user):
        return qs.filter(deal__assistant_id=user.id)
    scope = owner_scope(user)
    if scope is None:
        return qs
    return qs.filter(deal__owner_id__in=scope)


def access_snooze(user, snooze_id, *, for_update: bool = False) -> Snooze:
    try:
        snooze = visible_snoozes(user).select_related("deal").get(id=int(snooze_id))
    except (Snooze.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if for_update and not may_write(user):
        raise Http404
    return snooze
