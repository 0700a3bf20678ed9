"""Communications over the API: parse → access → action → schema."""

from __future__ import annotations

from ninja import Query, Router, Status

from voronka.api.references import pick
from voronka.api.schemas import READ_ERRORS, WRITE_ERRORS, PathId, page
from voronka.clients.access import visible_contacts
from voronka.sales.access import visible_deals

from .access import access_communication, visible_communications
from .actions import do_comment_communication, do_log_communication
from .schemas import (
    CommentIn,
    CommunicationFilters,
    CommunicationIn,
    CommunicationOut,
    CommunicationPage,
)

router = Router(tags=["communications"])


@router.get("/communications", response={200: CommunicationPage, **READ_ERRORS})
def list_communications(request, filters: Query[CommunicationFilters]):
    """The communications the caller sees, newest first."""
    qs = visible_communications(request.auth)
    for name in ("deal_id", "contact_id", "author_id", "kind"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    if filters.since is not None:
        qs = qs.filter(occurred_at__gte=filters.since)
    return page(qs.order_by("-occurred_at", "-id"), filters)


@router.get("/communications/{communication_id}", response={200: CommunicationOut, **READ_ERRORS})
def get_communication(request, communication_id: PathId):
    return access_communication(request.auth, communication_id)


@router.post("/communications", response={201: CommunicationOut, **WRITE_ERRORS})
def log_communication(request, payload: CommunicationIn):
    """Put a call, message, email, meeting or note on a deal's or contact's timeline."""
    user = request.auth
    values = payload.model_dump(exclude_unset=True)
    values["deal"] = pick(visible_deals(user), "deal_id", values.pop("deal_id", None))
    values["contact"] = pick(visible_contacts(user), "contact_id", values.pop("contact_id", None))
    return Status(201, do_log_communication(user, **values))


@router.patch(
    "/communications/{communication_id}", response={200: CommunicationOut, **WRITE_ERRORS}
)
def comment_communication(request, communication_id: PathId, payload: CommentIn):
    """Write (or rewrite) the comment: what was discussed and agreed. Nothing else changes."""
    user = request.auth
    comm = access_communication(user, communication_id)
    return do_comment_communication(user, comm, comment=payload.comment)
