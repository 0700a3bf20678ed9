"""The only way pipelines and deals are loaded on behalf of a person."""

from django.db.models import Q
from django.http import Http404

from voronka.accounts.access import is_assistant, may_write, owner_scope

from .models import Deal, Pipeline, Stage


def deal_filter(user, prefix: str = "") -> Q:
    """The condition a deal must meet to be visible to ``user``; ``prefix`` reaches it by a join."""
    if is_assistant(user):
        return Q(**{f"{prefix}assistant_id": user.id})
    scope = owner_scope(user)
    if scope is None:
        return Q()
    return Q(**{f"{prefix}owner_id__in": scope})


def visible_deals(user):
    return Deal.objects.filter(deal_filter(user), workspace_id=user.workspace_id)


def access_deal(user, deal_id, *, for_update: bool = False) -> Deal:
    """The deal, or 404 when it does not exist or ``user`` may not see it."""
    qs = visible_deals(user).select_related(
        "pipeline", "stage", "owner", "assistant", "company", "contact"
    )
    try:
        deal = qs.get(id=int(deal_id))
    except (Deal.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if for_update and not may_write(user):
        raise Http404
    return deal


def visible_pipelines(user, *, include_archived: bool = False):
    qs = Pipeline.objects.filter(workspace_id=user.workspace_id)
    if not include_archived:
        qs = qs.filter(is_archived=False)
    return qs.order_by("position", "id")


def access_pipeline(user, pipeline_id, *, include_archived: bool = False) -> Pipeline:
    try:
        return visible_pipelines(user, include_archived=include_archived).get(id=int(pipeline_id))
    except (Pipeline.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def visible_stages(user, *, include_archived: bool = False):
    qs = Stage.objects.filter(workspace_id=user.workspace_id, pipeline__is_archived=False)
    if not include_archived:
        qs = qs.filter(is_archived=False)
    return qs.order_by("pipeline__position", "pipeline_id", "position", "id")


def access_stage(user, stage_id, *, include_archived: bool = False) -> Stage:
    try:
        return (
            visible_stages(user, include_archived=include_archived)
            .select_related("pipeline")
            .get(id=int(stage_id))
        )
    except (Stage.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
