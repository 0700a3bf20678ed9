"""The control screen, its drill-down, snoozes, and the rules' settings page.

The control screen reads only the open violations and the daily snapshots (both indexed), never
the deals themselves: it answers as fast over a million deals as over a hundred.
"""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from voronka.accounts.models import Role, Team, User
from voronka.accounts.settings_views import settings_page
from voronka.core.errors import DomainError
from voronka.core.history import history_page
from voronka.core.listing import capped_count, paginate
from voronka.sales.access import access_deal, visible_deals

from .access import access_snooze, control_scope, visible_snoozes
from .actions import do_end_snooze, do_snooze_deal, do_update_rule_settings, may_snooze
from .evaluate import local_today
from .forms import ControlFilterForm, RuleSettingsForm, SnoozeForm
from .kinds import COLOURS, EXPLAINED, KINDS, LABELS, SHORT, SNOOZABLE
from .models import RuleSettings, Violation
from .summary import matrix, open_counts, trend

#: The event the deal page's live parts reload on.
DEAL_CHANGED = "dealChanged"
SNOOZE_LIST_LIMIT = 50


# -- Whose violations ----------------------------------------------------------------------------


def _people(user, scope):
    """Whom the person may filter by: active managers and seniors in their scope, and anyone
    in it who still has open violations (someone switched off, the head)."""
    has_open = Violation.objects.filter(
        workspace_id=user.workspace_id, resolved_at__isnull=True, manager_id=OuterRef("pk")
    )
    qs = User.objects.filter(workspace_id=user.workspace_id).filter(
        Q(is_active=True, role__in=[Role.MANAGER, Role.SENIOR]) | Q(Exists(has_open))
    )
    if scope is not None:
        qs = qs.filter(id__in=scope)
    return qs.select_related("team").order_by("last_name", "first_name", "username", "id")


def _teams(user, scope):
    qs = Team.objects.filter(workspace_id=user.workspace_id).select_related("lead")
    if scope is not None:
        qs = qs.filter(lead_id=user.id)
    return qs.order_by("name", "id")


def _filters(request, scope):
    """The filter form and the managers it narrows to (None: everyone in the person's scope)."""
    user = request.user
    people = _people(user, scope)
    form = ControlFilterForm(request.GET or None, teams=_teams(user, scope), people=people)
    managers = scope
    if form.is_bound:
        if not form.is_valid():
            # Someone outside the person's scope: nobody's violations, never everyone's.
            return form, people, frozenset(), ""
        data = form.cleaned_data
        if data["team"] is not None:
            members = set(
                User.objects.filter(
                    workspace_id=user.workspace_id, team_id=data["team"].id
                ).values_list("id", flat=True)
            )
            managers = frozenset(members if scope is None else members & scope)
        if data["manager"] is not None:
            chosen = data["manager"].id
            managers = frozenset({chosen} if managers is None or chosen in managers else ())
        return form, people, managers, data["kind"]
    return form, people, managers, ""


def _query(request, *drop) -> str:
    q = request.GET.copy()
    for name in ("page", *drop):
        q.pop(name, None)
    return q.urlencode()


# -- The control screen --------------------------------------------------------------------------


@login_required
def screen(request):
    """Today's violations by manager and kind, their trend over 30 days, and the snoozes."""
    user = request.user
    scope = control_scope(user)
    form, people, managers, _kind = _filters(request, scope)
    workspace = user.workspace
    counts = open_counts(workspace.id, managers)
    shown = [p for p in people if managers is None or p.id in managers]
    missing = {m for m, _k in counts} - {p.id for p in shown}
    if missing:
        shown += list(User.objects.filter(id__in=missing))
    table = matrix(counts, shown)
    today = local_today(workspace)
    history = trend(workspace.id, today, table.by_kind(), managers)
    yesterday = history.yesterday()
    cards = [
        {
            "kind": k.value,
            "label": LABELS[k],
            "help": EXPLAINED[k],
            "count": table.totals[i],
            "delta": table.totals[i] - yesterday[k],
            "change": abs(table.totals[i] - yesterday[k]),
            "colour": COLOURS[k],
        }
        for i, k in enumerate(KINDS)
    ]
    chart = {
        "days": [d.strftime("%d.%m") for d in history.days],
        "series": [
            {"name": str(LABELS[k]), "color": COLOURS[k], "data": history.series[k]} for k in KINDS
        ],
    }
    # The drill-down's links, made here once rather than by a {% url %} in every cell.
    drill = reverse("control:violations") + "?"
    prefix = _query(request, "kind", "manager")
    if prefix:
        drill += prefix + "&"
    rows = [
        {
            "person": r.person,
            "total": r.total,
            "href": f"{drill}manager={r.person.id}",
            "cells": [(k, n, f"{drill}manager={r.person.id}&kind={k}") for k, n in r.cells],
        }
        for r in table.rows
    ]
    snoozes = visible_snoozes(user).filter(ended_at__isnull=True, until__gt=timezone.now())
    if managers is not None:
        snoozes = snoozes.filter(deal__owner_id__in=managers)
    snooze_count, snooze_capped = capped_count(snoozes, 999)
    return render(
        request,
        "control/screen.html",
        {
            "form": form,
            "drill": drill,
            "rows": rows,
            "kinds": [{"value": k.value, "short": SHORT[k], "label": LABELS[k]} for k in KINDS],
            "cards": cards,
            "matrix": table,
            "trend_rows": history.rows(),
            "chart": chart,
            "today": today,
            "snoozes": list(
                snoozes.select_related("deal", "deal__owner", "created_by").order_by("until", "id")[
                    :SNOOZE_LIST_LIMIT
                ]
            ),
            "snooze_count": snooze_count,
            "snooze_capped": snooze_capped,
            "team_filter": bool(form.is_bound and form.is_valid() and form.cleaned_data["team"]),
        },
    )


