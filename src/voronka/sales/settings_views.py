"""Settings of the funnel, for the head of sales and the owner: pipelines and their stages.

Everyone else gets 404 here (the actions refuse them too). Each page posts back to itself with a
``form`` field naming what is submitted; reordering answers htmx with the stages' table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.accounts.settings_views import settings_page
from voronka.core.errors import DomainError
from voronka.core.history import history_page
from voronka.core.listing import capped_count

from . import actions
from .access import access_pipeline, access_stage, visible_deals, visible_pipelines
from .models import Pipeline, Stage, StageChange
from .settings_forms import NewStageForm, PipelineForm, StageEditForm


@dataclass(frozen=True)
class Counted:
    """A thing with a count that stops at the cap (shown as "10 000+")."""

    obj: object
    count: int
    capped: bool


def _deal_count(request, **where) -> tuple[int, bool]:
    return capped_count(visible_deals(request.user).filter(**where))


def _status(*forms) -> int:
    return 422 if any(f.is_bound and f.errors for f in forms) else 200


# --- Pipelines -------------------------------------------------------------------------------


@settings_page
def pipelines(request):
    """The workspace's pipelines (archived ones apart) and a form to create one."""
    user = request.user
    form = PipelineForm()
    if request.method == "POST":
        form = PipelineForm(request.POST)
        if form.is_valid():
            try:
                pipeline = actions.do_create_pipeline(user, **form.cleaned_data)
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                messages.success(
                    request,
                    _("Pipeline “%(name)s” created with the stages New, Won and Lost.")
                    % {"name": pipeline.name},
                )
                return redirect("sales:settings_pipeline", pipeline.id)
    rows = visible_pipelines(user, include_archived=True).annotate(
        stage_count=Count("stages", filter=Q(stages__is_archived=False))
    )
    active, archived = [], []
    for pipeline in rows:
        count, capped = _deal_count(request, pipeline=pipeline)
        (archived if pipeline.is_archived else active).append(Counted(pipeline, count, capped))
    return render(
        request,
        "sales/settings/pipelines.html",
        {"form": form, "active": active, "archived": archived},
        status=_status(form),
    )


def _stage_rows(request, pipeline: Pipeline) -> list[Counted]:
    rows = []
    for stage in pipeline.stages.order_by("position", "id"):
        count, capped = _deal_count(request, stage=stage)
        rows.append(Counted(stage, count, capped))
    return rows


def _pipeline_history(pipeline: Pipeline, page):
    def subject(record):
        if record.instance_type is Pipeline:
            return _("Pipeline “%(name)s”") % {"name": record.name}
        return _("Stage “%(name)s”") % {"name": record.name}

    return history_page(
        [
            Pipeline.history.filter(id=pipeline.id),
            Stage.history.filter(pipeline_id=pipeline.id, workspace_id=pipeline.workspace_id),
        ],
        page,
        subject=subject,
    )


@settings_page
def pipeline_detail(request, pipeline_id: int):
    """One pipeline: its name and inbound flag, its stages in order, a new stage, its history."""
    user = request.user
    pipeline = access_pipeline(user, pipeline_id, include_archived=True)
    stages = list(pipeline.stages.order_by("position", "id"))
    pipeline_form = PipelineForm(initial={"name": pipeline.name, "is_inbound": pipeline.is_inbound})
    stage_form = NewStageForm(stages=stages)
    which = request.POST.get("form") if request.method == "POST" else None
    try:
        if which == "pipeline":
            pipeline_form = PipelineForm(request.POST)
            if pipeline_form.is_valid():
                actions.do_update_pipeline(user, pipeline, **pipeline_form.cleaned_data)
                messages.success(request, _("Pipeline saved."))
                return redirect("sales:settings_pipeline", pipeline.id)
        elif which == "stage" and not pipeline.is_archived:
            stage_form = NewStageForm(request.POST, stages=stages)
            if stage_form.is_valid():
                stage = actions.do_create_stage(user, pipeline=pipeline, **stage_form.cleaned_data)
                messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
                return redirect(reverse("sales:settings_pipeline", args=[pipeline.id]) + "#stages")
        elif which in ("archive", "unarchive"):
            actions.do_update_pipeline(user, pipeline, is_archived=which == "archive")
            if which == "archive":
                messages.success(request, _("Pipeline archived: it no longer takes new deals."))
            else:
                messages.success(request, _("Pipeline restored."))
            return redirect("sales:settings_pipeline", pipeline.id)
    except DomainError as exc:
        exc.add_to_form(stage_form if which == "stage" else pipeline_form)
    return render(
        request,
        "sales/settings/pipeline.html",
        {
            "pipeline": pipeline,
            "pipeline_form": pipeline_form,
            "stage_form": stage_form,
            "stages": _stage_rows(request, pipeline),
            "history": _pipeline_history(pipeline, request.GET.get("history")),
            "history_param": "history",
        },
        status=_status(pipeline_form, stage_form),
    )


