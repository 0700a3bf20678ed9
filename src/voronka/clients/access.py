"""The only way companies and contacts are loaded on behalf of a person."""

from django.db.models import Q
from django.http import Http404

from voronka.accounts.access import is_assistant, may_write, owner_scope

from .models import Company, Contact


def _client_filter(user, deal_relation: str) -> Q:
    if is_assistant(user):
        # An assistant sees the clients of the deals handed to them, nothing else.
        return Q(**{f"{deal_relation}__assistant_id": user.id})
    scope = owner_scope(user)
    if scope is None:
        return Q()
    return Q(owner_id__in=scope)


def visible_companies(user):
    qs = Company.objects.filter(workspace_id=user.workspace_id).filter(
        _client_filter(user, "deals")
    )
    return qs.distinct() if is_assistant(user) else qs


def visible_contacts(user):
    qs = Contact.objects.filter(workspace_id=user.workspace_id).filter(
        _client_filter(user, "deals")
    )
    return qs.distinct() if is_assistant(user) else qs


def access_company(user, company_id, *, for_update: bool = False) -> Company:
    try:
        company = visible_companies(user).select_related("owner").get(id=int(company_id))
    except (Company.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if for_update and not may_write(user):
        raise Http404
    return company


def access_contact(user, contact_id, *, for_update: bool = False) -> Contact:
    try:
        contact = visible_contacts(user).select_related("owner", "company").get(id=int(contact_id))
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if for_update and not may_write(user):
        raise Http404
    return contact
