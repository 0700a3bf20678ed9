"""The head's settings over the API: custom fields, stage requirements, the pipelines' order
rules and self-check, loss reasons and task goals.

Only the head of sales and the owner reach these routes; for anyone else the settings are not
theirs to change, and every route answers 403 ``not_allowed`` before looking anything up. A
record of another workspace answers 404 as everywhere. parse → access → action → schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool, StrictInt

from voronka.activities import actions as activity_actions
from voronka.activities.models import TaskGoal
from voronka.api.references import pick
from voronka.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Error,
    Id,
    Input,
    Page,
    PathId,
    QueryId,
    Window,
    page,
)
from voronka.api.schemas import text as bounded_text
from voronka.clients import actions as client_actions
from voronka.clients.models import Segment
from voronka.clients.schemas import SegmentOut
from voronka.core import actions as core_actions
from voronka.core import custom_fields as cf
from voronka.core.errors import NotAllowed
from voronka.core.models import CustomField

from . import actions
from .access import access_pipeline, access_stage, visible_stages
from .funnel_check import check_pipeline
from .models import LossReason, Product, StageKind
from .schemas import ProductOut

router = Router(tags=["settings"])

#: Settings answer 403 to everyone but the head and the owner, on reads too.
SETTINGS_READ_ERRORS = {**READ_ERRORS, 403: Error}

Position = Annotated[StrictInt, Field(ge=1, le=10_000, description="1 = first in the list.")]
EntityName = Literal[tuple(CustomField.Entity.values)]
TypeName = Literal[tuple(CustomField.Type.values)]
Choices = Annotated[list[bounded_text(100)], Field(max_length=200)]


def _configurer(request):
    user = request.auth
    if not user.may_configure:
        raise NotAllowed(_("Only the head of sales and the owner change the settings."))
    return user


def _lookup(queryset, pk):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


# --- Custom fields ---------------------------------------------------------------------------


class CustomFieldOut(Schema):
    id: int
    entity: str = Field(description="deal, company or contact")
    key: str = Field(description="Names the field in ``custom`` and in stage requirements.")
    label: str
    type: str
    choices: list[str]
    position: int
    is_archived: bool
    created_at: datetime
    updated_at: datetime


class CustomFieldPage(Page):
    items: list[CustomFieldOut]


class CustomFieldFilters(Window):
    entity: EntityName | None = None
    include_archived: bool = False


class CustomFieldIn(Input):
    entity: EntityName
    label: bounded_text(120)
    type: TypeName
    key: bounded_text(40) = Field(
        "",
        description="Small Latin letters, digits and _; spelled from the label when omitted. "
        "It never changes.",
    )
    choices: Choices = Field([], description="Required for choice and multi_choice.")


class CustomFieldPatch(Input):
    """Only the fields sent change. The type changes only while no record holds a value."""

    label: bounded_text(120) = None
    type: TypeName = None
    choices: Choices = None
    position: Position = None
    is_archived: StrictBool = None


@router.get("/custom-fields", response={200: CustomFieldPage, **SETTINGS_READ_ERRORS})
def list_custom_fields(request, filters: Query[CustomFieldFilters]):
    """The custom fields of deals, companies and contacts, in each entity's order."""
    user = _configurer(request)
    qs = CustomField.objects.filter(workspace_id=user.workspace_id)
    if filters.entity is not None:
        qs = qs.filter(entity=filters.entity)
    if not filters.include_archived:
        qs = qs.filter(is_archived=False)
    return page(qs.order_by("entity", "position", "id"), filters)


@router.post("/custom-fields", response={201: CustomFieldOut, **WRITE_ERRORS})
def create_custom_field(request, payload: CustomFieldIn):
    user = _configurer(request)
    return Status(201, core_actions.do_create_custom_field(user, **payload.model_dump()))


@router.get("/custom-fields/{field_id}", response={200: CustomFieldOut, **SETTINGS_READ_ERRORS})
def get_custom_field(request, field_id: PathId):
    user = _configurer(request)
    return cf.access_custom_field(user, field_id)


@router.patch("/custom-fields/{field_id}", response={200: CustomFieldOut, **WRITE_ERRORS})
def update_custom_field(request, field_id: PathId, payload: CustomFieldPatch):
    user = _configurer(request)
    field = cf.access_custom_field(user, field_id)
    changes = payload.model_dump(exclude_unset=True)
    return core_actions.do_update_custom_field(user, field, **changes)


# --- Stage requirements ----------------------------------------------------------------------


class FieldName(Schema):
    name: str = Field(description='A deal field ("invoice_no") or "custom.<key>".')
    label: str


class StageRequirementsOut(Schema):
    stage_id: int
    pipeline_id: int
    kind: str
    required_fields: list[str] = Field(description="Must be filled for a deal to enter.")
    always_required: list[str] = Field(description='"loss_reason" for a lost stage.')
    available: list[FieldName] = Field(description="Every field a stage may require.")


class StageRequirementsIn(Input):
    required_fields: Annotated[list[bounded_text(80)], Field(max_length=100)]


