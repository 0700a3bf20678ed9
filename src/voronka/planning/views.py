"""The targets page (the decomposition with its arithmetic, overrides and the split) and the
plan-versus-fact page."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.core.errors import DomainError
from voronka.sales.templatetags.sales_format import format_money

from . import rules
from .access import access_target, plan_scope, sees_whole, visible_targets
from .actions import do_override_assumption, do_set_target, do_split_target, may_plan
from .forms import OverrideForm, PeriodForm, SplitForm, TargetForm
from .models import PeriodKind, Scope, SplitEntry
from .observed import definition
from .plans import DEAL_METRICS, METRICS, plan_fact, target_plan

#: How many of the managers whose plan outruns their pace the warning names (the worst first).
NAMED_STRETCHES = 5


_SEPARATORS: dict[str | None, dict[int, str]] = {}


def _separators() -> dict[int, str]:
    """The reader's language's thousands and decimal separators, as ``str.translate`` takes
    them in place of Python's own ``,`` and ``.`` (looked up once per language)."""
    language = get_language()
    found = _SEPARATORS.get(language)
    if found is None:
        found = _SEPARATORS[language] = {
            ord(","): get_format("THOUSAND_SEPARATOR"),
            ord("."): get_format("DECIMAL_SEPARATOR"),
        }
    return found


def num(value, places: int = 0) -> str:
    """``value`` rounded half up to ``places`` (Django's number_format cuts digits off, which
    shows 49.05 as «49,0» next to its rounded-up «50»), without a ``,0`` for whole numbers,
    thousands grouped. A page of plans shows a thousand of these: Python formats, then the
    language's separators replace its own."""
    value = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if places and value == value.to_integral_value():
        places = 0
    return f"{value:,.{places}f}".translate(_separators())


def pct(value) -> str:
    return num(Decimal(value) * 100, 1) + "%"


def level_label(observed: rules.Observed, product=None, every_product: bool = False) -> str:
    """Where an assumption comes from. ``product``: a product target's deal figures, read from
    that product's deals; ``every_product``: a product target's calls and meetings per lead,
    read over every product (they are a person's, not a product's)."""
    labels = {
        "manager": _("the manager's own history, %(n)s deals"),
        "team": _("the team's history, %(n)s deals"),
        "company": _("the company's history, %(n)s deals"),
        rules.OVERRIDE: _("set by the head"),
        rules.NONE: _("no history: set it"),
    }
    if product is not None:
        labels |= {
            "manager": _("the manager's own «%(product)s» deals, %(n)s"),
            "team": _("the team's «%(product)s» deals, %(n)s"),
            "company": _("the company's «%(product)s» deals, %(n)s"),
            rules.ALL_PRODUCTS: _(
                "too few «%(product)s» deals: the company's history over all products, %(n)s deals"
            ),
        }
    elif every_product:
        labels |= {
            "manager": _("the manager's own history over all products, %(n)s deals"),
            "team": _("the team's history over all products, %(n)s deals"),
            "company": _("the company's history over all products, %(n)s deals"),
        }
    return labels[observed.level] % {
        "n": observed.sample,
        "product": getattr(product, "name", ""),
    }


def counted(what: str, n) -> str:
    """``n`` with its noun in the right plural form («1 493 лида», «21 рабочий день»)."""
    forms = {
        "won": lambda k: ngettext("%(n)s won deal", "%(n)s won deals", k),
        "deals": lambda k: ngettext("%(n)s deal", "%(n)s deals", k),
        "leads": lambda k: ngettext("%(n)s lead", "%(n)s leads", k),
        "meetings": lambda k: ngettext("%(n)s meeting", "%(n)s meetings", k),
        "calls": lambda k: ngettext("%(n)s call", "%(n)s calls", k),
        "days": lambda k: ngettext("%(n)s working day", "%(n)s working days", k),
    }
    return forms[what](int(n)) % {"n": num(n)}


