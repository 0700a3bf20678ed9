"""Every change to tasks goes through one of these functions."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import may_write
from voronka.control.evaluate import after_commit
from voronka.core.errors import Invalid, NotAllowed
from voronka.sales.next_steps import sync_next_step_due

from . import reminders
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
    sync_next_step_due([task.deal_id])
    reminders.plan_reminders(task)
    after_commit(actor.workspace_id, tasks=[task.id], deals=[task.deal_id])
    return task


@transaction.atomic
def do_update_task(actor, task: Task, **changes) -> Task:
    """Change a task; a meeting moved to another time gets its reminders planned anew."""
    values = _validate(dict(changes))
    _check(actor, **{k: v for k, v in values.items() if k in ("owner", "deal", "contact")})
    previous_deal = task.deal_id
    for k, v in values.items():
        setattr(task, k, v)
    task._history_user = actor
    task.save()
    sync_next_step_due([previous_deal, task.deal_id])
    reminders.plan_reminders(task)
    after_commit(actor.workspace_id, tasks=[task.id], deals=[previous_deal, task.deal_id])
    return task


@transaction.atomic
def do_complete_task(actor, task: Task, *, result: str = "", at=None) -> Task:
    """Mark a task done with its result; completing it twice changes nothing.

    A meeting done needs no reminder: the unsent ones are cancelled.
    """
    _check(actor)
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.done_at is not None:
        return locked
    locked.done_at = at or timezone.now()
    locked.result = (result or "").strip()
    locked._history_user = actor
    locked.save()
    sync_next_step_due([locked.deal_id])
    reminders.plan_reminders(locked)
    after_commit(actor.workspace_id, tasks=[locked.id], deals=[locked.deal_id])
    return locked


@transaction.atomic
def do_reopen_task(actor, task: Task) -> Task:
    _check(actor)
    task.done_at = None
    task._history_user = actor
    task.save()
    sync_next_step_due([task.deal_id])
    reminders.plan_reminders(task)
    after_commit(actor.workspace_id, tasks=[task.id], deals=[task.deal_id])
    return task


@transaction.atomic
def do_plan_next_step(
    actor, deal, *, goal: str = "", due_at=None, type: str = TaskType.CALL, owner=None
) -> Task | None:
    """Plan a deal's next step together with the move, the communication or the completed task
    whose form asked for it (the caller's transaction holds both).

    Nothing is planned when no goal is given (the form's next-step fields left empty) or the deal
    is closed: a closed deal needs no next step. A goal without a due time is refused like any
    task, and then the whole form's change is undone with it.
    """
    from voronka.sales.models import Deal

    if not (goal or "").strip():
        return None
    fresh = Deal.objects.select_related("stage").get(pk=deal.pk)
    if fresh.stage.is_closed:
        return None
    return do_create_task(actor, deal=fresh, goal=goal, due_at=due_at, type=type, owner=owner)


# --- The head's list of task goals ---------------------------------------------------------------

GOAL_MAX_LENGTH = 255


def _check_configurer(actor) -> None:
    if not actor.may_configure:
        raise NotAllowed(_("Only the head of sales and the owner change the settings."))


def _clean_goal_text(text) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        raise Invalid(
            _("Say what the contact must achieve, e.g. «agree a meeting»."),
            {"text": _("This field is required.")},
        )
    if len(text) > GOAL_MAX_LENGTH:
        message = _("At most %(count)s characters.") % {"count": GOAL_MAX_LENGTH}
        raise Invalid(message, {"text": message})
    return text


def _goal_scope(actor, stage):
    from .models import TaskGoal

    return TaskGoal.objects.filter(workspace_id=actor.workspace_id, stage=stage).order_by(
        "position", "id"
    )


def _check_goal_free(actor, text: str, stage, *, exclude=None) -> None:
    for other in _goal_scope(actor, stage):
        if other.pk != getattr(exclude, "pk", None) and other.text.casefold() == text.casefold():
            if other.is_archived:
                message = _("The archived goal “%(text)s” says this; restore it instead.")
            else:
                message = _("The goal “%(text)s” is on this list already.")
            message = message % {"text": other.text}
            raise Invalid(message, {"text": message}, code="duplicate")


def _check_goal_stage(actor, stage) -> None:
    if stage is not None and stage.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"stage": _("Not found.")})
    if stage is not None and stage.kind != "open":
        message = _("A closed deal has no next step: goals belong to open stages.")
        raise Invalid(message, {"stage": message})


def _renumber_goals(rows, actor) -> None:
    for position, row in enumerate(rows, 1):
        if row.position != position:
            row.position = position
            row._history_user = actor
            row.save(update_fields=["position", "updated_at"])


@transaction.atomic
def do_create_task_goal(actor, *, text: str, stage=None):
    """Add a goal to the list of a stage (or of every stage: ``stage`` None), at its end."""
    from .models import TaskGoal

    _check_configurer(actor)
    _check_goal_stage(actor, stage)
    text = _clean_goal_text(text)
    _check_goal_free(actor, text, stage)
    rows = list(_goal_scope(actor, stage))
    goal = TaskGoal(
        workspace_id=actor.workspace_id,
        text=text,
        stage=stage,
        position=(max((r.position for r in rows), default=0) + 1),
    )
    goal._history_user = actor
    goal.save()
    return goal


@transaction.atomic
def do_update_task_goal(actor, goal, **changes):
    """Reword a goal, move it to another stage's list or in its list, archive or restore it.

    Tasks planned with it keep their words; an archived goal is no longer offered.
    """
    from .models import TaskGoal

    _check_configurer(actor)
    if goal.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"goal": _("Not found.")})
    unknown = set(changes) - {"text", "stage", "position", "is_archived"}
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    locked = TaskGoal.objects.select_for_update().get(pk=goal.pk)
    stage = changes["stage"] if "stage" in changes else locked.stage
    _check_goal_stage(actor, stage)
    text = _clean_goal_text(changes["text"]) if "text" in changes else locked.text
    moved = (stage.pk if stage else None) != locked.stage_id
    if "text" in changes or moved:
        _check_goal_free(actor, text, stage, exclude=locked)
    locked.text = text
    if moved:
        locked.stage = stage
        locked.position = max((r.position for r in _goal_scope(actor, stage)), default=0) + 1
    if "is_archived" in changes:
        locked.is_archived = bool(changes["is_archived"])
    locked._history_user = actor
    locked.save()
    if changes.get("position") is not None:
        position = int(changes["position"])
        if position < 1:
            message = _("A place in the order is 1 or more.")
            raise Invalid(message, {"position": message})
        rows = [r for r in _goal_scope(actor, locked.stage) if r.pk != locked.pk]
        rows.insert(min(position, len(rows) + 1) - 1, locked)
        _renumber_goals(rows, actor)
        locked.refresh_from_db()
    return locked


@transaction.atomic
def do_reorder_task_goals(actor, stage, goal_ids: list[int]) -> None:
    """Put the goals of one list (a stage's, or every stage's) in the given order."""
    _check_configurer(actor)
    _check_goal_stage(actor, stage)
    rows = {r.id: r for r in _goal_scope(actor, stage)}
    if sorted(goal_ids) != sorted(rows):
        message = _("List every goal of the list once.")
        raise Invalid(message, {"goals": message})
    _renumber_goals([rows[i] for i in goal_ids], actor)


# --- Calls flagged for the planning meeting ----------------------------------------------------

REVIEW_NOTE_MAX = 500


def _check_reviewer(actor, comm) -> None:
    from .access import may_flag_for_review

    if not may_flag_for_review(actor):
        raise NotAllowed(_("Only the head, a senior or the quality controller flag calls."))
    if comm.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"communication": _("Not found.")})


@transaction.atomic
def do_flag_for_review(actor, comm, *, note: str = ""):
    """Flag a call for review at the planning meeting, with a note on what to listen for.

    A call already flagged keeps its one open flag; the new note replaces the old one.
    """
    from voronka.inbox.models import CommKind

    from .models import ReviewFlag

    _check_reviewer(actor, comm)
    if comm.kind != CommKind.CALL:
        raise Invalid(_("Only calls are flagged for review."), {"communication": _("Not a call.")})
    note = (note or "").replace("\x00", "").strip()  # PostgreSQL stores no NUL in text
    if len(note) > REVIEW_NOTE_MAX:
        raise Invalid(
            _("The note is too long."),
            {"note": _("At most %(n)s characters.") % {"n": REVIEW_NOTE_MAX}},
        )
    flag = (
        ReviewFlag.objects.select_for_update()
        .filter(communication_id=comm.id, cleared_at__isnull=True)
        .first()
    )
    if flag is None:
        flag = ReviewFlag(workspace_id=actor.workspace_id, communication=comm, flagged_by=actor)
    flag.note = note
    flag.flagged_by = actor
    flag.save()
    return flag


@transaction.atomic
def do_clear_review_flag(actor, comm):
    """Clear the call's open flag (it has been discussed); clearing twice changes nothing."""
    from .models import ReviewFlag

    _check_reviewer(actor, comm)
    ReviewFlag.objects.filter(communication_id=comm.id, cleared_at__isnull=True).update(
        cleared_at=timezone.now(), cleared_by=actor, updated_at=timezone.now()
    )
