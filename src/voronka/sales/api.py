"""Pipelines and deals over the API: parse → access → action → schema."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from voronka.accounts.access import assignable_users, visible_users
from voronka.api.references import pick
from voronka.api.schemas import READ_ERRORS, WRITE_ERRORS, PathId, Window, page
from voronka.clients.access import visible_companies, visible_contacts
from voronka.core.errors import Invalid

from .access import access_deal, access_pipeline, visible_deals, visible_pipelines, visible_stages
from .actions import do_create_deal, do_move_deal, do_update_deal
from .models import Product, StageChange
from .schemas import (
    DealFilters,
    DealIn,
    DealOut,
    DealPage,
    DealPatch,
    MoveIn,
    PipelineOut,
    PipelinePage,
    ProductFilters,
    ProductPage,
    StageChangePage,
)

router = Router(tags=["sales"])


def _with_stages(user, pipelines):
    return pipelines.prefetch_related(
        Prefetch("stages", queryset=visible_stages(user), to_attr="visible_stage_list")
    )


@router.get("/pipelines", response={200: PipelinePage, **READ_ERRORS})
def list_pipelines(request, window: Query[Window]):
    """The workspace's pipelines with their stages, in the order the funnel editor shows."""
    user = request.auth
    return page(_with_stages(user, visible_pipelines(user)), window)


@router.get("/pipelines/{pipeline_id}", response={200: PipelineOut, **READ_ERRORS})
def get_pipeline(request, pipeline_id: PathId):
    user = request.auth
    pipeline = access_pipeline(user, pipeline_id)
    pipeline.visible_stage_list = list(visible_stages(user).filter(pipeline_id=pipeline.id))
    return pipeline


_DEAL_SORTS = {
    "-stage_entered_at": ("-stage_entered_at", "-id"),
    "stage_entered_at": ("stage_entered_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-id": ("-id",),
    "id": ("id",),
}


@router.get("/deals", response={200: DealPage, **READ_ERRORS})
def list_deals(request, filters: Query[DealFilters]):
    """The deals the caller sees; newest in their stage first unless ``sort`` says otherwise."""
    qs = visible_deals(request.auth)
    for name in ("owner_id", "pipeline_id", "stage_id", "company_id", "contact_id", "product_id"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    if filters.q:
        qs = qs.filter(title__icontains=filters.q)
    if filters.updated_since is not None:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    return page(qs.order_by(*_DEAL_SORTS[filters.sort]), filters)


@router.get("/deals/{deal_id}", response={200: DealOut, **READ_ERRORS})
def get_deal(request, deal_id: PathId):
    return access_deal(request.auth, deal_id)


@router.get("/deals/{deal_id}/stage-changes", response={200: StageChangePage, **READ_ERRORS})
def list_stage_changes(request, deal_id: PathId, window: Query[Window]):
    """The deal's walk through the funnel, oldest first: from, to, when and who."""
    deal = access_deal(request.auth, deal_id)
    return page(StageChange.objects.filter(deal=deal).order_by("changed_at", "id"), window)


@router.get("/products", response={200: ProductPage, **READ_ERRORS})
def list_products(request, filters: Query[ProductFilters]):
    """The products the head keeps, in the order the deal form offers them (for everyone in the
    workspace: names only)."""
    qs = Product.objects.filter(workspace_id=request.auth.workspace_id)
    if not filters.include_archived:
        qs = qs.filter(is_archived=False)
    return page(qs.order_by("position", "id"), filters)


def _references(user, values: dict, deal=None) -> dict:
    """The objects behind the ``*_id`` fields sent, each from what the caller may see."""
    sources = {
        "company_id": ("company", visible_companies),
        "contact_id": ("contact", visible_contacts),
        "owner_id": ("owner", assignable_users),
        "assistant_id": ("assistant", visible_users),
    }
    for field, (name, visible) in sources.items():
        if field in values:
            current = getattr(deal, name) if deal is not None else None
            values[name] = pick(visible(user), field, values.pop(field), keep=current)
    if "product_id" in values:
        # Archived products are not offered: naming one is refused like an unknown id, unless
        # it is the deal's own product already.
        current = deal.product if deal is not None else None
        offered = Product.objects.filter(workspace_id=user.workspace_id, is_archived=False)
        values["product"] = pick(offered, "product_id", values.pop("product_id"), keep=current)
    return values


@router.post("/deals", response={201: DealOut, **WRITE_ERRORS})
def create_deal(request, payload: DealIn):
    """Create a deal at the pipeline's first open stage (or ``stage_id``)."""
    user = request.auth
    values = payload.model_dump(exclude_unset=True)
    pipeline = pick(visible_pipelines(user), "pipeline_id", values.pop("pipeline_id"))
    stage = pick(visible_stages(user), "stage_id", values.pop("stage_id", None))
    values = _references(user, values)
    return Status(201, do_create_deal(user, pipeline=pipeline, stage=stage, **values))


@router.patch("/deals/{deal_id}", response={200: DealOut, **WRITE_ERRORS})
def update_deal(request, deal_id: PathId, payload: DealPatch):
    user = request.auth
    deal = access_deal(user, deal_id)
    changes = _references(user, payload.model_dump(exclude_unset=True), deal)
    return do_update_deal(user, deal, **changes)


@router.post("/deals/{deal_id}/move", response={200: DealOut, **WRITE_ERRORS})
def move_deal(request, deal_id: PathId, payload: MoveIn):
    """Move the deal to another stage of its pipeline; refused (422) when the stage's rules are
    not met, e.g. a lost stage without ``loss_reason``."""
    user = request.auth
    deal = access_deal(user, deal_id)
    stage = pick(visible_stages(user, include_archived=True), "stage_id", payload.stage_id)
    fields = _move_fields(user, deal, payload.fields)
    return do_move_deal(user, deal, stage, loss_reason=payload.loss_reason, fields=fields)


def _move_fields(user, deal, given: dict) -> dict:
    """The values sent with a move, under the names the stage gate uses.

    Companies and contacts come as ids (``company_id``), as the 422 names them, and are picked
    from what the caller may see.
    """
    fields = dict(given)
    for name, visible in (("company", visible_companies), ("contact", visible_contacts)):
        if f"{name}_id" in fields:
            pk = fields.pop(f"{name}_id")
            if pk is not None and (isinstance(pk, bool) or not isinstance(pk, int)):
                raise Invalid(_("Give an id."), {f"{name}_id": _("Give an id.")})
            fields[name] = pick(visible(user), f"{name}_id", pk, keep=getattr(deal, name))
        elif name in fields:
            raise Invalid(
                _("Unknown field."), {name: _("Send it as %(name)s_id.") % {"name": name}}
            )
    return fields