def arithmetic(
    plan: rules.Plan, assumptions: rules.Assumptions, currency: str, product=None
) -> list[dict]:
    """Each step of ``plan`` as a sentence: operands, the exact result and the rounded one
    (a product target's first step names the product)."""
    names = [s.name for s in assumptions.stages]
    out = []
    for step in plan.steps:
        exact = num(step.exact, 1)
        values = {
            "exact": exact,
            "result": counted("won", step.result),
            "left": format_money(step.left, currency),
            "right": format_money(step.right, currency),
            "product": getattr(product, "name", ""),
        }
        if step.what == "won" and product is not None:
            text = (
                _("%(left)s ÷ %(right)s average «%(product)s» deal = %(exact)s → %(result)s")
                % values
            )
        elif step.what == "won":
            text = _("%(left)s ÷ %(right)s average deal = %(exact)s → %(result)s") % values
        elif step.what == "stage":
            i = names.index(step.stage)
            text = _(
                "%(left)s ÷ %(right)s («%(stage)s» → «%(next)s») = %(exact)s → %(result)s"
                " at «%(stage)s»"
            ) % {
                "exact": exact,
                "result": counted("deals", step.result),
                "left": num(step.left),
                "right": pct(step.right),
                "stage": step.stage,
                "next": names[i + 1],
            }
        elif step.what == "calls":
            text = _("%(left)s × %(right)s calls per lead = %(exact)s → %(result)s") % {
                "exact": exact,
                "result": counted("calls", step.result),
                "left": counted("leads", step.left),
                "right": num(step.right, 2),
            }
        else:
            text = _("%(left)s × %(right)s meetings per lead = %(exact)s → %(result)s") % {
                "exact": exact,
                "result": counted("meetings", step.result),
                "left": counted("leads", step.left),
                "right": num(step.right, 2),
            }
        activity = step.what in ("calls", "meetings")
        source = level_label(
            step.assumption,
            product=None if activity else product,
            every_product=activity and product is not None,
        )
        out.append({"text": text, "source": source})
    days = plan.working_days
    for rate in plan.rates:
        if rate.what in ("calls", "meetings", "leads") and days:
            out.append(
                {
                    "text": _("%(total)s ÷ %(days)s = %(per_day)s a day")
                    % {
                        "total": counted(rate.what, rate.total),
                        "days": counted("days", days),
                        "per_day": num(rate.per_day, 1),
                    },
                    "source": "",
                }
            )
    return out


def assumption_rows(tp, editable: bool) -> list[dict]:
    """The assumptions of the whole target, each with its origin and (for the head) a form."""
    a = tp.assumptions
    rows = []

    product = tp.target.product

    def row(key, label, observed, shown, raw, activity=False):
        form = None
        if editable:
            value = tp.overrides.get(key)
            if value is not None and key.startswith(rules.CONVERSION):
                value = value * 100
            form = OverrideForm(
                initial={"key": key, "value": "" if value is None else num(value, 2)},
                auto_id=f"id_{key.replace(':', '_')}_%s",
            )
        rows.append(
            {
                "key": key,
                "label": label,
                "value": shown,
                "raw": raw,
                "source": level_label(
                    observed,
                    product=None if activity else product,
                    every_product=activity and product is not None,
                ),
                "fell_back": observed.level == rules.ALL_PRODUCTS,
                "overridden": observed.level == rules.OVERRIDE,
                "form": form,
            }
        )

    currency = tp.target.workspace.currency
    avg = a.average_deal
    row(
        rules.AVERAGE_DEAL,
        _("Average deal"),
        avg,
        format_money(avg.value, currency) if avg.value is not None else "—",
        avg.value,
    )
    for i, conv in enumerate(a.conversions):
        label = f"{a.stages[i].name} → {a.stages[i + 1].name}"
        shown = pct(conv.value) if conv.value is not None else "—"
        row(rules.conversion_key(a.stages[i].key), label, conv, shown, conv.value)
    for key, label, obs in (
        (rules.MEETINGS_PER_LEAD, _("Meetings per lead"), a.meetings_per_lead),
        (rules.CALLS_PER_LEAD, _("Calls per lead"), a.calls_per_lead),
    ):
        shown = num(obs.value, 2) if obs.value is not None else "—"
        row(key, label, obs, shown, obs.value, activity=True)
    return rows


def _period(request) -> tuple[str, date]:
    form = PeriodForm(request.GET or None)
    kind, day = PeriodKind.MONTH, timezone.localdate()
    if form.is_bound and form.is_valid():
        kind = form.cleaned_data["kind"] or kind
        day = form.cleaned_data["start"] or day
    return kind, rules.period_start(kind, day)


