"""Settings of the funnel, for the head of sales and the owner: pipelines and their stages with
their rules (the fields a stage requires, the order rules, the funnel's self-check), custom
fields, loss reasons and task goals.

Everyone else gets 404 here (the actions refuse them too). Each page posts back to itself with a
``form`` field naming what is submitted; reordering answers htmx with the stages' table.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.accounts.settings_views import settings_page
from voronka.activities import actions as activity_actions
from voronka.activities.models import TaskGoal
from voronka.core import actions as core_actions
from voronka.core import custom_fields as cf
from voronka.core.errors import DomainError
from voronka.core.history import FieldChange, history_page
from voronka.core.listing import capped_count
from voronka.core.models import CustomField

from . import actions
from .access import (
    access_pipeline,
    access_stage,
    visible_deals,
    visible_pipelines,
    visible_stages,
)
from .funnel_check import check_pipeline
from .models import LossReason, Pipeline, Stage, StageChange, StageKind
from .settings_forms import (
    CustomFieldEditForm,
    CustomFieldForm,
    LossReasonForm,
    NewStageForm,
    PipelineForm,
    PipelineRulesForm,
    RequirementsForm,
    StageEditForm,
    TaskGoalForm,
)


@dataclass(frozen=True)
class Counted:
    """A thing with a count that stops at the cap (shown as "10 000+")."""

    obj: object
    count: int
    capped: bool
    #: For a stage: the labels of the fields a deal must have to enter it.
    requirements: tuple[str, ...] = ()


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
    labels = cf.requirement_labels(pipeline.workspace_id)
    rows = []
    for stage in pipeline.stages.order_by("position", "id"):
        count, capped = _deal_count(request, stage=stage)
        names = list(stage.required_fields or [])
        if stage.kind == StageKind.LOST:
            names = [cf.LOSS_REASON, *names]
        requirements = tuple(labels.get(name, name) for name in names)
        rows.append(Counted(stage, count, capped, requirements))
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
    """One pipeline: what its design gets wrong, its name and inbound flag, its order rules, its
    stages in order with what each requires, a new stage, its history."""
    user = request.user
    pipeline = access_pipeline(user, pipeline_id, include_archived=True)
    stages = list(pipeline.stages.order_by("position", "id"))
    pipeline_form = PipelineForm(initial={"name": pipeline.name, "is_inbound": pipeline.is_inbound})
    rules_form = PipelineRulesForm(
        initial={"no_skipping": pipeline.no_skipping, "no_going_back": pipeline.no_going_back}
    )
    stage_form = NewStageForm(stages=stages)
    which = request.POST.get("form") if request.method == "POST" else None
    try:
        if which == "pipeline":
            pipeline_form = PipelineForm(request.POST)
            if pipeline_form.is_valid():
                actions.do_update_pipeline(user, pipeline, **pipeline_form.cleaned_data)
                messages.success(request, _("Pipeline saved."))
                return redirect("sales:settings_pipeline", pipeline.id)
        elif which == "rules":
            rules_form = PipelineRulesForm(request.POST)
            if rules_form.is_valid():
                actions.do_update_pipeline_rules(user, pipeline, **rules_form.cleaned_data)
                messages.success(request, _("The pipeline's order rules are saved."))
                return redirect(reverse("sales:settings_pipeline", args=[pipeline.id]) + "#rules")
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
        target = {"stage": stage_form, "rules": rules_form}.get(which, pipeline_form)
        if target.is_bound:
            exc.add_to_form(target)
        else:  # archiving or restoring: no form to put the refusal on
            messages.error(request, str(exc))
    return render(
        request,
        "sales/settings/pipeline.html",
        {
            "pipeline": pipeline,
            "pipeline_form": pipeline_form,
            "rules_form": rules_form,
            "stage_form": stage_form,
            "stages": _stage_rows(request, pipeline),
            "warnings": [] if pipeline.is_archived else check_pipeline(pipeline),
            "history": _readable_history(
                _pipeline_history(pipeline, request.GET.get("history")),
                cf.requirement_labels(pipeline.workspace_id),
            ),
            "history_param": "history",
        },
        status=_status(pipeline_form, rules_form, stage_form),
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


def _list_text(text: str, labels: dict | None) -> str:
    """A list the history shows as ``['a', 'b']``, as a person reads it: «A, B»."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if not isinstance(value, list):
        return text
    if not value:
        return "—"
    return ", ".join(str((labels or {}).get(v, v)) for v in value)


def _readable_history(history, labels: dict | None = None):
    """The history with lists (a stage's requirements, a field's choices) read as words."""
    list_fields = {
        capfirst(str(Stage._meta.get_field("required_fields").verbose_name)),
        capfirst(str(CustomField._meta.get_field("choices").verbose_name)),
    }
    for entry in history.entries:
        entry.changes = [
            FieldChange(c.label, _list_text(c.old, labels), _list_text(c.new, labels))
            if c.label in list_fields
            else c
            for c in entry.changes
        ]
    return history


