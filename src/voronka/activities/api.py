"""Tasks over the API: parse → access → action → schema."""

from __future__ import annotations

from ninja import Query, Router, Status

from voronka.accounts.access import assignable_users
from voronka.api.references import pick
from voronka.api.schemas import READ_ERRORS, WRITE_ERRORS, PathId, page
from voronka.clients.access import visible_contacts
from voronka.sales.access import visible_deals

from .access import access_task, visible_tasks
from .actions import do_complete_task, do_create_task, do_reopen_task, do_update_task
from .schemas import CompleteIn, TaskFilters, TaskIn, TaskOut, TaskPage, TaskPatch

router = Router(tags=["tasks"])


@router.get("/tasks", response={200: TaskPage, **READ_ERRORS})
def list_tasks(request, filters: Query[TaskFilters]):
    """The tasks the caller sees, soonest due first."""
    qs = visible_tasks(request.auth)
    for name in ("owner_id", "deal_id", "contact_id"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    if filters.status == "open":
        qs = qs.filter(done_at__isnull=True)
    elif filters.status == "done":
        qs = qs.filter(done_at__isnull=False)
    if filters.due_before is not None:
        qs = qs.filter(due_at__lt=filters.due_before)
    if filters.due_after is not None:
        qs = qs.filter(due_at__gte=filters.due_after)
    return page(qs.order_by("due_at", "id"), filters)


@router.get("/tasks/{task_id}", response={200: TaskOut, **READ_ERRORS})
def get_task(request, task_id: PathId):
    return access_task(request.auth, task_id)


def _references(user, values: dict, task=None) -> dict:
    sources = {
        "owner_id": ("owner", assignable_users),
        "deal_id": ("deal", visible_deals),
        "contact_id": ("contact", visible_contacts),
    }
    for field, (name, visible) in sources.items():
        if field in values:
            current = getattr(task, name) if task is not None else None
            values[name] = pick(visible(user), field, values.pop(field), keep=current)
    return values


@router.post("/tasks", response={201: TaskOut, **WRITE_ERRORS})
def create_task(request, payload: TaskIn):
    """Plan a task with its goal; on a deal it goes to the deal's owner unless ``owner_id`` says."""
    user = request.auth
    values = _references(user, payload.model_dump(exclude_unset=True))
    return Status(201, do_create_task(user, **values))


@router.patch("/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS})
def update_task(request, task_id: PathId, payload: TaskPatch):
    user = request.auth
    task = access_task(user, task_id)
    changes = _references(user, payload.model_dump(exclude_unset=True), task)
    return do_update_task(user, task, **changes)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **WRITE_ERRORS})
def complete_task(request, task_id: PathId, payload: CompleteIn = None):
    """Mark the task done with its result (the body may be left out); a task done already stays
    as it was."""
    user = request.auth
    task = access_task(user, task_id)
    return do_complete_task(user, task, result=payload.result if payload else "")


@router.post("/tasks/{task_id}/reopen", response={200: TaskOut, **WRITE_ERRORS})
def reopen_task(request, task_id: PathId):
    user = request.auth
    task = access_task(user, task_id)
    return do_reopen_task(user, task)
