"""The API object, its error handling, and the routers of every app."""

from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, ValidationError

from voronka.core.errors import DomainError, NotAllowed

from .auth import BearerToken

api = NinjaAPI(
    title="Voronka API",
    version="1",
    urls_namespace="api",
    auth=BearerToken(),
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    status = 403 if isinstance(exc, NotAllowed) else 422
    return api.create_response(request, exc.as_dict(), status=status)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    fields = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload")]
        fields[".".join(loc) or "body"] = err.get("msg", "invalid")
    return api.create_response(
        request,
        {"code": "invalid", "message": "The request does not match the schema.", "fields": fields},
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


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(
        request, {"code": "not_found", "message": "Not found.", "fields": {}}, status=404
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


@api.get("/me", response=Me, tags=["people"])
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