def _requirements(stage) -> dict:
    return {
        "stage_id": stage.id,
        "pipeline_id": stage.pipeline_id,
        "kind": stage.kind,
        "required_fields": list(stage.required_fields or []),
        "always_required": [cf.LOSS_REASON] if stage.kind == StageKind.LOST else [],
        "available": [
            {"name": name, "label": label}
            for name, label in cf.field_choices_for_requirements(stage.workspace_id)
        ],
    }


@router.get(
    "/stages/{stage_id}/required-fields",
    response={200: StageRequirementsOut, **SETTINGS_READ_ERRORS},
)
def get_stage_requirements(request, stage_id: PathId):
    """What a deal must have filled to enter the stage, and what a stage may require."""
    user = _configurer(request)
    return _requirements(access_stage(user, stage_id, include_archived=True))


@router.put(
    "/stages/{stage_id}/required-fields", response={200: StageRequirementsOut, **WRITE_ERRORS}
)
def set_stage_requirements(request, stage_id: PathId, payload: StageRequirementsIn):
    """Replace the fields a deal must have to enter the stage; at once, for every path."""
    user = _configurer(request)
    stage = access_stage(user, stage_id, include_archived=True)
    return _requirements(actions.do_set_stage_requirements(user, stage, payload.required_fields))


# --- Pipelines: order rules and the self-check -----------------------------------------------


class PipelineRulesOut(Schema):
    pipeline_id: int
    no_skipping: bool = Field(description="A deal moves to the next open stage only.")
    no_going_back: bool = Field(description="A deal never returns to an earlier stage.")


class PipelineRulesPatch(Input):
    no_skipping: StrictBool = None
    no_going_back: StrictBool = None


def _rules(pipeline) -> dict:
    return {
        "pipeline_id": pipeline.id,
        "no_skipping": pipeline.no_skipping,
        "no_going_back": pipeline.no_going_back,
    }


@router.get(
    "/pipelines/{pipeline_id}/rules", response={200: PipelineRulesOut, **SETTINGS_READ_ERRORS}
)
def get_pipeline_rules(request, pipeline_id: PathId):
    user = _configurer(request)
    return _rules(access_pipeline(user, pipeline_id, include_archived=True))


@router.patch("/pipelines/{pipeline_id}/rules", response={200: PipelineRulesOut, **WRITE_ERRORS})
def update_pipeline_rules(request, pipeline_id: PathId, payload: PipelineRulesPatch):
    """Switch the optional order rules; the fields left out stay as they are."""
    user = _configurer(request)
    pipeline = access_pipeline(user, pipeline_id, include_archived=True)
    changes = payload.model_dump(exclude_unset=True)
    return _rules(actions.do_update_pipeline_rules(user, pipeline, **changes))


class FunnelWarningOut(Schema):
    code: str = Field(
        description="parking_stage, no_normal_duration, lost_without_reasons, "
        "alternative_stages, no_won_stage or no_lost_stage"
    )
    message: str = Field(description="What is wrong and why, in the caller's language.")
    stage_ids: list[int]


class FunnelCheckOut(Schema):
    pipeline_id: int
    warnings: list[FunnelWarningOut]


@router.get(
    "/pipelines/{pipeline_id}/funnel-check",
    response={200: FunnelCheckOut, **SETTINGS_READ_ERRORS},
)
def funnel_check(request, pipeline_id: PathId):
    """The funnel's self-check: stages that are not steps of a sale, and why each matters."""
    user = _configurer(request)
    pipeline = access_pipeline(user, pipeline_id, include_archived=True)
    return {
        "pipeline_id": pipeline.id,
        "warnings": [
            {"code": w.code, "message": w.text, "stage_ids": [s.id for s in w.stages]}
            for w in check_pipeline(pipeline)
        ],
    }


# --- Loss reasons ----------------------------------------------------------------------------


class LossReasonOut(Schema):
    id: int
    name: str
    position: int
    is_archived: bool


class LossReasonPage(Page):
    items: list[LossReasonOut]


class ArchivedFilter(Window):
    include_archived: bool = False


class LossReasonIn(Input):
    name: bounded_text(120)


class LossReasonPatch(Input):
    name: bounded_text(120) = None
    position: Position = None
    is_archived: StrictBool = None


@router.get("/loss-reasons", response={200: LossReasonPage, **SETTINGS_READ_ERRORS})
def list_loss_reasons(request, filters: Query[ArchivedFilter]):
    """The reasons a deal may be lost for, in the order managers see them."""
    user = _configurer(request)
    qs = LossReason.objects.filter(workspace_id=user.workspace_id)
    if not filters.include_archived:
        qs = qs.filter(is_archived=False)
    return page(qs.order_by("position", "id"), filters)


@router.post("/loss-reasons", response={201: LossReasonOut, **WRITE_ERRORS})
def create_loss_reason(request, payload: LossReasonIn):
    user = _configurer(request)
    return Status(201, actions.do_create_loss_reason(user, name=payload.name))


