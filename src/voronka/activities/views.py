"""My day and the task list: what a person has to do, and every task they may see."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from voronka.accounts.access import may_write
from voronka.accounts.models import User
from voronka.clients.access import visible_contacts
from voronka.clients.forms import UserChoiceField, owner_filter_choices
from voronka.control.comments import my_stalled_deals, waiting_for_comment
from voronka.core.forms import StyledForm
from voronka.core.listing import capped_count, paginate
from voronka.sales.access import visible_deals
from voronka.sales.models import StageKind
from voronka.sales.rules import days_in_stage

from .access import visible_tasks
from .models import Task, TaskType

#: Rows shown in each section of My day; the rest are a click away in the task list.
SECTION_LIMIT = 50
#: My day counts one person's tasks: above this the header says "999+".
SECTION_COUNT_CAP = 999


def day_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime, datetime]:
    """The starts of today, tomorrow and the day after in ``tz``: the person's day, not UTC's."""
    today = now.astimezone(tz).date()
    return tuple(_day_start(today + timedelta(days=n), tz) for n in range(3))


def _day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _linkable(user, tasks) -> tuple[set[int], set[int]]:
    """Ids of the deals and contacts on these tasks that ``user`` may open.

    A task is visible to its owner even when the deal it is on belongs to someone the owner
    may not see; such a deal or contact is not named.
    """
    deal_ids = {t.deal_id for t in tasks if t.deal_id}
    contact_ids = {t.contact_id for t in tasks if t.contact_id}
    deals = set(visible_deals(user).filter(id__in=deal_ids).values_list("id", flat=True))
    contacts = set(visible_contacts(user).filter(id__in=contact_ids).values_list("id", flat=True))
    return deals, contacts


def _section(qs, limit: int = SECTION_LIMIT) -> dict:
    count, capped = capped_count(qs, SECTION_COUNT_CAP)
    return {"rows": list(qs[:limit]), "count": count, "capped": capped}


# My day ------------------------------------------------------------------------------------


@login_required
def my_day(request):
    """The signed-in person's day: communications waiting for a comment, overdue, today, deals
    without a next step, stalled deals, tomorrow."""
    user = request.user
    now = timezone.now()
    today, tomorrow, day_after = day_bounds(now, timezone.get_current_timezone())
    mine = visible_tasks(user).filter(owner_id=user.id).select_related("deal", "contact")
    open_tasks = mine.filter(done_at__isnull=True)
    overdue = _section(open_tasks.filter(due_at__lt=now).order_by("due_at", "id"))
    due_today = _section(
        open_tasks.filter(due_at__gte=now, due_at__lt=tomorrow).order_by("due_at", "id")
    )
    due_tomorrow = _section(
        open_tasks.filter(due_at__gte=tomorrow, due_at__lt=day_after).order_by("due_at", "id")
    )
    done_today = _section(
        mine.filter(done_at__gte=today, done_at__lt=tomorrow).order_by("-done_at", "-id")
    )
    no_next_step = _section(
        visible_deals(user)
        .filter(owner_id=user.id, stage__kind=StageKind.OPEN)
        .filter(~Exists(Task.objects.filter(deal_id=OuterRef("pk"), done_at__isnull=True)))
        .select_related("stage", "pipeline", "company")
        .order_by("stage_entered_at", "id")
    )
    for deal in no_next_step["rows"]:
        deal.days_in_stage = days_in_stage(deal.stage_entered_at, now)
    waiting = waiting_for_comment(user, now)
    tasks = [
        *overdue["rows"],
        *due_today["rows"],
        *due_tomorrow["rows"],
        *done_today["rows"],
    ]
    linkable_deals, linkable_contacts = _linkable(user, [*tasks, *waiting["rows"]])
    context = {
        "now": now,
        "today": today,
        "waiting": waiting,
        "stalled": my_stalled_deals(user),
        "overdue": overdue,
        "due_today": due_today,
        "due_tomorrow": due_tomorrow,
        "done_today": done_today,
        "no_next_step": no_next_step,
        "linkable_deals": linkable_deals,
        "linkable_contacts": linkable_contacts,
        "may_write": may_write(user),
    }
    # htmx asks for the day again after a task is completed: the sections, not the frame.
    template = "activities/_my_day.html" if request.htmx else "activities/my_day.html"
    return render(request, template, context)


# The task list -----------------------------------------------------------------------------

STATES = {
    "open": pgettext_lazy("tasks", "Open"),
    "overdue": pgettext_lazy("tasks", "Overdue"),
    "today": pgettext_lazy("tasks", "Due today"),
    "done": pgettext_lazy("tasks", "Done"),
    "all": pgettext_lazy("tasks", "All"),
}
SORTS = {"due": ("due_at", "id"), "-due": ("-due_at", "-id")}


class TaskFilterForm(StyledForm, forms.Form):
    q = forms.CharField(label=_("Search by goal"), required=False, max_length=255)
    owner = UserChoiceField(
        label=pgettext_lazy("person responsible", "Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=list(STATES.items()))
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any type")), *TaskType.choices]
    )
    due_from = forms.DateField(
        label=_("Due from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_to = forms.DateField(
        label=_("Due to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[("due", _("Soonest due first")), ("-due", _("Latest due first"))],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_filter_choices(user)
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("E.g. bank details"), "type": "search"}
        )


def _task_filters(form) -> dict:
    if not form.is_bound:
        return {}
    form.is_valid()
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


@login_required
def task_list(request):
    user = request.user
    now = timezone.now()
    tz = timezone.get_current_timezone()
    today, tomorrow, _after = day_bounds(now, tz)
    form = TaskFilterForm(request.GET or None, user=user)
    f = _task_filters(form)
    state = f.get("state") or "open"
    qs = visible_tasks(user).select_related("owner", "deal", "contact")
    if state == "open":
        qs = qs.filter(done_at__isnull=True)
    elif state == "overdue":
        qs = qs.filter(done_at__isnull=True, due_at__lt=now)
    elif state == "today":
        qs = qs.filter(done_at__isnull=True, due_at__gte=today, due_at__lt=tomorrow)
    elif state == "done":
        qs = qs.filter(done_at__isnull=False)
    if f.get("q", "").strip():
        qs = qs.filter(goal__icontains=f["q"].strip())
    if f.get("owner"):
        qs = qs.filter(owner=f["owner"])
    elif "owner" in form.errors:
        qs = qs.none()  # someone whose tasks this person may not see: none of them, not all
    if f.get("type"):
        qs = qs.filter(type=f["type"])
    if f.get("due_from"):
        qs = qs.filter(due_at__gte=_day_start(f["due_from"], tz))
    if f.get("due_to"):
        qs = qs.filter(due_at__lt=_day_start(f["due_to"] + timedelta(days=1), tz))
    sort = f.get("sort") or ("-due" if state == "done" else "due")
    page = paginate(qs.order_by(*SORTS[sort]), request.GET.get("page"))
    linkable_deals, linkable_contacts = _linkable(user, page.rows)
    return render(
        request,
        "activities/task_list.html",
        {
            "form": form,
            "page": page,
            "state": state,
            "states": STATES,
            "reset_query": "?" + urlencode({"state": state}),
            "now": now,
            "filtered": bool({"q", "owner", "type", "due_from", "due_to"} & set(f)),
            "show_owner_filter": form.fields["owner"].queryset.count() > 1,
            "linkable_deals": linkable_deals,
            "linkable_contacts": linkable_contacts,
            "may_write": may_write(user),
        },
    )