@login_required
def violations(request):
    """The open violations behind a count: the deals, tasks and communications concerned."""
    user = request.user
    scope = control_scope(user)
    form, _people_qs, managers, kind = _filters(request, scope)
    qs = Violation.objects.filter(workspace_id=user.workspace_id, resolved_at__isnull=True)
    if managers is not None:
        qs = qs.filter(manager_id__in=managers)
    if kind:
        qs = qs.filter(kind=kind)
    # The page's ids first, over the violations' table alone; then only those rows with what
    # they point at: joining first would join every row of the kind before sorting.
    page = paginate(
        qs.order_by("since", "id").values_list("id", flat=True), request.GET.get("page")
    )
    loaded = Violation.objects.select_related(
        "manager", "deal", "deal__stage", "task", "communication", "communication__contact"
    ).in_bulk(page.rows)
    page = replace(page, rows=[loaded[i] for i in page.rows if i in loaded])
    deal_ids = {v.deal_id for v in page.rows if v.deal_id}
    # No ordering: a deal's default order would make the databases walk an index of all deals.
    linkable = set(
        visible_deals(user).filter(id__in=deal_ids).order_by().values_list("id", flat=True)
    )
    for v in page.rows:
        v.label = LABELS.get(v.kind, v.kind)
        v.linkable = v.deal_id in linkable
        v.snoozable = v.kind in SNOOZABLE and v.linkable
    chosen = form.cleaned_data.get("manager") if form.is_bound and form.is_valid() else None
    context = {
        "page": page,
        "kind_label": LABELS.get(kind) if kind else None,
        "manager": chosen,
        "query": _query(request),
        "now": timezone.now(),
    }
    template = "control/_violations.html" if request.htmx else "control/violations.html"
    return render(request, template, context)


# -- Snoozes -------------------------------------------------------------------------------------


def _snooze_context(user, deal, form=None):
    active = (
        visible_snoozes(user)
        .filter(deal_id=deal.id, ended_at__isnull=True, until__gt=timezone.now())
        .select_related("created_by")
        .order_by("-until")
        .first()
    )
    allowed = may_snooze(user, deal)
    return {
        "deal": deal,
        "active": active,
        "may_snooze": allowed,
        "form": form if form is not None else (SnoozeForm() if allowed else None),
    }


def _back(request, deal) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("sales:deal_detail", args=[deal.id])


def _changed(response, message: str):
    trigger_client_event(response, DEAL_CHANGED)
    return trigger_client_event(response, "voronka:toast", {"message": message, "kind": "success"})


@login_required
@require_http_methods(["GET", "POST"])
def deal_snooze(request, deal_id: int):
    """The deal's snooze: the pause in force with its reason, or a form to pause the flags."""
    user = request.user
    fragment = "control/_snooze.html"
    if request.method == "GET":
        deal = access_deal(user, deal_id)
        ctx = _snooze_context(user, deal)
        return render(request, fragment if request.htmx else "control/snooze.html", ctx)
    deal = access_deal(user, deal_id, for_update=True)
    if not may_snooze(user, deal):
        raise Http404
    form = SnoozeForm(request.POST)
    if form.is_valid():
        try:
            snooze = do_snooze_deal(
                user, deal, until=form.until_moment(), reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            message = _("The flags of «%(deal)s» are paused until %(day)s.") % {
                "deal": deal.title,
                "day": timezone.localtime(snooze.until).strftime("%d.%m.%Y"),
            }
            if request.htmx:
                return _changed(render(request, fragment, _snooze_context(user, deal)), message)
            messages.success(request, message)
            return redirect(_back(request, deal))
    ctx = _snooze_context(user, deal, form)
    return render(request, fragment if request.htmx else "control/snooze.html", ctx, status=422)


@login_required
@require_POST
def snooze_end(request, snooze_id: int):
    """End a snooze early: the deal's flags come back at once."""
    user = request.user
    snooze = access_snooze(user, snooze_id, for_update=True)
    deal = access_deal(user, snooze.deal_id)
    if not may_snooze(user, deal):
        raise Http404
    try:
        do_end_snooze(user, snooze)
    except DomainError as exc:
        if request.htmx:
            response = render(request, "control/_snooze.html", _snooze_context(user, deal))
            return trigger_client_event(
                response, "voronka:toast", {"message": str(exc), "kind": "danger"}
            )
        messages.error(request, str(exc))
        return redirect(_back(request, deal))
    message = _("The flags of «%(deal)s» are back.") % {"deal": deal.title}
    if request.htmx:
        return _changed(
            render(request, "control/_snooze.html", _snooze_context(user, deal)), message
        )
    messages.success(request, message)
    return redirect(_back(request, deal))


# -- The rules' settings -------------------------------------------------------------------------


@settings_page
def settings_rules(request):
    """The rules of work: grace periods, the shortest comment, gaps, working hours, the digest."""
    actor = request.user
    rules = RuleSettings.for_workspace(actor.workspace_id)
    form = RuleSettingsForm(request.POST or None, rules=rules)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changes = form.changes()
                if changes:
                    do_update_rule_settings(actor, **changes)
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                if changes:
                    messages.success(request, _("The rules of work are saved."))
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect("control:settings_rules")
        status = 422
    return render(
        request,
        "control/settings_rules.html",
        {
            "form": form,
            "history": history_page(
                [RuleSettings.history.filter(workspace_id=actor.workspace_id)],
                request.GET.get("history"),
                subject=lambda record: _("Rules of work"),
            ),
            "history_param": "history",
            "timezone_name": actor.workspace.timezone,
        },
        status=status,
    )