def _decomposition_context(request, target, scope):
    user = request.user
    editable = may_plan(user)
    tp = target_plan(target, today=timezone.localdate(), only=scope)
    ctx = {"tp": tp, "target": target, "editable": editable, "steps": [], "assumptions": []}
    currency = target.workspace.currency
    if tp.assumptions is not None:
        ctx["assumptions"] = assumption_rows(tp, editable)
        ctx["steps"] = arithmetic(tp.overall, tp.assumptions, currency, target.product)
        ctx["product_fell_back"] = any(r.get("fell_back") for r in ctx["assumptions"])
        ctx["blocked"] = next(
            (r for r in ctx["assumptions"] if r["key"] == tp.overall.blocked_by), None
        )
    ctx["managers"] = [
        {
            "mp": mp,
            "steps": arithmetic(mp.plan, mp.assumptions, currency, target.product),
            "proposals": mp.plan.stages,
        }
        for mp in tp.managers
    ]
    # The furthest from their usual pace first (none made at all before anyone); the warning
    # names a few, the table marks every one.
    stretched = sorted(
        (mp for mp in tp.managers if mp.pace and mp.pace.is_stretch),
        key=lambda mp: (mp.pace.times is not None, -(mp.pace.times or 0), str(mp.manager)),
    )
    ctx["stretched"] = stretched
    ctx["stretched_named"] = stretched[:NAMED_STRETCHES]
    ctx["stretched_more"] = len(stretched) - len(ctx["stretched_named"])
    ctx["pace_warning"] = num(rules.PACE_WARNING, 1)
    ctx["show_overall"] = sees_whole(user, target)
    if tp.split is not None and not tp.split.adds_up:
        ctx["split_gap"] = format_money(abs(tp.split.difference), currency)
    if editable and target.scope != Scope.MANAGER:
        people = [mp.manager for mp in tp.managers]
        stored = dict(SplitEntry.objects.filter(target=target).values_list("manager_id", "basis"))
        ctx["split_form"] = SplitForm(
            initial={"method": target.split_method},
            people=people,
            initial_values={k: num(v, 2) for k, v in stored.items() if v is not None},
        )
    return ctx


@login_required
def targets(request, target_id: int | None = None):
    """The period's targets and the chosen one's decomposition; the head sets them here."""
    user = request.user
    scope = plan_scope(user)
    if target_id is not None:
        target = access_target(user, target_id)
        kind, start = target.period_kind, target.period_start
    else:
        kind, start = _period(request)
        target = None
    period_targets = list(
        visible_targets(user)
        .filter(period_kind=kind, period_start=start)
        .select_related("workspace", "team", "manager", "pipeline", "product")
        .order_by("scope", "id")
    )
    if target is None and period_targets:
        target = period_targets[0]
    status = 200
    form = None
    if may_plan(user):
        data = request.POST if request.method == "POST" else None
        form = TargetForm(
            data,
            workspace_id=user.workspace_id,
            initial={"period_kind": kind, "period_start": start, "scope": Scope.COMPANY},
        )
        if data is not None and form.is_valid():
            try:
                saved = do_set_target(user, **form.cleaned_data)
            except DomainError as exc:
                exc.add_to_form(form)
                status = 422
            else:
                return redirect("planning:target", target_id=saved.id)
        elif data is not None:
            status = 422
    elif request.method == "POST":
        raise Http404
    ctx = {
        "kind": kind,
        "start": start,
        "last_day": rules.period_end(kind, start) - timedelta(days=1),
        "period_form": PeriodForm(initial={"kind": kind, "start": start}),
        "targets": period_targets,
        "form": form,
        "kinds": PeriodKind.choices,
    }
    if target is not None:
        ctx.update(_decomposition_context(request, target, scope))
    return render(request, "planning/targets.html", ctx, status=status)


@login_required
@require_POST
def target_override(request, target_id: int):
    """Set or clear one assumption; answers the recomputed decomposition (htmx) or the page."""
    user = request.user
    scope = plan_scope(user)
    target = access_target(user, target_id)
    if not may_plan(user):
        raise Http404
    form = OverrideForm(request.POST)
    error = None
    if form.is_valid():
        try:
            do_override_assumption(
                user, target, key=form.cleaned_data["key"], value=form.cleaned_data["value"]
            )
        except DomainError as exc:
            error = {"key": form.cleaned_data["key"], "message": str(exc.message)}
    else:
        error = {"key": request.POST.get("key", ""), "message": _("Enter a number.")}
    if not request.htmx:
        return redirect("planning:target", target_id=target.id)
    ctx = _decomposition_context(request, target, scope)
    ctx["override_error"] = error
    return render(request, "planning/_decomposition.html", ctx, status=422 if error else 200)


