"""Every change to tasks goes through one of these functions."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import may_write
from voronka.core.errors import Invalid, NotAllowed

from .models import Task, TaskType

TASK_FIELDS = ("type", "goal", "due_at", "owner", "deal", "contact", "result")


def _validate(values: dict) -> dict:
    unknown = set(values) - set(TASK_FIELDS)
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    if "goal" in values:
        values["goal"] = (values["goal"] or "").strip()
        if not values["goal"]:
            raise Invalid(
                _("A task needs a goal: what the next contact must achieve."),
                {"goal": _("What must this contact achieve? E.g. «agree the meeting date».")},
            )
    if "type" in values and values["type"] not in TaskType.values:
        raise Invalid(_("Unknown task type."), {"type": _("Choose a task type.")})
    if "due_at" in values and values["due_at"] is None:
        raise Invalid(_("A task needs a due time."), {"due_at": _("This field is required.")})
    return values


def _check(actor, **objects) -> None:
    if not may_write(actor):
        raise NotAllowed(_("Your role may not change tasks."))
    for name, obj in objects.items():
        if obj is not None and obj.workspace_id != actor.workspace_id:
            raise Invalid(_("Not found."), {name: _("Not found.")})


@transaction.atomic
def do_create_task(
    actor, *, goal: str, due_at, type: str = TaskType.CALL, owner=None, deal=None, contact=None
) -> Task:
    """Plan a task; on a deal it goes to the deal's owner unless someone else is named."""
    values = _validate({"goal": goal, "due_at": due_at, "type": type})
    owner = owner or (deal.owner if deal is not None else actor)
    _check(actor, owner=owner, deal=deal, contact=contact)
    if contact is None and deal is not None:
        contact = deal.contact
    task = Task(
        workspace_id=actor.workspace_id,
        owner=owner,
        deal=deal,
        contact=contact,
        created_by=actor,
        **values,
    )
    task._history_user = actor
    task.save()
    return task


@transaction.atomic
def do_update_task(actor, task: Task, **changes) -> Task:
    values = _validate(dict(changes))
    _check(actor, **{k: v for k, v in values.items() if k in ("owner", "deal", "contact")})
    for k, v in values.items():
        setattr(task, k, v)
    task._history_user = actor
    task.save()
    return task


@transaction.atomic
def do_complete_task(actor, task: Task, *, result: str = "", at=None) -> Task:
    """Mark a task done with its result; completing it twice changes nothing."""
    _check(actor)
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.done_at is not None:
        return locked
    locked.done_at = at or timezone.now()
    locked.result = (result or "").strip()
    locked._history_user = actor
    locked.save()
    return locked


@transaction.atomic
def do_reopen_task(actor, task: Task) -> Task:
    _check(actor)
    task.done_at = None
    task._history_user = actor
    task.save()
    return task
