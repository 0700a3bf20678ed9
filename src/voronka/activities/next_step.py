"""The next step asked for in the same form: when a move, a logged communication or a completed
task would leave an open deal without an open task, the form carries these fields too, and the
view plans the task with ``do_plan_next_step`` in the same transaction."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.core.errors import DomainError, Invalid
from voronka.core.forms import StyledForm

from .actions import do_plan_next_step
from .goals import suggested_goals
from .models import Task, TaskType

PREFIX = "next"
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


def needs_next_step(deal, *, leaving=None, entering=None) -> bool:
    """Whether ``deal`` is open and has no open task (``leaving`` aside: the task being done).

    ``entering``: the stage the deal is being moved to, which decides whether it stays open.
    """
    stage = entering if entering is not None else (deal.stage if deal is not None else None)
    if deal is None or stage.is_closed:
        return False
    tasks = Task.objects.filter(deal_id=deal.id, done_at__isnull=True)
    if leaving is not None:
        tasks = tasks.exclude(pk=leaving.pk)
    return not tasks.exists()


class NextStepForm(StyledForm, forms.Form):
    """The next task: its type, its goal (the head's goals for the stage offered) and due time.

    Left without a goal, nothing is planned: the deal then shows as a violation until it gets
    one. A goal without a due time is refused by the task action, naming the field.
    """

    type = forms.ChoiceField(label=gettext_lazy("type"), choices=TaskType.choices)
    goal = forms.CharField(
        label=gettext_lazy("goal"),
        required=False,
        max_length=255,
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("E.g. agree the date of the meeting")}
        ),
    )
    due_at = forms.DateTimeField(
        label=gettext_lazy("due"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_MINUTE),
    )

    def __init__(self, *args, deal, place: str = "form", stage=None, **kwargs):
        # ``place`` keeps the ids apart when a page holds several forms asking for it;
        # ``stage``: the one the deal is moving to, whose goals are offered (else its own).
        kwargs.setdefault("prefix", PREFIX)
        kwargs.setdefault("auto_id", f"id_{place}_%s")
        super().__init__(*args, **kwargs)
        from .task_views import default_due

        self.deal = deal
        self.goals = suggested_goals(deal.workspace_id, (stage or deal.stage).pk)
        self.datalist_id = f"{place}-next-goals-{deal.id}"
        self.fields["goal"].widget.attrs["list"] = self.datalist_id
        if not self.is_bound:
            self.initial.setdefault("due_at", default_due())
            self.initial.setdefault("type", TaskType.CALL)

    @classmethod
    def for_request(cls, data, deal, *, place: str = "form", stage=None):
        """The form bound to what was posted, or None when the page did not send it."""
        if deal is None or not any(key.startswith(f"{PREFIX}-") for key in data):
            return None
        return cls(data, deal=deal, place=place, stage=stage)

    @classmethod
    def if_needed(cls, deal, *, place: str = "form", leaving=None):
        """A blank form when ``deal`` would be left without an open task, else None."""
        if not needs_next_step(deal, leaving=leaving):
            return None
        return cls(deal=deal, place=place)

    def action_fields(self) -> dict:
        data = self.cleaned_data
        return {"type": data["type"], "goal": data.get("goal") or "", "due_at": data.get("due_at")}


def plan_posted(actor, deal, next_form):
    """Plan the posted next step in the caller's transaction (see ``do_plan_next_step``).

    A refusal is put on ``next_form`` and raised again, so the change it came with is undone.
    """
    if next_form is None:
        return None
    if not next_form.is_valid():
        raise Invalid(_("Check the next step."), {})
    try:
        return do_plan_next_step(actor, deal, **next_form.action_fields())
    except DomainError as exc:
        exc.add_to_form(next_form)
        raise