@login_required
@require_POST
def target_split(request, target_id: int):
    user = request.user
    scope = plan_scope(user)
    target = access_target(user, target_id)
    if not may_plan(user) or target.scope == Scope.MANAGER:
        raise Http404
    tp = target_plan(target, today=timezone.localdate(), only=scope)
    form = SplitForm(request.POST, people=[mp.manager for mp in tp.managers])
    error = None
    if form.is_valid():
        try:
            do_split_target(user, target, method=form.cleaned_data["method"], values=form.values())
        except DomainError as exc:
            error = exc
    else:
        error = DomainError("invalid", _("Choose how the target is split among managers."))
    if not request.htmx:
        return redirect("planning:target", target_id=target.id)
    ctx = _decomposition_context(request, target, scope)
    if error is not None:
        error.add_to_form(ctx["split_form"])
        ctx["split_form"].data = request.POST
        ctx["split_form"].is_bound = True
    return render(request, "planning/_decomposition.html", ctx, status=422 if error else 200)


METRIC_LABELS = {
    "revenue": _("Revenue"),
    "won": _("Won deals"),
    "leads": _("New leads"),
    "meetings": _("Meetings"),
    "calls": _("Calls"),
}
STATUS = {
    rules.ON_TRACK_STATUS: ("success", _("on track")),
    rules.AT_RISK_STATUS: ("warning", _("at risk")),
    rules.OFF_TRACK_STATUS: ("danger", _("off track")),
    rules.NO_PLAN: ("secondary", _("no plan")),
}


def _cells(row, metrics, currency) -> list[dict]:
    cells = []
    for m in metrics:
        p = row.paces[m]
        money = m == "revenue"
        show = (lambda v: format_money(v, currency)) if money else (lambda v: num(v))
        colour, label = STATUS[p.status]
        cells.append(
            {
                "metric": m,
                "label": METRIC_LABELS[m],
                "plan": show(p.plan) if row.plan[m] is not None else "—",
                "fact": show(p.fact),
                "projection": show(p.projection.quantize(Decimal(1))),
                "run_rate": num(p.run_rate, 1)
                if not money
                else show(p.run_rate.quantize(Decimal(1))),
                "share": pct(p.done_share) if p.done_share is not None else "",
                "colour": colour,
                "status": label,
            }
        )
    return cells


@login_required
def fact(request):
    """Plan versus fact for a period: each manager's plan, fact, run rate and projection."""
    user = request.user
    scope = plan_scope(user)
    kind, start = _period(request)
    report = plan_fact(user.workspace, kind, start, timezone.localdate(), scope)
    currency = user.workspace.currency
    rows = [{"row": row, "cells": _cells(row, METRICS, currency)} for row in report.rows]
    sections = [
        {
            "product": section.product,
            "pipeline": section.pipeline,
            "rows": [{"row": r, "cells": _cells(r, DEAL_METRICS, currency)} for r in section.rows],
        }
        for section in [*report.products, *report.pipelines]
    ]
    board = []
    for place, row in enumerate(report.leaderboard, 1):
        p = row.paces["revenue"]
        board.append(
            {
                "place": place,
                "manager": row.manager,
                "fact": format_money(p.fact, currency),
                "share": pct(p.done_share) if p.done_share is not None else "—",
                "colour": STATUS[p.status][0],
            }
        )
    ctx = {
        "report": report,
        "rows": rows,
        "board": board,
        "metrics": [(m, METRIC_LABELS[m]) for m in METRICS],
        "sections": sections,
        "deal_metrics": [(m, METRIC_LABELS[m]) for m in DEAL_METRICS],
        "definitions": [(m, METRIC_LABELS[m], definition(m)) for m in METRICS],
        "kind": kind,
        "start": start,
        "last_day": report.end - timedelta(days=1),
        "period_form": PeriodForm(initial={"kind": kind, "start": start}),
        "on_track": pct(rules.ON_TRACK),
        "at_risk": pct(rules.AT_RISK),
        "may_plan": may_plan(user),
        "targets_url": reverse("planning:targets") + f"?kind={kind}&start={start.isoformat()}",
        "has_plan": any(r.target is not None for r in report.rows) or bool(sections),
        "kinds": PeriodKind.choices,
    }
    return render(request, "planning/fact.html", ctx)
