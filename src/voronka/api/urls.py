"""The API object, its error handling, and the routers of every app."""

from typing import Literal

from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from voronka.accounts.access import visible_users
from voronka.accounts.models import Role
from voronka.activities.api import router as tasks_router
from voronka.clients.api import router as clients_router
from voronka.core.errors import DomainError, NotAllowed
from voronka.inbox.api import router as inbox_router
from voronka.sales.api import router as sales_router

from .auth import BearerToken
from .schemas import READ_ERRORS, Page, QueryId, Window, page


class VoronkaAPI(NinjaAPI):
    """Every JSON response is made here: it names the caller's language, and the thread's
    language goes back to what it was before the token switched it."""

    def create_response(self, request, data, *args, **kwargs):
        try:
            response = super().create_response(request, data, *args, **kwargs)
        finally:
            previous = getattr(request, "language_before_token", None)
            if previous is not None:
                translation.activate(previous)
        if getattr(request, "auth", None) is not None:
            response.headers.setdefault("Content-Language", request.auth.language)
        return response


api = VoronkaAPI(
    title="Voronka API",
    version="1",
    urls_namespace="api",
    auth=BearerToken(),
    docs_url="/docs",
)


#: The actions name the objects they take ("company"); the API names the ids it takes.
API_FIELD_NAMES = {
    name: f"{name}_id"
    for name in (
        "company",
        "contact",
        "owner",
        "assistant",
        "pipeline",
        "stage",
        "deal",
        "assignee",
    )
}


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    status = 403 if isinstance(exc, NotAllowed) else 422
    body = exc.as_dict()
    body["fields"] = {API_FIELD_NAMES.get(k, k): v for k, v in body["fields"].items()}
    return api.create_response(request, body, status=status)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    fields = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ())]
        # ninja prefixes the place (body, query, path) and the parameter holding the schema.
        if loc and loc[0] in ("body", "query", "path"):
            loc = loc[1:]
        if loc and loc[0] in ("payload", "filters", "window"):
            loc = loc[1:]
        fields[".".join(loc) or "body"] = err.get("msg", "invalid")
    return api.create_response(
        request,
        {"code": "invalid", "message": _("Check the fields."), "fields": fields},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return api.create_response(
        request,
        {
            "code": "unauthorized",
            "message": "Send a valid token: Authorization: Bearer <token>.",
            "fields": {},
        },
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(
        request, {"code": "bad_request", "message": str(exc), "fields": {}}, status=exc.status_code
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(
        request, {"code": "not_found", "message": _("Not found."), "fields": {}}, status=404
    )


class Me(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    role: str
    team_id: int | None
    team: str | None
    language: str
    timezone: str


@api.get("/me", response={200: Me, **READ_ERRORS}, tags=["people"])
def me(request):
    """The caller: who the token belongs to."""
    u = request.auth
    return Me(
        id=u.id,
        username=u.username,
        first_name=u.first_name,
        last_name=u.last_name,
        role=u.role,
        team_id=u.team_id,
        team=u.team.name if u.team_id else None,
        language=u.language,
        timezone=u.timezone,
    )


class Colleague(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    role: str
    team_id: int | None


class ColleaguePage(Page):
    items: list[Colleague]


class ColleagueFilters(Window):
    role: Literal[tuple(Role.values)] = None
    team_id: QueryId = None


@api.get("/users", response={200: ColleaguePage, **READ_ERRORS}, tags=["people"])
def list_users(request, filters: Query[ColleagueFilters]):
    """The active people of the caller's workspace, to name as owners and to filter by."""
    qs = visible_users(request.auth)
    if filters.role is not None:
        qs = qs.filter(role=filters.role)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    return page(qs.order_by("username", "id"), filters)


api.add_router("/", clients_router)
api.add_router("/", sales_router)
api.add_router("/", tasks_router)
api.add_router("/", inbox_router)
api.add_router("/", "voronka.inbox.conversations_api.router")
api.add_router("/", "voronka.control.api.router")
api.add_router("/", "voronka.control.meeting_api.router")
api.add_router("/", "voronka.planning.api.router")
api.add_router("/", "voronka.analytics.api.router")
api.add_router("/settings", "voronka.sales.settings_api.router")
api.add_router("/settings", "voronka.inbox.channels_api.router")
