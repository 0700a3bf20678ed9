"""The only way tasks are loaded on behalf of a person."""

from django.db.models import Q
from django.http import Http404

from voronka.accounts.access import is_assistant, may_write, owner_scope
from voronka.accounts.models import Role

from .models import Task


def visible_tasks(user):
    qs = Task.objects.filter(workspace_id=user.workspace_id)
    if is_assistant(user):
        return qs.filter(Q(owner_id=user.id) | Q(deal__assistant_id=user.id))
    scope = owner_scope(user)
    if scope is None:
        return qs
    return qs.filter(Q(owner_id__in=scope) | Q(deal__owner_id__in=scope))


def access_task(user, task_id, *, for_update: bool = False) -> Task:
    try:
        task = visible_tasks(user).select_related("owner", "deal", "contact").get(id=int(task_id))
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if for_update and not may_write(user):
        raise Http404
    return task


#: Who flags calls for the planning meeting and clears the flags: those who run it and review.
REVIEWERS = frozenset({Role.OWNER, Role.HEAD, Role.SENIOR, Role.QC})


def may_flag_for_review(user) -> bool:
    return user.is_active and user.role in REVIEWERS


def visible_review_flags(user):
    """Flags on the calls ``user`` sees (a flag is as visible as its call)."""
    from voronka.inbox.access import visible_communications

    from .models import ReviewFlag

    return ReviewFlag.objects.filter(
        workspace_id=user.workspace_id,
        communication__in=visible_communications(user).values("id"),
    )