def _requested_order(request, pipeline: Pipeline) -> list[int]:
    """The order the page sent (drag and drop), with an up/down step applied to it."""
    current = list(pipeline.stages.order_by("position", "id").values_list("id", flat=True))
    try:
        order = [int(v) for v in request.POST.getlist("stage")] or current
    except ValueError:
        order = current
    move = request.POST.get("move", "")
    stage_id, _sep, direction = move.partition(":")
    if stage_id.isdigit() and int(stage_id) in order and direction in ("up", "down"):
        i = order.index(int(stage_id))
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    return order


@settings_page
@require_POST
def stage_reorder(request, pipeline_id: int):
    """Put the stages in a new order: the whole list from a drag, or one step up or down."""
    user = request.user
    pipeline = access_pipeline(user, pipeline_id)
    error = None
    moved = request.POST.get("move", "")
    try:
        actions.do_reorder_stages(user, pipeline, _requested_order(request, pipeline))
    except DomainError as exc:
        error = str(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(reverse("sales:settings_pipeline", args=[pipeline.id]) + "#stages")
    return render(
        request,
        "sales/settings/_stages.html",
        {
            "pipeline": pipeline,
            "stages": _stage_rows(request, pipeline),
            "error": error,
            "focus": moved,
        },
        status=422 if error else 200,
    )


# --- Stages ----------------------------------------------------------------------------------


def _stage_history(stage: Stage, page):
    return history_page(
        [Stage.history.filter(id=stage.id, workspace_id=stage.workspace_id)],
        page,
        subject=lambda record: _("Stage “%(name)s”") % {"name": record.name},
    )


@settings_page
def stage_edit(request, stage_id: int):
    """Rename a stage, change its kind or normal duration, archive or restore it."""
    user = request.user
    stage = access_stage(user, stage_id, include_archived=True)
    initial = {
        "name": stage.name,
        "kind": stage.kind,
        "normal_days": stage.normal_days,
        "is_archived": stage.is_archived,
    }
    form = StageEditForm(initial=initial)
    back = reverse("sales:settings_pipeline", args=[stage.pipeline_id]) + "#stages"
    if request.method == "POST":
        if request.POST.get("form") == "archive":
            form = StageEditForm({**initial, "is_archived": True})
        else:
            form = StageEditForm(request.POST)
        if form.is_valid():
            changes = {k: v for k, v in form.cleaned_data.items() if v != initial[k]}
            try:
                if changes:
                    actions.do_update_stage(user, stage, **changes)
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("Stage “%(name)s” saved.") % {"name": stage.name})
                return redirect(back)
    count, capped = _deal_count(request, stage=stage)
    return render(
        request,
        "sales/settings/stage_edit.html",
        {
            "stage": stage,
            "pipeline": stage.pipeline,
            "form": form,
            "deal_count": count,
            "deal_count_capped": capped,
            "back": back,
            "history": _stage_history(stage, request.GET.get("history")),
            "history_param": "history",
        },
        status=_status(form),
    )


@settings_page
def stage_delete(request, stage_id: int):
    """Ask before deleting a stage; delete it, or say why not (the deals it holds, its history)."""
    user = request.user
    stage = access_stage(user, stage_id, include_archived=True)
    back = reverse("sales:settings_pipeline", args=[stage.pipeline_id]) + "#stages"
    error = None
    if request.method == "POST":
        name = stage.name
        try:
            actions.do_delete_stage(user, stage)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("Stage “%(name)s” deleted.") % {"name": name})
            return redirect(back)
    count, capped = _deal_count(request, stage=stage)
    in_history = (
        StageChange.objects.filter(workspace_id=stage.workspace_id, to_stage=stage).exists()
        or StageChange.objects.filter(workspace_id=stage.workspace_id, from_stage=stage).exists()
    )
    return render(
        request,
        "sales/settings/stage_delete.html",
        {
            "stage": stage,
            "pipeline": stage.pipeline,
            "error": error,
            "deal_count": count,
            "deal_count_capped": capped,
            "in_history": in_history,
            "back": back,
        },
        status=422 if error else 200,
    )
