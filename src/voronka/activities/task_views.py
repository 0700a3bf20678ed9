"""Planning, editing and completing tasks: from the deal page (htmx) and as plain pages.

An htmx request gets its fragment back (422 with the errors when refused) and the
``dealChanged`` event, so the deal page reloads its next step and timeline; a plain form post
is redirected to ``next`` (checked to be ours), or to the deal, the contact or the task list.
"""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from voronka.accounts.access import assignable_users, may_write
from voronka.accounts.models import User
from voronka.clients.access import access_contact
from voronka.core.errors import DomainError
from voronka.core.forms import StyledForm
from voronka.sales.access import access_deal

from .access import access_task
from .actions import do_complete_task, do_create_task, do_update_task
from .goals import suggested_goals
from .models import TaskType
from .next_step import NextStepForm, plan_posted

#: The event the deal page's live parts reload on.
DEAL_CHANGED = "dealChanged"
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"
#: A new task is due the next morning unless the person says otherwise.
DEFAULT_DUE_TIME = time(10, 0)


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


def default_due():
    tomorrow = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, DEFAULT_DUE_TIME))


class TaskForm(StyledForm, forms.Form):
    """What to do, with what goal, by when and who does it."""

    deal = forms.IntegerField(widget=forms.HiddenInput, required=False)
    contact = forms.IntegerField(widget=forms.HiddenInput, required=False)
    type = forms.ChoiceField(label=gettext_lazy("type"), choices=TaskType.choices)
    # The goal's rule and its message live in the action (``do_create_task``).
    goal = forms.CharField(
        label=gettext_lazy("goal"),
        required=False,
        max_length=255,
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("E.g. agree the date of the meeting")}
        ),
        help_text=gettext_lazy("What the next contact must achieve."),
    )
    due_at = forms.DateTimeField(
        label=gettext_lazy("due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_MINUTE),
    )
    # Left out, the task goes to the deal's owner (or to whoever plans it).
    owner = OwnerField(
        label=gettext_lazy("owner"),
        queryset=User.objects.none(),
        empty_label=None,
        required=False,
    )

    def __init__(self, user, *args, deal=None, contact=None, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        current_owner = task.owner_id if task else (deal.owner_id if deal else None)
        self.fields["owner"].queryset = User.objects.filter(
            Q(id__in=assignable_users(user).values("id")) | Q(id=current_owner or 0)
        ).order_by("first_name", "last_name", "username")
        # The head's goals for the deal's stage, offered as suggestions (free text stays).
        goal_deal = task.deal if task is not None and task.deal_id else deal
        self.goals = (
            suggested_goals(user.workspace_id, goal_deal.stage_id)
            if goal_deal is not None
            else suggested_goals(user.workspace_id)
        )
        self.datalist_id = f"task-goals-{task.id if task else 'new'}"
        if self.goals:
            self.fields["goal"].widget.attrs["list"] = self.datalist_id
        if task is not None:
            self.initial.update(
                type=task.type, goal=task.goal, due_at=task.due_at, owner=task.owner_id
            )
        else:
            self.initial.setdefault("due_at", default_due())
            self.initial.setdefault("owner", current_owner or user.id)
            self.initial.setdefault("deal", deal.id if deal else None)
            self.initial.setdefault("contact", contact.id if contact else None)

    def action_fields(self) -> dict:
        data = self.cleaned_data
        fields = {k: data[k] for k in ("type", "goal", "due_at")}
        if data.get("owner") is not None:
            fields["owner"] = data["owner"]
        return fields


class CompleteForm(StyledForm, forms.Form):
    result = forms.CharField(
        label=gettext_lazy("result"),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": gettext_lazy("What came of it?")}),
        error_messages={"required": gettext_lazy("Write what came of it.")},
    )


def _back(request, *, deal=None, contact=None) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    if deal is not None:
        return reverse("sales:deal_detail", args=[deal.id])
    if contact is not None:
        return reverse("clients:contact_detail", args=[contact.id])
    return reverse("activities:task_list")


def _changed(response, message: str):
    trigger_client_event(response, DEAL_CHANGED)
    return trigger_client_event(response, "voronka:toast", {"message": message, "kind": "success"})


def _form_response(request, form, ctx, *, status: int):
    ctx = {"form": form, "next": request.POST.get("next") or request.GET.get("next", ""), **ctx}
    template = "activities/task_form_fields.html" if request.htmx else "activities/task_form.html"
    return render(request, template, ctx, status=status)


@login_required
def task_create(request):
    """Plan a task (GET: the form; POST: create). On a deal it goes to the deal's owner."""
    user = request.user
    if not may_write(user):
        raise Http404
    params = request.POST if request.method == "POST" else request.GET
    deal = access_deal(user, params["deal"], for_update=True) if params.get("deal") else None
    contact = (
        access_contact(user, params["contact"], for_update=True) if params.get("contact") else None
    )
    form = TaskForm(
        user, request.POST if request.method == "POST" else None, deal=deal, contact=contact
    )
    if request.method == "POST" and form.is_valid():
        try:
            do_create_task(user, deal=deal, contact=contact, **form.action_fields())
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            message = _("Task planned.")
            if request.htmx:
                fresh = TaskForm(user, deal=deal, contact=contact)
                response = _form_response(
                    request, fresh, {"deal": deal, "contact": contact}, status=200
                )
                return _changed(response, message)
            messages.success(request, message)
            return redirect(_back(request, deal=deal, contact=contact))
    status = 422 if form.is_bound else 200
    return _form_response(
        request,
        form,
        {"deal": deal, "contact": contact, "back": _back(request, deal=deal, contact=contact)},
        status=status,
    )


@login_required
def task_edit(request, task_id: int):
    user = request.user
    task = access_task(user, task_id)
    if not may_write(user):
        # The task is visible, so not a 404: the person is told their role only reads it.
        ctx = {"task": task, "read_only": True, "back": _back(request, deal=task.deal)}
        return render(request, "activities/task_form.html", ctx, status=403)
    form = TaskForm(user, request.POST if request.method == "POST" else None, task=task)
    if request.method == "POST" and form.is_valid():
        try:
            do_update_task(user, task, **form.action_fields())
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            message = _("Task saved.")
            if request.htmx:
                response = _form_response(request, form, {"task": task}, status=200)
                return _changed(response, message)
            messages.success(request, message)
            return redirect(_back(request, deal=task.deal, contact=task.contact))
    return _form_response(
        request,
        form,
        {"task": task, "back": _back(request, deal=task.deal, contact=task.contact)},
        status=422 if form.is_bound else 200,
    )


@login_required
@require_POST
def task_complete(request, task_id: int):
    """Mark a task done with its result."""
    user = request.user
    task = access_task(user, task_id, for_update=True)
    form = CompleteForm(request.POST)
    # Completing a deal's last open task asks for the next one in the same form.
    next_form = NextStepForm.for_request(request.POST, task.deal, place="complete")
    if form.is_valid():
        try:
            with transaction.atomic():
                task = do_complete_task(user, task, result=form.cleaned_data["result"])
                plan_posted(user, task.deal, next_form)
        except DomainError as exc:
            if next_form is None or not next_form.errors:
                exc.add_to_form(form)
        else:
            message = _("Task done.")
            if request.htmx:
                response = render(request, "activities/task_form_complete.html", {"task": task})
                return _changed(response, message)
            messages.success(request, message)
            return redirect(_back(request, deal=task.deal, contact=task.contact))
    if request.htmx:
        return render(
            request,
            "activities/task_form_complete.html",
            {"task": task, "form": form, "open": True, "next_form": next_form},
            status=422,
        )
    messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(_back(request, deal=task.deal, contact=task.contact))
