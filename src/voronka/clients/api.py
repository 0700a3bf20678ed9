"""Companies and contacts over the API: parse → access → action → schema."""

from __future__ import annotations

from django.db.models import Q
from ninja import Query, Router, Status

from voronka.accounts.access import assignable_users
from voronka.api.references import pick
from voronka.api.schemas import READ_ERRORS, WRITE_ERRORS, PathId, page

from .access import access_company, access_contact, visible_companies, visible_contacts
from .actions import do_create_company, do_create_contact, do_update_company, do_update_contact
from .models import Segment
from .phones import normalise_phone
from .schemas import (
    CompanyFilters,
    CompanyIn,
    CompanyOut,
    CompanyPage,
    CompanyPatch,
    ContactFilters,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    SegmentFilters,
    SegmentPage,
)

router = Router(tags=["clients"])


@router.get("/companies", response={200: CompanyPage, **READ_ERRORS})
def list_companies(request, filters: Query[CompanyFilters]):
    """The companies the caller sees, by name."""
    qs = visible_companies(request.auth)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.segment_id is not None:
        qs = qs.filter(segment_id=filters.segment_id)
    return page(qs.order_by("name", "id"), filters)


@router.get("/companies/{company_id}", response={200: CompanyOut, **READ_ERRORS})
def get_company(request, company_id: PathId):
    return access_company(request.auth, company_id)


def _segment(user, values: dict, company=None) -> dict:
    """``segment_id`` → the segment: archived ones are not offered (refused like an unknown id)
    unless the company has it already."""
    if "segment_id" in values:
        current = company.segment if company is not None else None
        offered = Segment.objects.filter(workspace_id=user.workspace_id, is_archived=False)
        values["segment"] = pick(offered, "segment_id", values.pop("segment_id"), keep=current)
    return values


@router.get("/segments", response={200: SegmentPage, **READ_ERRORS})
def list_segments(request, filters: Query[SegmentFilters]):
    """The client segments the head keeps, in the order the company form offers them (for
    everyone in the workspace: names only)."""
    qs = Segment.objects.filter(workspace_id=request.auth.workspace_id)
    if not filters.include_archived:
        qs = qs.filter(is_archived=False)
    return page(qs.order_by("position", "id"), filters)


@router.post("/companies", response={201: CompanyOut, **WRITE_ERRORS})
def create_company(request, payload: CompanyIn):
    """Create a company; its owner is the caller unless ``owner_id`` names a colleague."""
    user = request.auth
    values = _segment(user, payload.model_dump(exclude_unset=True))
    owner = pick(assignable_users(user), "owner_id", values.pop("owner_id", None))
    return Status(201, do_create_company(user, owner=owner, **values))


@router.patch("/companies/{company_id}", response={200: CompanyOut, **WRITE_ERRORS})
def update_company(request, company_id: PathId, payload: CompanyPatch):
    user = request.auth
    company = access_company(user, company_id)
    changes = _segment(user, payload.model_dump(exclude_unset=True), company)
    if "owner_id" in changes:
        changes["owner"] = pick(
            assignable_users(user), "owner_id", changes.pop("owner_id"), keep=company.owner
        )
    return do_update_company(user, company, **changes)


def _contact_search(q: str) -> Q:
    condition = Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
    if sum(ch.isdigit() for ch in q) >= 5:
        e164 = normalise_phone(q)
        if e164:
            condition |= Q(phone=e164) | Q(whatsapp=e164)
    return condition


@router.get("/contacts", response={200: ContactPage, **READ_ERRORS})
def list_contacts(request, filters: Query[ContactFilters]):
    """The contacts the caller sees, by last and first name."""
    qs = visible_contacts(request.auth)
    if filters.q:
        qs = qs.filter(_contact_search(filters.q))
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.company_id is not None:
        qs = qs.filter(company_id=filters.company_id)
    return page(qs.order_by("last_name", "first_name", "id"), filters)


@router.get("/contacts/{contact_id}", response={200: ContactOut, **READ_ERRORS})
def get_contact(request, contact_id: PathId):
    return access_contact(request.auth, contact_id)


@router.post("/contacts", response={201: ContactOut, **WRITE_ERRORS})
def create_contact(request, payload: ContactIn):
    """Create a contact; phones in any common notation are stored in E.164."""
    user = request.auth
    values = payload.model_dump(exclude_unset=True)
    owner = pick(assignable_users(user), "owner_id", values.pop("owner_id", None))
    if "company_id" in values:
        values["company"] = pick(visible_companies(user), "company_id", values.pop("company_id"))
    return Status(201, do_create_contact(user, owner=owner, **values))


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **WRITE_ERRORS})
def update_contact(request, contact_id: PathId, payload: ContactPatch):
    user = request.auth
    contact = access_contact(user, contact_id)
    changes = payload.model_dump(exclude_unset=True)
    if "owner_id" in changes:
        changes["owner"] = pick(
            assignable_users(user), "owner_id", changes.pop("owner_id"), keep=contact.owner
        )
    if "company_id" in changes:
        changes["company"] = pick(
            visible_companies(user), "company_id", changes.pop("company_id"), keep=contact.company
        )
    return do_update_contact(user, contact, **changes)