def _stage_history(stage: Stage, page):
    return history_page(
        [Stage.history.filter(id=stage.id, workspace_id=stage.workspace_id)],
        page,
        subject=lambda record: _("Stage “%(name)s”") % {"name": record.name},
    )


@settings_page
def stage_edit(request, stage_id: int):
    """Rename a stage, change its kind or normal duration, archive or restore it, and choose the
    fields a deal must have filled to enter it."""
    user = request.user
    stage = access_stage(user, stage_id, include_archived=True)
    initial = {
        "name": stage.name,
        "kind": stage.kind,
        "normal_days": stage.normal_days,
        "is_archived": stage.is_archived,
    }
    form = StageEditForm(initial=initial)
    choices = cf.field_choices_for_requirements(stage.workspace_id)
    requirements_form = RequirementsForm(
        initial={"required_fields": stage.required_fields}, choices=choices
    )
    back = reverse("sales:settings_pipeline", args=[stage.pipeline_id]) + "#stages"
    which = request.POST.get("form") if request.method == "POST" else None
    if which == "requirements":
        requirements_form = RequirementsForm(request.POST, choices=choices)
        if requirements_form.is_valid():
            try:
                actions.do_set_stage_requirements(
                    user, stage, requirements_form.cleaned_data["required_fields"]
                )
            except DomainError as exc:
                exc.add_to_form(requirements_form)
            else:
                messages.success(
                    request,
                    _("Saved: a deal enters “%(name)s” only with these fields filled.")
                    % {"name": stage.name},
                )
                return redirect(reverse("sales:settings_stage_edit", args=[stage.id]))
    elif request.method == "POST":
        if which == "archive":
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
    labels = cf.requirement_labels(stage.workspace_id)
    return render(
        request,
        "sales/settings/stage_edit.html",
        {
            "stage": stage,
            "pipeline": stage.pipeline,
            "form": form,
            "requirements_form": requirements_form,
            "requirement_choices": choices,
            "checked": set(
                requirements_form.data.getlist("required_fields")
                if requirements_form.is_bound
                else stage.required_fields
            ),
            "deal_count": count,
            "deal_count_capped": capped,
            "back": back,
            "history": _readable_history(_stage_history(stage, request.GET.get("history")), labels),
            "history_param": "history",
        },
        status=_status(form, requirements_form),
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


# --- Moving a row of a short list up or down -------------------------------------------------


def _stepped(ids: list[int], move: str) -> list[int] | None:
    """``ids`` with the row named by ``move`` ("<id>:up" or "<id>:down") swapped with its
    neighbour; None when the request names no row of the list."""
    row_id, _sep, direction = (move or "").partition(":")
    if not row_id.isdigit() or int(row_id) not in ids or direction not in ("up", "down"):
        return None
    order = list(ids)
    i = order.index(int(row_id))
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
    return order


def _posted_id(request) -> int | None:
    value = request.POST.get("id", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


# --- Custom fields ---------------------------------------------------------------------------


def _entity(request) -> str:
    value = request.POST.get("entity") or request.GET.get("entity") or CustomField.Entity.DEAL
    return value if value in CustomField.Entity.values else CustomField.Entity.DEAL


def _fields_url(entity: str) -> str:
    return f"{reverse('sales:settings_fields')}?entity={entity}"


@settings_page
def custom_fields(request):
    """The custom fields of deals, companies or contacts: the list in order, a new field, the
    history."""
    user = request.user
    entity = _entity(request)
    form = CustomFieldForm()
    which = request.POST.get("form") if request.method == "POST" else None
    rows = list(cf.fields_for(user.workspace_id, entity, include_archived=True))
    active = [f for f in rows if not f.is_archived]
    archived = [f for f in rows if f.is_archived]
    if which == "create":
        form = CustomFieldForm(request.POST)
        if form.is_valid():
            try:
                field = core_actions.do_create_custom_field(
                    user, entity=entity, **form.cleaned_data
                )
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                messages.success(
                    request,
                    _("Field “%(label)s” added; the API names it “%(key)s”.")
                    % {"label": field.label, "key": field.key},
                )
                return redirect(_fields_url(entity) + "#fields")
    elif which == "move":
        order = _stepped([f.id for f in active], request.POST.get("move", ""))
        if order is not None:
            try:
                core_actions.do_reorder_custom_fields(
                    user, entity, order + [f.id for f in archived]
                )
            except DomainError as exc:
                messages.error(request, str(exc))
        return redirect(_fields_url(entity) + "#fields")
    counts = dict(
        CustomField.objects.filter(workspace_id=user.workspace_id, is_archived=False)
        .values_list("entity")
        .annotate(n=Count("id"))
    )
    tabs = [(value, label, counts.get(value, 0)) for value, label in CustomField.Entity.choices]
    history = history_page(
        [CustomField.history.filter(workspace_id=user.workspace_id, entity=entity)],
        request.GET.get("history"),
        subject=lambda record: _("Field “%(label)s”") % {"label": record.label},
    )
    return render(
        request,
        "sales/settings/fields.html",
        {
            "entity": entity,
            "entity_label": CustomField.Entity(entity).label,
            "tabs": tabs,
            "active": active,
            "archived": archived,
            "form": form,
            "choice_types": sorted(cf.CHOICE_TYPES),
            "transliteration": cf.transliteration(),
            "history": _readable_history(history),
            "history_param": "history",
        },
        status=_status(form),
    )


@settings_page
def custom_field_edit(request, field_id: int):
    """Relabel a field, change its choices (and its type while no record holds a value of it),
    archive or restore it; its history."""
    user = request.user
    field = cf.access_custom_field(user, field_id)
    locked = cf.values_exist(field)
    initial = {"label": field.label, "type": field.type, "choices": "\n".join(field.choices)}
    form = CustomFieldEditForm(initial=initial, type_locked=locked)
    back = _fields_url(field.entity) + "#fields"
    archive_error = None
    which = request.POST.get("form") if request.method == "POST" else None
    try:
        if which == "field":
            form = CustomFieldEditForm(request.POST, initial=initial, type_locked=locked)
            if form.is_valid():
                changes = {
                    "label": form.cleaned_data["label"],
                    "choices": form.cleaned_data["choices"],
                }
                if not locked:
                    changes["type"] = form.cleaned_data["type"]
                core_actions.do_update_custom_field(user, field, **changes)
                messages.success(request, _("Field “%(label)s” saved.") % changes)
                return redirect(back)
        elif which in ("archive", "unarchive"):
            core_actions.do_update_custom_field(user, field, is_archived=which == "archive")
            if which == "archive":
                messages.success(
                    request,
                    _(
                        "Field “%(label)s” archived: it is no longer shown or filled in; "
                        "the values given stay."
                    )
                    % {"label": field.label},
                )
            else:
                messages.success(request, _("Field “%(label)s” restored.") % {"label": field.label})
            return redirect(back)
    except DomainError as exc:
        if form.is_bound:
            exc.add_to_form(form)
        else:
            archive_error = str(exc)
    required_by = [
        s
        for s in Stage.objects.filter(workspace_id=user.workspace_id)
        .select_related("pipeline")
        .order_by("pipeline__position", "pipeline_id", "position", "id")
        if cf.CUSTOM_PREFIX + field.key in (s.required_fields or [])
    ]
    history = history_page(
        [CustomField.history.filter(id=field.id, workspace_id=field.workspace_id)],
        request.GET.get("history"),
        subject=lambda record: _("Field “%(label)s”") % {"label": record.label},
    )
    return render(
        request,
        "sales/settings/field_edit.html",
        {
            "field": field,
            "form": form,
            "type_locked": locked,
            "archive_error": archive_error,
            "required_by": required_by,
            "choice_types": sorted(cf.CHOICE_TYPES),
            "back": back,
            "history": _readable_history(history),
            "history_param": "history",
        },
        status=422 if archive_error else _status(form),
    )


# --- Loss reasons ----------------------------------------------------------------------------


@settings_page
def loss_reasons(request):
    """The reasons a deal is lost: add, rename, reorder, archive or restore; the history."""
    user = request.user
    rows = list(
        LossReason.objects.filter(workspace_id=user.workspace_id).order_by("position", "id")
    )
    form = LossReasonForm()
    row_error: tuple[int, str] | None = None
    which = request.POST.get("form") if request.method == "POST" else None
    by_id = {r.id: r for r in rows}
    reason = by_id.get(_posted_id(request)) if which else None
    url = reverse("sales:settings_loss_reasons")
    if which == "create":
        form = LossReasonForm(request.POST)
        if form.is_valid():
            try:
                created = actions.do_create_loss_reason(user, name=form.cleaned_data["name"])
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("Reason “%(name)s” added.") % {"name": created.name})
                return redirect(url + "#reasons")
    elif which in ("rename", "archive", "unarchive") and reason is not None:
        try:
            if which == "rename":
                actions.do_update_loss_reason(user, reason, name=request.POST.get("name", ""))
                messages.success(request, _("Reason renamed."))
            else:
                actions.do_update_loss_reason(user, reason, is_archived=which == "archive")
                if which == "archive":
                    messages.success(
                        request,
                        _("Reason “%(name)s” archived: it is no longer offered.")
                        % {"name": reason.name},
                    )
                else:
                    messages.success(
                        request, _("Reason “%(name)s” restored.") % {"name": reason.name}
                    )
        except DomainError as exc:
            row_error = (reason.id, str(exc))
        else:
            return redirect(url + "#reasons")
    elif which == "move":
        active = [r.id for r in rows if not r.is_archived]
        order = _stepped(active, request.POST.get("move", ""))
        if order is not None:
            archived_ids = [r.id for r in rows if r.is_archived]
            actions.do_reorder_loss_reasons(user, order + archived_ids)
        return redirect(url + "#reasons")
    elif which:
        raise Http404
    history = history_page(
        [LossReason.history.filter(workspace_id=user.workspace_id)],
        request.GET.get("history"),
        subject=lambda record: _("Reason “%(name)s”") % {"name": record.name},
    )
    return render(
        request,
        "sales/settings/loss_reasons.html",
        {
            "active": [r for r in rows if not r.is_archived],
            "archived": [r for r in rows if r.is_archived],
            "form": form,
            "row_error_id": row_error[0] if row_error else None,
            "row_error": row_error[1] if row_error else "",
            "rename_value": request.POST.get("name", "") if row_error else "",
            "history": history,
            "history_param": "history",
        },
        status=422 if row_error else _status(form),
    )


# --- Task goals ------------------------------------------------------------------------------


@dataclass
class GoalList:
    """The goals offered at one stage (or at every stage: ``stage`` None)."""

    stage: Stage | None
    goals: list


@settings_page
def task_goals(request):
    """The goals offered when a task is planned, per stage and for every stage: add, reword,
    reorder, archive or restore; the history."""
    user = request.user
    stages = [
        s for s in visible_stages(user).select_related("pipeline") if s.kind == StageKind.OPEN
    ]
    stage_by_id = {s.id: s for s in stages}
    goals = list(
        TaskGoal.objects.filter(workspace_id=user.workspace_id)
        .select_related("stage")
        .order_by("position", "id")
    )
    form = TaskGoalForm(stages=stages)
    row_error: tuple[int, str] | None = None
    which = request.POST.get("form") if request.method == "POST" else None
    goal = {g.id: g for g in goals}.get(_posted_id(request)) if which else None
    url = reverse("sales:settings_goals")
    if which == "create":
        form = TaskGoalForm(request.POST, stages=stages)
        if form.is_valid():
            stage = stage_by_id.get(form.cleaned_data["stage"])
            try:
                created = activity_actions.do_create_task_goal(
                    user, text=form.cleaned_data["text"], stage=stage
                )
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("Goal “%(text)s” added.") % {"text": created.text})
                return redirect(url + f"#goals-{created.stage_id or 'any'}")
    elif which in ("rename", "archive", "unarchive") and goal is not None:
        try:
            if which == "rename":
                activity_actions.do_update_task_goal(user, goal, text=request.POST.get("text", ""))
                messages.success(request, _("Goal reworded."))
            else:
                activity_actions.do_update_task_goal(user, goal, is_archived=which == "archive")
                if which == "archive":
                    messages.success(
                        request,
                        _("Goal “%(text)s” archived: it is no longer offered.")
                        % {"text": goal.text},
                    )
                else:
                    messages.success(request, _("Goal “%(text)s” restored.") % {"text": goal.text})
        except DomainError as exc:
            row_error = (goal.id, str(exc))
        else:
            return redirect(url + f"#goals-{goal.stage_id or 'any'}")
    elif which == "move" and goal is not None:
        same_list = [g.id for g in goals if g.stage_id == goal.stage_id and not g.is_archived]
        order = _stepped(same_list, f"{goal.id}:{request.POST.get('direction', '')}")
        if order is not None:
            rest = [g.id for g in goals if g.stage_id == goal.stage_id and g.is_archived]
            activity_actions.do_reorder_task_goals(user, goal.stage, order + rest)
        return redirect(url + f"#goals-{goal.stage_id or 'any'}")
    elif which:
        raise Http404
    lists = [GoalList(None, [g for g in goals if g.stage_id is None and not g.is_archived])]
    for stage in stages:
        own = [g for g in goals if g.stage_id == stage.id and not g.is_archived]
        if own:
            lists.append(GoalList(stage, own))
    archived = [
        g for g in goals if g.is_archived and (g.stage_id is None or g.stage_id in stage_by_id)
    ]
    history = history_page(
        [TaskGoal.history.filter(workspace_id=user.workspace_id)],
        request.GET.get("history"),
        subject=lambda record: _("Goal “%(text)s”") % {"text": record.text},
    )
    return render(
        request,
        "sales/settings/goals.html",
        {
            "lists": lists,
            "archived": archived,
            "form": form,
            "row_error_id": row_error[0] if row_error else None,
            "row_error": row_error[1] if row_error else "",
            "rename_value": request.POST.get("text", "") if row_error else "",
            "history": history,
            "history_param": "history",
        },
        status=422 if row_error else _status(form),
    )
