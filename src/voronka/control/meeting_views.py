"""The planning meeting's page: the agenda of ``meeting.agenda``, on the screen and on paper.

For the head and the owner (the whole company, or a team) and the seniors (their group);
absent (404) for everyone else, as the control screen is.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from voronka.accounts.models import Role, Team
from voronka.core.forms import StyledForm
from voronka.planning.views import METRIC_LABELS, STATUS, num, pct
from voronka.sales.templatetags.sales_format import format_money

from .access import control_scope
from .kinds import LABELS
from .meeting import PERIODS, agenda, narrow, team_members

#: The plan-fact columns of the meeting, in the order they are discussed.
MEETING_METRICS = ("revenue", "won", "meetings", "calls")


class MeetingForm(StyledForm, forms.Form):
    """The team in view and the period of the plan-fact (GET; a wrong value is refused)."""

    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("All teams")
    )
    period = forms.ChoiceField(
        label=_("Plan for the"),
        required=False,
        choices=[
            ("month", pgettext_lazy("plan for the", "month")),
            ("week", pgettext_lazy("plan for the", "week")),
        ],
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        for name in ("team", "period"):
            self.fields[name].widget.attrs["class"] += " form-select-sm"


def meeting_teams(user):
    """The teams the person may narrow the meeting to: every team for the head and the owner,
    the teams a senior leads."""
    qs = Team.objects.filter(workspace_id=user.workspace_id).select_related("lead")
    if user.role not in (Role.OWNER, Role.HEAD):
        qs = qs.filter(lead_id=user.id)
    return qs.order_by("name", "id")


def meeting_scope(user, data) -> tuple[frozenset[int] | None, Team | None, str]:
    """The managers in view, the team chosen and the period from the parsed filters."""
    scope = control_scope(user)
    team = data.get("team")
    period = data.get("period") or "month"
    if period not in PERIODS:
        period = "month"
    members = team_members(user.workspace_id, team.id) if team is not None else None
    return narrow(scope, members), team, period


def hot_stage_labels(stages) -> list[tuple]:
    """Each stage with its name, the pipeline's added in brackets where two pipelines have a
    stage of the same name («Счёт выставлен (Входящие)», «Счёт выставлен (Проекты)»)."""
    seen: dict[str, int] = {}
    for s in stages:
        seen[s.name] = seen.get(s.name, 0) + 1
    return [(s, f"{s.name} ({s.pipeline.name})" if seen[s.name] > 1 else s.name) for s in stages]


def _plan_fact_rows(section, currency: str) -> list[dict]:
    rows = []
    for r in section.rows:
        cells = []
        for m in MEETING_METRICS:
            p = r.paces[m]
            money = m == "revenue"

            def show(v, money=money):
                return format_money(v, currency) if money else num(v)

            colour, label = STATUS[p.status]
            cells.append(
                {
                    "metric": m,
                    "fact": show(p.fact),
                    "plan": show(p.plan) if r.planned[m] else "—",
                    "projection": show(p.projection.quantize(Decimal(1))),
                    "share": pct(p.done_share) if p.done_share is not None else "",
                    "colour": colour,
                    "status": label,
                    "planned": r.planned[m],
                    "behind": num(r.behind[m]) if m in r.behind and r.behind[m] else "",
                }
            )
        rows.append({"manager": r.manager, "cells": cells})
    return rows


@login_required
def meeting(request):
    """The morning's agenda: plan-fact by manager, hot deals, stalled deals and deals without
    a next step, yesterday's wins and losses, and the calls flagged for review."""
    user = request.user
    control_scope(user)  # 404 for anyone the meeting is not for, before reading the filters
    teams = meeting_teams(user)
    form = MeetingForm(request.GET or None, teams=teams)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    refused = form.is_bound and not form.is_valid()
    managers, team, period = meeting_scope(user, data)
    if refused:
        managers = frozenset()  # a team the person does not lead: nobody's, never everyone's
    report = agenda(user, managers, period=period)
    currency = user.workspace.currency
    drill = reverse("control:violations")
    team_q = f"&team={team.id}" if team is not None else ""
    for group in report.stuck:
        for lst in group.lists:
            lst.label = LABELS[lst.kind]
            lst.href = f"{drill}?manager={group.manager.id}&kind={lst.kind}"
    deal_list = reverse("sales:deal_list")
    hot_links = [
        {"stage": s, "label": label, "href": f"{deal_list}?stage={s.id}&sort=-amount{team_q}"}
        for s, label in hot_stage_labels(report.hot.stages)
    ]
    pf = report.plan_fact
    ctx = {
        "form": form,
        "refused": refused,
        "show_team_filter": len(teams) > 1 or (teams and user.role in (Role.OWNER, Role.HEAD)),
        "team": team,
        "period": period,
        "report": report,
        "pf": pf,
        "pf_rows": _plan_fact_rows(pf, currency),
        "pf_last_day": pf.report.end - timedelta(days=1),
        "metrics": [(m, METRIC_LABELS[m]) for m in MEETING_METRICS],
        "has_plan": any(r.target is not None for r in pf.report.rows),
        "hot_links": hot_links,
        "won_amount": format_money(report.closed.won_amount, currency),
        "plan_url": reverse("planning:fact") + f"?kind={period}",
        "targets_url": reverse("planning:targets"),
        "control_url": reverse("control:screen") + (f"?team={team.id}" if team else ""),
    }
    return render(request, "control/meeting.html", ctx)
