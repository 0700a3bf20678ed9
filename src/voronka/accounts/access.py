"""Who may see whom: the owner scope every other ``visible_*`` function builds on.

A manager sees their own records; a senior their team's (the teams they lead) and their own;
the owner, the head and the quality controller the whole workspace; an assistant only what is
handed to them (the sales apps ask ``is_assistant`` for that).
"""

from django.http import Http404

from .models import Role, Team, User

#: Roles that read the whole workspace. The quality controller reads everything to review it but
#: may change nothing (see ``may_write``).
WORKSPACE_READERS = frozenset({Role.OWNER, Role.HEAD, Role.QC})


def owner_scope(user: User) -> frozenset[int] | None:
    """The ids of the people whose records ``user`` sees, or None for the whole workspace."""
    cached = getattr(user, "_voronka_owner_scope", False)
    if cached is not False:
        return cached
    if user.role in WORKSPACE_READERS:
        scope = None
    elif user.role == Role.SENIOR:
        ids = set(
            User.objects.filter(workspace_id=user.workspace_id, team__lead_id=user.id).values_list(
                "id", flat=True
            )
        )
        ids.add(user.id)
        scope = frozenset(ids)
    else:
        scope = frozenset({user.id})
    user._voronka_owner_scope = scope
    return scope


def is_assistant(user: User) -> bool:
    return user.role == Role.ASSISTANT


def may_write(user: User) -> bool:
    """The quality controller reviews; everyone else in sales may change what they see."""
    return user.is_active and user.role != Role.QC


def visible_users(user: User):
    """Colleagues ``user`` may see and filter by: everyone in the workspace is listed by name."""
    return User.objects.filter(workspace_id=user.workspace_id, is_active=True).select_related(
        "team"
    )


def assignable_users(user: User):
    """People ``user`` may hand a client, deal or task to."""
    qs = User.objects.filter(
        workspace_id=user.workspace_id,
        is_active=True,
        role__in=[Role.HEAD, Role.SENIOR, Role.MANAGER, Role.OWNER],
    )
    scope = owner_scope(user)
    if scope is not None:
        qs = qs.filter(id__in=scope)
    return qs.order_by("first_name", "last_name", "username")


def access_user(user: User, user_id: int) -> User:
    try:
        return visible_users(user).get(id=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def manageable_users(user: User):
    """Everyone in the workspace, switched-off people included, for those who manage people."""
    if not user.may_configure:
        return User.objects.none()
    return User.objects.filter(workspace_id=user.workspace_id).select_related("team")


def access_manageable_user(user: User, user_id) -> User:
    try:
        return manageable_users(user).get(id=int(user_id))
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def visible_teams(user: User):
    """The workspace's teams: every colleague may see their names and leads."""
    return Team.objects.filter(workspace_id=user.workspace_id).select_related("lead")


def access_team(user: User, team_id) -> Team:
    try:
        return visible_teams(user).get(id=int(team_id))
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
