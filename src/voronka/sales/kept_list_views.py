"""Settings pages of the lists the head keeps by name: products and client segments.

Both pages work alike (``sales.kept_lists``): add, rename, reorder, archive or restore, delete
one nothing uses, and the history. Only the head of sales and the owner reach them; for anyone
else they are absent (404), like every settings page. Each form posts back to the page with a
``form`` field naming what is submitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from voronka.accounts.settings_views import settings_page
from voronka.clients import actions as client_actions
from voronka.clients.models import Company, Segment
from voronka.core.errors import DomainError
from voronka.core.history import history_page
from voronka.core.listing import capped_count

from . import actions
from .models import Deal, Product
from .settings_forms import ProductForm, SegmentForm
from .settings_views import _posted_id, _stepped


@dataclass(frozen=True)
class Entry:
    """A row of the list with how many deals or companies have it (capped: "10 000+")."""

    obj: object
    count: int
    capped: bool


@dataclass(frozen=True)
class KeptList:
    """What differs between the product page and the segment page."""

    model: type
    form: type
    url_name: str
    template: str
    create: Callable
    update: Callable
    reorder: Callable
    delete: Callable
    #: The rows that use an entry: deals of a product, companies of a segment.
    usage: Callable


PRODUCTS = KeptList(
    model=Product,
    form=ProductForm,
    url_name="sales:settings_products",
    template="sales/settings/products.html",
    create=actions.do_create_product,
    update=actions.do_update_product,
    reorder=actions.do_reorder_products,
    delete=actions.do_delete_product,
    usage=lambda entry: Deal.objects.filter(workspace_id=entry.workspace_id, product=entry),
)

SEGMENTS = KeptList(
    model=Segment,
    form=SegmentForm,
    url_name="sales:settings_segments",
    template="sales/settings/segments.html",
    create=client_actions.do_create_segment,
    update=client_actions.do_update_segment,
    reorder=client_actions.do_reorder_segments,
    delete=client_actions.do_delete_segment,
    usage=lambda entry: Company.objects.filter(workspace_id=entry.workspace_id, segment=entry),
)


def _success(which: str, name: str) -> str:
    return {
        "create": _("“%(name)s” added."),
        "rename": _("Renamed to “%(name)s”."),
        "archive": _("“%(name)s” archived: it is no longer offered."),
        "unarchive": _("“%(name)s” restored."),
        "delete": _("“%(name)s” deleted."),
    }[which] % {"name": name}


def _kept_list_page(request, kind: KeptList):
    user = request.user
    rows = list(
        kind.model.objects.filter(workspace_id=user.workspace_id).order_by("position", "id")
    )
    form = kind.form()
    row_error: tuple[int, str] | None = None
    which = request.POST.get("form") if request.method == "POST" else None
    entry = {r.id: r for r in rows}.get(_posted_id(request)) if which else None
    url = reverse(kind.url_name)
    if which == "create":
        form = kind.form(request.POST)
        if form.is_valid():
            try:
                created = kind.create(user, name=form.cleaned_data["name"])
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _success("create", created.name))
                return redirect(url + "#list")
    elif which in ("rename", "archive", "unarchive", "delete") and entry is not None:
        try:
            if which == "rename":
                entry = kind.update(user, entry, name=request.POST.get("name", ""))
            elif which == "delete":
                kind.delete(user, entry)
            else:
                entry = kind.update(user, entry, is_archived=which == "archive")
        except DomainError as exc:
            row_error = (entry.id, str(exc))
        else:
            messages.success(request, _success(which, entry.name))
            return redirect(url + "#list")
    elif which == "move":
        active = [r.id for r in rows if not r.is_archived]
        order = _stepped(active, request.POST.get("move", ""))
        if order is not None:
            kind.reorder(user, order + [r.id for r in rows if r.is_archived])
        return redirect(url + "#list")
    elif which:
        raise Http404
    entries = [Entry(r, *capped_count(kind.usage(r))) for r in rows]
    history = history_page(
        [kind.model.history.filter(workspace_id=user.workspace_id)],
        request.GET.get("history"),
        subject=lambda record: f"«{record.name}»",
    )
    return render(
        request,
        kind.template,
        {
            "active": [e for e in entries if not e.obj.is_archived],
            "archived": [e for e in entries if e.obj.is_archived],
            "form": form,
            "row_error_id": row_error[0] if row_error else None,
            "row_error": row_error[1] if row_error else "",
            "rename_value": request.POST.get("name", "") if row_error else "",
            "history": history,
            "history_param": "history",
        },
        status=422 if row_error or (form.is_bound and form.errors) else 200,
    )


@settings_page
def products(request):
    """The products deals are sold under: add, rename, reorder, archive, delete; the history."""
    return _kept_list_page(request, PRODUCTS)


@settings_page
def segments(request):
    """The client segments companies belong to: add, rename, reorder, archive, delete."""
    return _kept_list_page(request, SEGMENTS)
