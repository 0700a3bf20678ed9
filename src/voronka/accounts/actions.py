"""Every change to people, teams and API tokens goes through one of these functions."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from voronka.core.errors import Invalid, NotAllowed

from .models import ApiToken, Role, Team, User, hash_token

USER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "role",
    "team",
    "language",
    "timezone",
    "phone",
    "extension",
    "is_active",
)


def _check_configurer(actor) -> None:
    if not actor.may_configure:
        raise NotAllowed(_("Only the head of sales and the owner manage users and teams."))


@transaction.atomic
def do_create_user(
    actor, *, username: str, password: str, role: str = Role.MANAGER, **fields
) -> User:
    """Add a person to the actor's workspace."""
    if actor is not None:
        _check_configurer(actor)
        workspace_id = actor.workspace_id
    else:
        workspace_id = fields.pop("workspace_id")
    username = (username or "").strip()
    if not username:
        raise Invalid(_("Give the user a login."), {"username": _("This field is required.")})
    if User.objects.filter(username__iexact=username).exists():
        raise Invalid(_("This login is taken."), {"username": _("This login is taken.")})
    if role not in Role.values:
        raise Invalid(_("Unknown role."), {"role": _("Choose a role.")})
    if actor is not None and role == Role.OWNER and actor.role != Role.OWNER:
        raise NotAllowed(_("Only an owner may add another owner."))
    user = User(username=username, role=role, workspace_id=workspace_id, **fields)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), {"password": " ".join(exc.messages)}) from None
    user.set_password(password)
    user._history_user = actor
    user.save()
    return user


@transaction.atomic
def do_update_user(actor, user: User, **changes) -> User:
    """Change a person's role, team, language, …; people may change their own preferences."""
    own_prefs = {"first_name", "last_name", "email", "language", "timezone", "phone"}
    if not (actor.id == user.id and set(changes) <= own_prefs):
        _check_configurer(actor)
    if user.role == Role.OWNER and actor.role != Role.OWNER:
        raise NotAllowed(_("Only an owner may change an owner's account."))
    for k, v in changes.items():
        if k not in USER_FIELDS:
            raise Invalid(_("Unknown fields."), {k: _("Unknown field.")})
        if k == "team" and v is not None and v.workspace_id != actor.workspace_id:
            raise Invalid(_("Not found."), {"team": _("Not found.")})
        if k == "role" and v == Role.OWNER and actor.role != Role.OWNER:
            raise NotAllowed(_("Only an owner may make someone an owner."))
        setattr(user, k, v)
    if "is_active" in changes and not changes["is_active"] and user.id == actor.id:
        raise Invalid(_("You cannot switch off your own access."), {"is_active": _("This is you.")})
    try:
        user.full_clean(exclude=["password", "username", "workspace"])
    except ValidationError as exc:
        fields = {k: " ".join(v) for k, v in exc.message_dict.items()}
        raise Invalid(_("Check the fields."), fields) from None
    user._history_user = actor
    user.save()
    return user


@transaction.atomic
def do_change_password(actor, *, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password):
        raise Invalid(_("The current password is wrong."), {"old_password": _("Wrong password.")})
    try:
        validate_password(new_password, actor)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), {"new_password": " ".join(exc.messages)}) from None
    actor.set_password(new_password)
    actor.save(update_fields=["password"])


@transaction.atomic
def do_create_team(actor, *, name: str, lead: User | None = None) -> Team:
    _check_configurer(actor)
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Give the team a name."), {"name": _("This field is required.")})
    if Team.objects.filter(workspace_id=actor.workspace_id, name=name).exists():
        raise Invalid(
            _("A team with this name exists."), {"name": _("A team with this name exists.")}
        )
    if lead is not None and lead.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"lead": _("Not found.")})
    team = Team(workspace_id=actor.workspace_id, name=name, lead=lead)
    team._history_user = actor
    team.save()
    return team


@transaction.atomic
def do_update_team(actor, team: Team, **changes) -> Team:
    _check_configurer(actor)
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise Invalid(_("Give the team a name."), {"name": _("This field is required.")})
        taken = Team.objects.filter(workspace_id=team.workspace_id, name=changes["name"])
        if taken.exclude(id=team.id).exists():
            raise Invalid(
                _("A team with this name exists."), {"name": _("A team with this name exists.")}
            )
    lead = changes.get("lead")
    if lead is not None and lead.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"lead": _("Not found.")})
    for k, v in changes.items():
        if k not in ("name", "lead"):
            raise Invalid(_("Unknown fields."), {k: _("Unknown field.")})
        setattr(team, k, v)
    team._history_user = actor
    team.save()
    return team


@transaction.atomic
def do_create_token(actor, user: User, *, name: str) -> tuple[ApiToken, str]:
    """Issue an API token for ``user``; the raw value is returned once and never stored."""
    if actor is not None and actor.id != user.id:
        _check_configurer(actor)
    name = (name or "").strip() or _("API token")
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(
        workspace_id=user.workspace_id,
        user=user,
        name=name[:100],
        key_hash=hash_token(raw),
        hint=raw[: len(ApiToken.PREFIX) + 4],
    )
    return token, raw


@transaction.atomic
def do_revoke_token(actor, token: ApiToken) -> None:
    if actor.id != token.user_id:
        _check_configurer(actor)
    if token.revoked_at is None:
        token.revoke()
