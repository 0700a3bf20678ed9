"""The funnel analytics page and its CSV downloads: parse → scope → read the rollups → render."""

from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from voronka.accounts.models import Role, Team, User
from voronka.clients.access import access_company
from voronka.clients.models import Segment
from voronka.control.evaluate import local_today
from voronka.core.forms import StyledForm
from voronka.sales.access import visible_pipelines
from voronka.sales.models import Product
from voronka.sales.templatetags.sales_format import format_money

from . import queries
from .access import analytics_scope, may_export, narrow
from .models import StageEntryPeriod
from .report import days, funnel_report, percent

DEFAULT_DAYS = 90
CSV_TABLES = ("funnel", "losses", "cohorts")


class FunnelFilterForm(StyledForm, forms.Form):
    pipeline = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Pipeline"), required=False)
    since = forms.DateField(
        label=pgettext_lazy("period", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=pgettext_lazy("period", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    team = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Team"), required=False, empty_label=gettext_lazy("All")
    )
    manager = forms.ModelChoiceField(
        queryset=None,
        label=gettext_lazy("Manager"),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    source = forms.ChoiceField(label=gettext_lazy("Source"), required=False)
    product = forms.TypedChoiceField(
        label=gettext_lazy("Product"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": gettext_lazy("Choose a product from the list.")},
    )
    segment = forms.TypedChoiceField(
        label=gettext_lazy("Client segment"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": gettext_lazy("Choose a client segment from the list.")},
    )
    company = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, pipelines, teams, people, sources, products, segments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = pipelines
        self.fields["pipeline"].empty_label = None
        self.fields["team"].queryset = teams
        self.fields["manager"].queryset = people
        self.fields["manager"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["source"].choices = [("", _("All")), *[(s, s or _("(none)")) for s in sources]]
        # Archived entries too (marked): the period's deals may have been sold under them.
        kept = (
            ("product", products, _("No product")),
            ("segment", segments, _("No segment")),
        )
        for name, rows, none in kept:
            field = self.fields[name]
            field.choices = [
                ("", _("All")),
                ("0", none),
                *[(str(r.id), kept_name(r)) for r in rows],
            ]
            if not rows:  # no such list in the workspace: nothing to choose, an id still checked
                field.widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end comes before the start."))
        return data


def kept_name(row) -> str:
    """A product's or segment's name, marked when it is archived."""
    if row.is_archived:
        return _("%(name)s (archived)") % {"name": row.name}
    return row.name


def _kept(model, user) -> list:
    """The workspace's products or segments in the head's order, archived ones after."""
    return list(
        model.objects.filter(workspace_id=user.workspace_id).order_by(
            "is_archived", "position", "id"
        )
    )


def _people(user, scope):
    qs = User.objects.filter(
        workspace_id=user.workspace_id, role__in=[Role.MANAGER, Role.SENIOR, Role.HEAD]
    )
    if scope is not None:
        qs = qs.filter(id__in=scope)
    return qs.order_by("last_name", "first_name", "username", "id")


def _teams(user, scope):
    qs = Team.objects.filter(workspace_id=user.workspace_id)
    if scope is not None:
        qs = qs.filter(lead_id=user.id)
    return qs.order_by("name", "id")


def selection_for(request):
    """The form, the selection its values make within the person's scope, and the company.

    A form with a wrong value (a manager outside the scope, a product of another workspace)
    selects nobody: the page shows zeros and the form says which field is wrong."""
    user = request.user
    scope = analytics_scope(user)
    pipelines = visible_pipelines(user)
    today = local_today(user.workspace)
    first = pipelines.first()
    if first is None:
        return None, None, None
    pipeline_id = request.GET.get("pipeline") or first.id
    # The sources deals came from this calendar year and the last: read from the yearly
    # rollups (a few rows per owner and stage; the daily rows of a year are millions).
    sources = list(
        StageEntryPeriod.objects.filter(
            workspace_id=user.workspace_id,
            pipeline_id=int(pipeline_id) if str(pipeline_id).isdigit() else first.id,
            period__in=[str(today.year - 1), str(today.year)],
        )
        .order_by("source")
        .values_list("source", flat=True)
        .distinct()[:100]
    )
    form = FunnelFilterForm(
        request.GET or None,
        pipelines=pipelines,
        teams=_teams(user, scope),
        people=_people(user, scope),
        sources=sources,
        products=_kept(Product, user),
        segments=_kept(Segment, user),
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        owners: tuple | None = ()  # a wish outside the scope shows nobody, never everyone
    else:
        wanted = None
        if data.get("team") is not None:
            wanted = set(
                User.objects.filter(
                    workspace_id=user.workspace_id, team_id=data["team"].id
                ).values_list("id", flat=True)
            )
            wanted.add(data["team"].lead_id) if data["team"].lead_id else None
        if data.get("manager") is not None:
            wanted = (
                {data["manager"].id} if wanted is None or data["manager"].id in wanted else set()
            )
        owners = narrow(scope, wanted)
    company = None
    if data.get("company"):
        company = access_company(user, data["company"])
    until = data.get("until") or today
    since = data.get("since") or until - timedelta(days=DEFAULT_DAYS - 1)
    sel = queries.Selection.make(
        user.workspace_id,
        data.get("pipeline") or first,
        since=since,
        until=until,
        owners=owners,
        sources=[data["source"]] if data.get("source") not in (None, "") else None,
        company=company,
        products=[data["product"]] if data.get("product") is not None else None,
        segments=[data["segment"]] if data.get("segment") is not None else None,
    )
    return form, sel, company


def summary(form, sel, company) -> list[tuple[str, str]]:
    """The selection in words for the page's heading (and its print): the pipeline, the period
    and each filter chosen, as (label, value)."""
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    pipeline = data.get("pipeline") or form.fields["pipeline"].queryset.get(id=sel.pipeline_id)
    out = [
        (_("Pipeline"), pipeline.name),
        (
            _("Period"),
            f"{date_format(sel.since, 'SHORT_DATE_FORMAT')} — "
            f"{date_format(sel.until, 'SHORT_DATE_FORMAT')}",
        ),
    ]
    if data.get("team") is not None:
        out.append((_("Team"), data["team"].name))
    if data.get("manager") is not None:
        out.append((_("Manager"), data["manager"].get_full_name() or data["manager"].username))
    if data.get("source") not in (None, ""):
        out.append((_("Source"), data["source"]))
    for name in ("product", "segment"):
        if data.get(name) is not None:
            choices = dict(form.fields[name].choices)
            out.append((str(form.fields[name].label), str(choices[str(data[name])])))
    if company is not None:
        out.append((_("Client"), company.name))
    return out


def _chart(report) -> dict:
    shown = [r for r in report.rows if r.stage.kind != "lost"]
    return {
        "stages": [r.stage.name for r in shown],
        "entered": [r.entered for r in shown],
        "amount": [float(queries.money(r.amount_cents)) for r in shown],
        "median_days": [
            round(r.median_hours / 24, 1) if r.median_hours is not None else None for r in shown
        ],
        "p90_days": [
            round(r.p90_hours / 24, 1) if r.p90_hours is not None else None for r in shown
        ],
        "cohorts": {
            "months": [m.strftime("%m.%Y") for m, *_ in report.cohorts],
            "created": [n for _m, n, _w, _c in report.cohorts],
            "won": [w for _m, _n, w, _c in report.cohorts],
        },
        "labels": {
            "entered": _("Entered"),
            "median": _("Median, days"),
            "p90": _("90th percentile, days"),
            "created": _("Created"),
            "won": _("Won since"),
        },
    }


@login_required
def funnel(request):
    """The funnel of a pipeline over a period, the time in stage, wins and losses, cohorts, and
    the bottleneck named in words."""
    form, sel, company = selection_for(request)
    if sel is None:
        return render(request, "analytics/funnel.html", {"no_pipeline": True})
    report = funnel_report(sel)
    if request.GET.get("format") == "csv":
        if not may_export(request.user):
            raise Http404
        return _csv(report, request.GET.get("table", "funnel"))
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("table", None)
    return render(
        request,
        "analytics/funnel.html",
        {
            "form": form,
            "report": report,
            "sel": sel,
            "company": company,
            "summary": summary(form, sel, company),
            "rows": [_row(r) for r in report.rows],
            "chart": _chart(report),
            "may_export": may_export(request.user),
            "query": query.urlencode(),
            "cycle": {
                "median": days(report.cycle_median_hours),
                "p75": days(report.cycle_p75_hours),
                "p90": days(report.cycle_p90_hours),
            },
            "kpis": queries.KPIS,
            "won_amount": format_money(
                report.won_amount.quantize(Decimal("1")), request.user.workspace.currency
            ),
            "losses": [(r, n, money_text(a)) for r, n, a in report.losses],
            "cohorts": [(m, n, w, money_text(a)) for m, n, w, a in report.cohorts],
        },
    )


def money_text(value) -> str:
    """An amount in whole units with the thousands grouped, as the board shows them."""
    return number_format(value, decimal_pos=0, force_grouping=True)


def _row(r) -> dict:
    return {
        "stage": r.stage,
        "entered": r.entered,
        "amount": money_text(queries.money(r.amount_cents)),
        "to_next": percent(r.to_next),
        "next": r.next_stage.name if r.next_stage else "",
        "to_won": percent(r.to_won),
        "median": days(r.median_hours),
        "p75": days(r.p75_hours),
        "p90": days(r.p90_hours),
        "stays": r.stays,
    }


def _csv(report, table: str) -> HttpResponse:
    if table not in CSV_TABLES:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    sel = report.selection
    response["Content-Disposition"] = (
        f'attachment; filename="{table}-{sel.since:%Y%m%d}-{sel.until:%Y%m%d}.csv"'
    )
    response.write("\ufeff")  # spreadsheets read the Cyrillic right with the byte order mark
    writer = csv.writer(response)
    if table == "funnel":
        writer.writerow(
            [
                _("Stage"),
                _("Entered"),
                _("Amount"),
                _("To the next stage"),
                _("To won"),
                _("Median, days"),
                _("75th percentile, days"),
                _("90th percentile, days"),
            ]
        )
        for r in report.rows:
            writer.writerow(
                [
                    r.stage.name,
                    r.entered,
                    queries.money(r.amount_cents),
                    "" if r.to_next is None else round(r.to_next, 4),
                    "" if r.to_won is None else round(r.to_won, 4),
                    "" if r.median_hours is None else round(r.median_hours / 24, 2),
                    "" if r.p75_hours is None else round(r.p75_hours / 24, 2),
                    "" if r.p90_hours is None else round(r.p90_hours / 24, 2),
                ]
            )
    elif table == "losses":
        writer.writerow([_("Loss reason"), _("Deals"), _("Amount")])
        for reason, n, amount in report.losses:
            writer.writerow([reason or _("(none)"), n, amount])
    else:
        writer.writerow([_("Month"), _("Created"), _("Won since"), _("Amount")])
        for month, n, w, amount in report.cohorts:
            writer.writerow([f"{month:%Y-%m}", n, w, amount])
    return response
