"""The only way targets and plans are loaded on behalf of a person.

The owner and the head see every target and every manager's plan; a senior the targets of the
company, of the teams they lead and of their managers, with their group's rows only; a manager
the company's and their team's targets with their own row, and their own target. The assistant
has no plan: the planning pages are absent (404) for them.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from voronka.accounts.access import owner_scope
from voronka.accounts.models import Role

from .models import Scope, Target

PLAN_READERS = frozenset({Role.OWNER, Role.HEAD, Role.QC, Role.SENIOR, Role.MANAGER})


def plan_scope(user) -> frozenset[int] | None:
    """The managers whose plans ``user`` sees, or None for everyone; 404 for the assistant."""
    if not user.is_authenticated or user.role not in PLAN_READERS:
        raise Http404
    return owner_scope(user)


def visible_targets(user):
    scope = plan_scope(user)
    qs = Target.objects.filter(workspace_id=user.workspace_id)
    if scope is None:
        return qs
    teams = {user.team_id} if user.team_id else set()
    if user.role == Role.SENIOR:
        teams |= set(user.led_teams.values_list("id", flat=True))
    return qs.filter(
        Q(scope=Scope.COMPANY)
        | Q(scope=Scope.TEAM, team_id__in=teams)
        | Q(scope=Scope.MANAGER, manager_id__in=scope)
    )


def access_target(user, target_id) -> Target:
    try:
        return (
            visible_targets(user)
            .select_related("workspace", "team", "manager", "pipeline", "product")
            .get(id=int(target_id))
        )
    except (Target.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def sees_whole(user, target: Target) -> bool:
    """Whether ``user`` sees a target's whole (its amount, its arithmetic, its split) or only
    the rows of the managers in their scope: a manager sees their own row of a company or team
    target, a senior the whole of their team's target."""
    scope = plan_scope(user)
    if scope is None or target.scope == Scope.MANAGER:
        return True
    return target.scope == Scope.TEAM and user.role == Role.SENIOR
