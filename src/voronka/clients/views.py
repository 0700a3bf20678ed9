"""Pages of companies and contacts: lists, a page per client, forms, duplicate warnings."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from voronka.accounts.access import assignable_users, may_write
from voronka.activities.access import visible_tasks
from voronka.core.errors import DomainError
from voronka.core.history import history_page
from voronka.core.listing import paginate
from voronka.inbox.access import visible_communications
from voronka.sales.access import visible_deals

from .access import access_company, access_contact, visible_companies, visible_contacts
from .actions import (
    do_create_company,
    do_create_contact,
    do_update_company,
    do_update_contact,
    find_duplicates,
)
from .forms import CompanyFilterForm, CompanyForm, ContactFilterForm, ContactForm
from .phones import normalise_phone

COMPANY_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
}
CONTACT_SORTS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
}
#: How many distinct cities the city filter offers.
CITY_CHOICES_LIMIT = 300
RELATED_LIMIT = 50
RECENT_COMMUNICATIONS = 20


def may_create_clients(user) -> bool:
    """Whoever may write and has someone to give a client to (an assistant does not)."""
    return may_write(user) and assignable_users(user).exists()


def _filters(form) -> dict:
    """The valid filter values; a bad one is ignored rather than breaking the list."""
    if not form.is_bound:
        return {}
    form.is_valid()
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


def _phone_match(text: str, *fields: str) -> Q | None:
    """Rows whose phone is ``text``: a whole number in any notation, or a run of its digits."""
    cond = Q()
    e164 = normalise_phone(text) if re.search(r"\d{3}", text) else None
    if e164:
        for field in fields:
            cond |= Q(**{field: e164})
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 5 and re.fullmatch(r"[\d\s()+\-]+", text):
        for field in fields:
            cond |= Q(**{f"{field}__contains": digits})
    return cond or None


def company_search(text: str) -> Q:
    cond = Q(name__icontains=text) | Q(email__icontains=text.lower())
    phone = _phone_match(text, "phone")
    if phone is not None:
        cond |= phone
    if text.isdigit():
        cond |= Q(inn__startswith=text)
    return cond


def contact_search(text: str) -> Q:
    """Every word in the first or last name; or the phone (any notation); or the email."""
    by_name = Q()
    for word in text.split():
        by_name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    cond = by_name | Q(email__icontains=text.lower())
    phone = _phone_match(text, "phone", "whatsapp")
    if phone is not None:
        cond |= phone
    return cond


# Lists -------------------------------------------------------------------------------------


@login_required
def company_list(request):
    user = request.user
    base = visible_companies(user)
    cities = (base.exclude(city="").order_by("city").values_list("city", flat=True).distinct())[
        :CITY_CHOICES_LIMIT
    ]
    form = CompanyFilterForm(request.GET or None, user=user, cities=list(cities))
    f = _filters(form)
    qs = base.select_related("owner", "segment")
    if f.get("q", "").strip():
        qs = qs.filter(company_search(f["q"].strip()))
    if f.get("owner"):
        qs = qs.filter(owner=f["owner"])
    elif "owner" in form.errors:
        qs = qs.none()  # someone whose clients this person may not see: none of them, not all
    if f.get("city"):
        qs = qs.filter(city=f["city"])
    if f.get("segment"):
        qs = qs.filter(segment=f["segment"])
    qs = qs.order_by(*COMPANY_SORTS[f.get("sort") or "name"])
    page = paginate(qs, request.GET.get("page"))
    return render(
        request,
        "clients/company_list.html",
        {
            "form": form,
            "page": page,
            "filtered": bool({"q", "owner", "city", "segment"} & set(f)),
            "show_owner_filter": form.fields["owner"].queryset.count() > 1,
            "may_create": may_create_clients(user),
        },
    )


@login_required
def contact_list(request):
    user = request.user
    form = ContactFilterForm(request.GET or None, user=user)
    f = _filters(form)
    qs = visible_contacts(user).select_related("owner", "company")
    company = None
    if f.get("q", "").strip():
        qs = qs.filter(contact_search(f["q"].strip()))
    if f.get("owner"):
        qs = qs.filter(owner=f["owner"])
    elif "owner" in form.errors:
        qs = qs.none()  # someone whose clients this person may not see: none of them, not all
    if f.get("company"):
        company = visible_companies(user).filter(id=f["company"]).first()
        qs = qs.filter(company=company) if company else qs.none()
    if f.get("company_name", "").strip():
        qs = qs.filter(company__name__icontains=f["company_name"].strip())
    qs = qs.order_by(*CONTACT_SORTS[f.get("sort") or "name"])
    page = paginate(qs, request.GET.get("page"))
    # A contact may work at a company its viewer cannot open: such a company is not named.
    company_ids = {c.company_id for c in page.rows if c.company_id}
    linkable_companies = set(
        visible_companies(user).filter(id__in=company_ids).values_list("id", flat=True)
    )
    return render(
        request,
        "clients/contact_list.html",
        {
            "form": form,
            "page": page,
            "company": company,
            "linkable_companies": linkable_companies,
            "filtered": bool({"q", "owner", "company", "company_name"} & set(f)),
            "show_owner_filter": form.fields["owner"].queryset.count() > 1,
            "may_create": may_create_clients(user),
        },
    )


# One client --------------------------------------------------------------------------------


def _open_tasks(user, cond: Q):
    return (
        visible_tasks(user)
        .filter(cond, done_at__isnull=True)
        .select_related("owner", "deal", "contact")
        .order_by("due_at", "id")[:RELATED_LIMIT]
    )


def _communications(user, cond: Q):
    return (
        visible_communications(user)
        .filter(cond)
        .select_related("author", "deal", "contact")
        .order_by("-occurred_at", "-id")[:RECENT_COMMUNICATIONS]
    )


def _deals(user, cond: Q):
    # Open deals first, then the most recently closed.
    return (
        visible_deals(user)
        .filter(cond)
        .select_related("stage", "owner", "pipeline")
        .order_by(F("closed_at").desc(nulls_first=True), "-stage_entered_at", "-id")[:RELATED_LIMIT]
    )


def _linkable(user, tasks, comms) -> tuple[set[int], set[int]]:
    """Ids of the deals and contacts on these rows that ``user`` may open.

    A task or a communication can be visible through its owner while the deal or contact it
    points to belongs to someone else; those are shown without a name or a link.
    """
    deal_ids = {r.deal_id for r in (*tasks, *comms) if r.deal_id}
    contact_ids = {r.contact_id for r in (*tasks, *comms) if r.contact_id}
    deals = set(visible_deals(user).filter(id__in=deal_ids).values_list("id", flat=True))
    contacts = set(visible_contacts(user).filter(id__in=contact_ids).values_list("id", flat=True))
    return deals, contacts


def _new_deal_url(user, **params) -> str:
    """The deal form, prefilled with this client; empty when ``user`` may not create deals."""
    if not may_write(user):
        return ""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{reverse('sales:deal_create')}?{query}"


@login_required
def company_detail(request, company_id: int):
    user = request.user
    company = access_company(user, company_id)
    cond = Q(deal__company=company) | Q(contact__company=company)
    tasks = list(_open_tasks(user, cond))
    comms = list(_communications(user, cond))
    deal_ids, contact_ids = _linkable(user, tasks, comms)
    return render(
        request,
        "clients/company_detail.html",
        {
            "company": company,
            "contacts": visible_contacts(user)
            .filter(company=company)
            .select_related("owner")
            .order_by("last_name", "first_name", "id")[:RELATED_LIMIT],
            "deals": _deals(user, Q(company=company)),
            "tasks": tasks,
            "communications": comms,
            "linkable_deals": deal_ids,
            "linkable_contacts": contact_ids,
            "history": history_page([company.history.all()], request.GET.get("history")),
            "history_param": "history",
            "may_edit": may_write(user),
            "new_deal_url": _new_deal_url(user, company=company.id),
            "now": timezone.now(),
        },
    )


@login_required
def contact_detail(request, contact_id: int):
    user = request.user
    contact = access_contact(user, contact_id)
    company = None
    if contact.company_id:
        company = visible_companies(user).filter(id=contact.company_id).first()
    cond = Q(contact=contact) | Q(deal__contact=contact)
    tasks = list(_open_tasks(user, cond))
    comms = list(_communications(user, cond))
    deal_ids, contact_ids = _linkable(user, tasks, comms)
    # The zone meeting reminders use: the contact's own, else the workspace's default.
    client_zone = _zone_or(contact.timezone, user.workspace.timezone)
    return render(
        request,
        "clients/contact_detail.html",
        {
            "contact": contact,
            "company": company,
            "deals": _deals(user, Q(contact=contact)),
            "tasks": tasks,
            "communications": comms,
            "linkable_deals": deal_ids,
            "linkable_contacts": contact_ids,
            "whatsapp_digits": contact.whatsapp.lstrip("+"),
            "client_zone": client_zone,
            "client_now": timezone.localtime(timezone=ZoneInfo(client_zone)),
            "history": history_page([contact.history.all()], request.GET.get("history")),
            "history_param": "history",
            "may_edit": may_write(user),
            "new_deal_url": _new_deal_url(
                user, contact=contact.id, company=company.id if company else None
            ),
            "new_task_url": (
                f"{reverse('activities:task_create')}?{urlencode({'contact': contact.id})}"
                if may_write(user)
                else ""
            ),
            "now": timezone.now(),
        },
    )


def _zone_or(name: str, fallback: str) -> str:
    for candidate in (name, fallback):
        if candidate:
            try:
                ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return candidate
    return "UTC"


# Forms -------------------------------------------------------------------------------------


def _hide_confirmation(form) -> None:
    if "confirm_duplicates" in form.fields:
        form.fields["confirm_duplicates"].widget = forms.HiddenInput()


@login_required
def company_create(request):
    user = request.user
    if not may_create_clients(user):
        raise Http404
    form = CompanyForm(request.POST or None, user=user)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["confirm_duplicates"]:
            duplicates = find_duplicates(
                user, kind="company", name=data["name"], phone=data["phone"], email=data["email"]
            )
        if not duplicates:
            try:
                company = do_create_company(user, **{k: data[k] for k in form.model_fields})
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("Company «%(name)s» created.") % {"name": company})
                return redirect("clients:company_detail", company_id=company.id)
    if not duplicates:
        _hide_confirmation(form)
    return render(
        request,
        "clients/company_form.html",
        {"form": form, "duplicates": present_duplicates(duplicates), "company": None},
    )


@login_required
def company_edit(request, company_id: int):
    user = request.user
    company = access_company(user, company_id, for_update=True)
    form = CompanyForm(request.POST or None, user=user, instance=company)
    if request.method == "POST" and form.is_valid():
        try:
            changes = form.changes()
            if changes:
                do_update_company(user, company, **changes)
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("clients:company_detail", company_id=company.id)
    return render(
        request, "clients/company_form.html", {"form": form, "duplicates": None, "company": company}
    )


@login_required
def contact_create(request):
    user = request.user
    if not may_create_clients(user):
        raise Http404
    initial = {"owner": user.pk}
    company = None
    if request.GET.get("company"):
        company = visible_companies(user).filter(id=_int(request.GET["company"])).first()
        if company is not None:
            initial["company"] = company.pk
    form = ContactForm(request.POST or None, user=user, initial=initial)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["confirm_duplicates"]:
            duplicates = find_duplicates(
                user, kind="contact", phone=data["phone"], email=data["email"]
            )
        if not duplicates:
            try:
                contact = do_create_contact(user, **{k: data[k] for k in form.model_fields})
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("Contact «%(name)s» created.") % {"name": contact})
                return redirect("clients:contact_detail", contact_id=contact.id)
    if not duplicates:
        _hide_confirmation(form)
    return render(
        request,
        "clients/contact_form.html",
        {
            "form": form,
            "duplicates": present_duplicates(duplicates),
            "contact": None,
            "for_company": company,
        },
    )


@login_required
def contact_edit(request, contact_id: int):
    user = request.user
    contact = access_contact(user, contact_id, for_update=True)
    form = ContactForm(request.POST or None, user=user, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            changes = form.changes()
            if changes:
                do_update_contact(user, contact, **changes)
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("clients:contact_detail", contact_id=contact.id)
    return render(
        request,
        "clients/contact_form.html",
        {"form": form, "duplicates": None, "contact": contact, "for_company": None},
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Duplicate warnings ------------------------------------------------------------------------


def present_duplicates(found) -> dict:
    """What a warning may say: visible matches by name, invisible ones only by their reason."""
    visible = [d for d in found if d.visible]
    hidden_reasons = list(dict.fromkeys(d.reason for d in found if not d.visible))
    return {"visible": visible, "hidden_reasons": hidden_reasons, "any": bool(found)}


@login_required
def duplicates(request):
    """The htmx fragment under a create form: records that look like the one being typed."""
    kind = request.GET.get("kind")
    if kind not in ("company", "contact"):
        raise Http404
    found = find_duplicates(
        request.user,
        kind=kind,
        name=request.GET.get("name", "")[:255] if kind == "company" else "",
        phone=request.GET.get("phone", "")[:40],
        email=request.GET.get("email", "")[:254],
    )
    return render(
        request,
        "clients/_duplicates.html",
        {"duplicates": present_duplicates(found)},
    )
