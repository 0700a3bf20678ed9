"""Settings of the people, for the head of sales and the owner: users and teams.

Everyone else gets 404 on these pages (and the actions refuse them with ``NotAllowed``).
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from voronka.core.errors import DomainError
from voronka.core.history import history_page
from voronka.core.listing import paginate

from . import actions
from .access import access_manageable_user, access_team, manageable_users, visible_teams
from .models import Role, Team, User
from .settings_forms import EditUserForm, NewUserForm, TeamForm, UserFilterForm

USER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "extension",
    "role",
    "team",
    "language",
    "timezone",
)


def settings_page(view):
    """Only the head of sales and the owner reach a settings page; for anyone else it is absent."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.may_configure:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _status(*forms) -> int:
    return 422 if any(f.is_bound and f.errors for f in forms) else 200


def _team_leads(actor):
    return manageable_users(actor).filter(is_active=True, role__in=[Role.SENIOR, Role.HEAD])


# --- Users -----------------------------------------------------------------------------------


@settings_page
def users(request):
    """Everyone in the workspace with role, team, access and last sign-in; filtered and paged."""
    actor = request.user
    teams = list(visible_teams(actor))
    filters = UserFilterForm(request.GET or None, teams=teams)
    qs = manageable_users(actor)
    state = ""
    if filters.is_valid():
        data = filters.cleaned_data
        state = data["state"]
        if data["q"].strip():
            q = data["q"].strip()
            qs = qs.filter(
                Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
            )
        if data["role"]:
            qs = qs.filter(role=data["role"])
        if data["team"] == "none":
            qs = qs.filter(team__isnull=True)
        elif data["team"]:
            qs = qs.filter(team_id=int(data["team"]))
    if state == "off":
        qs = qs.filter(is_active=False)
    elif state != "all":
        qs = qs.filter(is_active=True)
    page = paginate(
        qs.order_by("last_name", "first_name", "username", "id"), request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/settings/users.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


@settings_page
def user_create(request):
    """Add a person: login, name, role, team, preferences and an initial password."""
    actor = request.user
    teams = visible_teams(actor)
    form = NewUserForm(
        request.POST or None,
        actor=actor,
        teams=teams,
        initial={"role": Role.MANAGER, "language": actor.language, "timezone": actor.timezone},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = actions.do_create_user(
                actor,
                username=data["username"],
                password=data["password"],
                **{k: data[k] for k in USER_FIELDS},
            )
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(
                request,
                _("%(name)s can now sign in as “%(login)s”.")
                % {"name": user, "login": user.username},
            )
            return redirect("accounts:settings_users")
    return render(request, "accounts/settings/user_form.html", {"form": form}, status=_status(form))


@settings_page
def user_edit(request, user_id: int):
    """Change a person's role, team, preferences or access; switching off asks first."""
    actor = request.user
    person = access_manageable_user(actor, user_id)
    editing_self = person.id == actor.id
    locked = person.role == Role.OWNER and actor.role != Role.OWNER
    initial = {k: getattr(person, k) for k in USER_FIELDS} | {"is_active": person.is_active}
    form = EditUserForm(
        request.POST if request.method == "POST" and not locked else None,
        actor=actor,
        teams=visible_teams(actor),
        current_role=person.role,
        editing_self=editing_self,
        initial=initial,
    )
    confirm_switch_off = False
    if form.is_bound and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if v != initial[k]}
        switching_off = changes.get("is_active") is False
        if switching_off and request.POST.get("confirmed") != "switch-off":
            confirm_switch_off = True
        else:
            try:
                if changes:
                    actions.do_update_user(actor, person, **changes)
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                if switching_off:
                    messages.success(request, _("%(name)s is switched off.") % {"name": person})
                else:
                    messages.success(request, _("%(name)s saved.") % {"name": person})
                return redirect("accounts:settings_users")
    status = _status(form)
    if locked and request.method == "POST":
        status = 403
    return render(
        request,
        "accounts/settings/user_form.html",
        {
            "form": form,
            "person": person,
            "locked": locked,
            "editing_self": editing_self,
            "confirm_switch_off": confirm_switch_off,
            "history": history_page(
                [User.history.filter(id=person.id, workspace_id=person.workspace_id)],
                request.GET.get("history"),
            ),
            "history_param": "history",
        },
        status=status,
    )


# --- Teams -----------------------------------------------------------------------------------


@settings_page
def teams(request):
    """The teams with their leads and members, and a form to create one."""
    actor = request.user
    form = TeamForm(request.POST or None, leads=_team_leads(actor))
    if request.method == "POST" and form.is_valid():
        try:
            team = actions.do_create_team(actor, **form.cleaned_data)
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(
                request,
                _("Team “%(name)s” created. Add people to it on their user pages.")
                % {"name": team.name},
            )
            return redirect("accounts:settings_teams")
    members = manageable_users(actor).filter(is_active=True).order_by("last_name", "first_name")
    qs = visible_teams(actor).prefetch_related(Prefetch("members", queryset=members))
    page = paginate(qs.order_by("name", "id"), request.GET.get("page"))
    return render(
        request,
        "accounts/settings/teams.html",
        {"form": form, "page": page},
        status=_status(form),
    )


@settings_page
def team_edit(request, team_id: int):
    """Rename a team or give it another lead; its members and its history."""
    actor = request.user
    team = access_team(actor, team_id)
    form = TeamForm(
        request.POST or None,
        leads=_team_leads(actor),
        initial={"name": team.name, "lead": team.lead},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_team(actor, team, **form.cleaned_data)
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("Team “%(name)s” saved.") % {"name": team.name})
            return redirect("accounts:settings_teams")
    members = manageable_users(actor).filter(team=team).order_by("-is_active", "last_name", "id")
    return render(
        request,
        "accounts/settings/team_form.html",
        {
            "form": form,
            "team": team,
            "members": members,
            "history": history_page(
                [Team.history.filter(id=team.id, workspace_id=team.workspace_id)],
                request.GET.get("history"),
            ),
            "history_param": "history",
        },
        status=_status(form),
    )