@router.patch("/loss-reasons/{reason_id}", response={200: LossReasonOut, **WRITE_ERRORS})
def update_loss_reason(request, reason_id: PathId, payload: LossReasonPatch):
    user = _configurer(request)
    reason = _lookup(LossReason.objects.filter(workspace_id=user.workspace_id), reason_id)
    return actions.do_update_loss_reason(user, reason, **payload.model_dump(exclude_unset=True))


# --- Products and client segments ------------------------------------------------------------
# Read by everyone at ``GET /products`` and ``GET /segments``; changed here by the head.


class KeptIn(Input):
    name: bounded_text(120)


class KeptPatch(Input):
    name: bounded_text(120) = None
    position: Position = None
    is_archived: StrictBool = None


@router.post("/products", response={201: ProductOut, **WRITE_ERRORS})
def create_product(request, payload: KeptIn):
    """Add a product to the end of the list."""
    user = _configurer(request)
    return Status(201, actions.do_create_product(user, name=payload.name))


@router.patch("/products/{product_id}", response={200: ProductOut, **WRITE_ERRORS})
def update_product(request, product_id: PathId, payload: KeptPatch):
    """Rename, move (``position``), archive or restore a product."""
    user = _configurer(request)
    product = _lookup(Product.objects.filter(workspace_id=user.workspace_id), product_id)
    return actions.do_update_product(user, product, **payload.model_dump(exclude_unset=True))


@router.delete("/products/{product_id}", response={204: None, **WRITE_ERRORS})
def delete_product(request, product_id: PathId):
    """Delete a product no deal has; one in use answers 422 ``in_use``: archive it instead."""
    user = _configurer(request)
    product = _lookup(Product.objects.filter(workspace_id=user.workspace_id), product_id)
    actions.do_delete_product(user, product)
    return Status(204, None)


@router.post("/segments", response={201: SegmentOut, **WRITE_ERRORS})
def create_segment(request, payload: KeptIn):
    """Add a client segment to the end of the list."""
    user = _configurer(request)
    return Status(201, client_actions.do_create_segment(user, name=payload.name))


@router.patch("/segments/{segment_id}", response={200: SegmentOut, **WRITE_ERRORS})
def update_segment(request, segment_id: PathId, payload: KeptPatch):
    """Rename, move (``position``), archive or restore a client segment."""
    user = _configurer(request)
    segment = _lookup(Segment.objects.filter(workspace_id=user.workspace_id), segment_id)
    return client_actions.do_update_segment(user, segment, **payload.model_dump(exclude_unset=True))


@router.delete("/segments/{segment_id}", response={204: None, **WRITE_ERRORS})
def delete_segment(request, segment_id: PathId):
    """Delete a segment no company has; one in use answers 422 ``in_use``: archive it instead."""
    user = _configurer(request)
    segment = _lookup(Segment.objects.filter(workspace_id=user.workspace_id), segment_id)
    client_actions.do_delete_segment(user, segment)
    return Status(204, None)


# --- Task goals ------------------------------------------------------------------------------


class TaskGoalOut(Schema):
    id: int
    text: str
    stage_id: int | None = Field(description="None: offered at every stage.")
    position: int
    is_archived: bool


class TaskGoalPage(Page):
    items: list[TaskGoalOut]


class TaskGoalFilters(ArchivedFilter):
    stage_id: QueryId = None


class TaskGoalIn(Input):
    text: bounded_text(255)
    stage_id: Id | None = Field(None, description="None: offered at every stage.")


class TaskGoalPatch(Input):
    text: bounded_text(255) = None
    stage_id: Id | None = None
    position: Position = None
    is_archived: StrictBool = None


def _goal_stage(user, stage_id):
    return pick(visible_stages(user, include_archived=True), "stage_id", stage_id)


@router.get("/task-goals", response={200: TaskGoalPage, **SETTINGS_READ_ERRORS})
def list_task_goals(request, filters: Query[TaskGoalFilters]):
    """The goals offered when a task is planned: every stage's first, then per stage."""
    user = _configurer(request)
    qs = TaskGoal.objects.filter(workspace_id=user.workspace_id)
    if filters.stage_id is not None:
        qs = qs.filter(stage_id=filters.stage_id)
    if not filters.include_archived:
        qs = qs.filter(is_archived=False)
    return page(qs.order_by("stage_id", "position", "id"), filters)


@router.post("/task-goals", response={201: TaskGoalOut, **WRITE_ERRORS})
def create_task_goal(request, payload: TaskGoalIn):
    user = _configurer(request)
    stage = _goal_stage(user, payload.stage_id)
    return Status(201, activity_actions.do_create_task_goal(user, text=payload.text, stage=stage))


@router.patch("/task-goals/{goal_id}", response={200: TaskGoalOut, **WRITE_ERRORS})
def update_task_goal(request, goal_id: PathId, payload: TaskGoalPatch):
    user = _configurer(request)
    goal = _lookup(TaskGoal.objects.filter(workspace_id=user.workspace_id), goal_id)
    changes = payload.model_dump(exclude_unset=True)
    if "stage_id" in changes:
        changes["stage"] = _goal_stage(user, changes.pop("stage_id"))
    return activity_actions.do_update_task_goal(user, goal, **changes)
