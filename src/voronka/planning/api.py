"""Targets, their decomposition and plan versus fact over the API: parse → access → action."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status

from voronka.accounts.models import Team, User
from voronka.api.schemas import READ_ERRORS, WRITE_ERRORS, PathId, page
from voronka.sales.models import Pipeline, Product

from . import rules
from .access import access_target, plan_scope, sees_whole, visible_targets
from .actions import (
    do_delete_target,
    do_override_assumption,
    do_set_target,
    do_split_target,
    may_plan,
)
from .models import Target
from .plans import DEAL_METRICS, METRICS, plan_fact, target_plan
from .schemas import (
    DecompositionOut,
    OverrideIn,
    PlanFactOut,
    PlanFactQuery,
    SplitIn,
    TargetFilters,
    TargetIn,
    TargetOut,
    TargetPage,
    TargetPatch,
)

router = Router(tags=["planning"])


def target_out(user, t: Target) -> dict:
    return {
        "id": t.id,
        "period_kind": t.period_kind,
        "period_start": t.period_start,
        "period_end": rules.period_end(t.period_kind, t.period_start),
        "scope": t.scope,
        "team_id": t.team_id,
        "manager_id": t.manager_id,
        "pipeline_id": t.pipeline_id,
        "product_id": t.product_id,
        "amount": t.amount if sees_whole(user, t) else None,
        "window_days": t.window_days,
        "split_method": t.split_method,
    }


def _writable(user, target_id) -> Target:
    target = access_target(user, target_id)
    if not may_plan(user):
        raise Http404
    return target


def _own(model, user, obj_id):
    if obj_id is None:
        return None
    try:
        return model.objects.get(workspace_id=user.workspace_id, id=obj_id)
    except model.DoesNotExist:
        return model(id=obj_id, workspace_id=0)  # the action names the field


@router.get("/planning/targets", response={200: TargetPage, **READ_ERRORS})
def list_targets(request, filters: Query[TargetFilters]):
    """The targets the caller sees, newest period first."""
    qs = visible_targets(request.auth)
    if filters.period_kind is not None:
        qs = qs.filter(period_kind=filters.period_kind)
    if filters.period_start is not None:
        qs = qs.filter(period_start=filters.period_start)
    result = page(qs.order_by("-period_start", "period_kind", "scope", "id"), filters)
    result["items"] = [target_out(request.auth, t) for t in result["items"]]
    return result


@router.post("/planning/targets", response={201: TargetOut, **WRITE_ERRORS})
def set_target(request, payload: TargetIn):
    """Set a period's target (owner and head); the same period and scope again changes it."""
    user = request.auth
    plan_scope(user)
    target = do_set_target(
        user,
        period_kind=payload.period_kind,
        period_start=payload.period_start,
        scope=payload.scope,
        amount=payload.amount,
        team=_own(Team, user, payload.team_id),
        manager=_own(User, user, payload.manager_id),
        pipeline=_own(Pipeline, user, payload.pipeline_id),
        product=_own(Product, user, payload.product_id),
        window_days=payload.window_days,
        split_method=payload.split_method,
    )
    return Status(201, target_out(user, target))


@router.get("/planning/targets/{target_id}", response={200: TargetOut, **READ_ERRORS})
def get_target(request, target_id: PathId):
    return target_out(request.auth, access_target(request.auth, target_id))


@router.patch("/planning/targets/{target_id}", response={200: TargetOut, **WRITE_ERRORS})
def update_target(request, target_id: PathId, payload: TargetPatch):
    user = request.auth
    t = _writable(user, target_id)
    target = do_set_target(
        user,
        period_kind=t.period_kind,
        period_start=t.period_start,
        scope=t.scope,
        amount=payload.amount if payload.amount is not None else t.amount,
        team=t.team,
        manager=t.manager,
        pipeline=t.pipeline,
        product=t.product,
        window_days=payload.window_days or t.window_days,
        split_method=payload.split_method or t.split_method,
    )
    return target_out(user, target)


@router.delete("/planning/targets/{target_id}", response={204: None, **WRITE_ERRORS})
def delete_target(request, target_id: PathId):
    do_delete_target(request.auth, _writable(request.auth, target_id))
    return Status(204, None)


@router.post(
    "/planning/targets/{target_id}/overrides", response={200: DecompositionOut, **WRITE_ERRORS}
)
def override(request, target_id: PathId, payload: OverrideIn):
    """Set (or with a null value, clear) one assumption; answers the recomputed plan."""
    user = request.auth
    target = _writable(user, target_id)
    do_override_assumption(user, target, key=payload.key, value=payload.value)
    return decomposition(request, target_id)


@router.post(
    "/planning/targets/{target_id}/split", response={200: DecompositionOut, **WRITE_ERRORS}
)
def split(request, target_id: PathId, payload: SplitIn):
    """Split a company or team target among its managers; answers the plan and what it misses."""
    user = request.auth
    target = _writable(user, target_id)
    do_split_target(user, target, method=payload.method, values=payload.values)
    return decomposition(request, target_id)


def _plan(plan: rules.Plan, a: rules.Assumptions | None) -> dict:
    def rate(what, attr):
        r = plan.rate(what)
        return getattr(r, attr) if r else None

    assumptions = []
    if a is not None:
        assumptions.append({"key": rules.AVERAGE_DEAL, **_obs(a.average_deal)})
        for stage, conv in zip(a.stages, a.conversions, strict=False):
            assumptions.append({"key": rules.conversion_key(stage.key), **_obs(conv)})
        assumptions.append({"key": rules.MEETINGS_PER_LEAD, **_obs(a.meetings_per_lead)})
        assumptions.append({"key": rules.CALLS_PER_LEAD, **_obs(a.calls_per_lead)})
    return {
        "status": plan.status,
        "blocked_by": plan.blocked_by,
        "amount": plan.target,
        "won": plan.won,
        "stages": [{"stage_id": int(s.key), "stage": s.name, "deals": n} for s, n in plan.stages],
        "leads": plan.leads,
        "meetings": plan.meetings,
        "calls": plan.calls,
        "calls_per_day": rate("calls", "per_day"),
        "meetings_per_week": rate("meetings", "per_week"),
        "steps": [
            {
                "what": s.what,
                "op": s.op,
                "left": s.left,
                "right": s.right,
                "exact": round(s.exact, 4),
                "result": s.result,
                "stage": s.stage,
                "level": s.assumption.level,
            }
            for s in plan.steps
        ],
        "assumptions": assumptions,
    }


def _obs(o: rules.Observed) -> dict:
    return {
        "value": None if o.value is None else round(o.value, 4),
        "level": o.level,
        "sample": o.sample,
    }


@router.get(
    "/planning/targets/{target_id}/decomposition",
    response={200: DecompositionOut, **READ_ERRORS},
)
def decomposition(request, target_id: PathId):
    """The target decomposed with every step of the arithmetic: the whole (for those who see
    it) and each manager the caller may see."""
    user = request.auth
    scope = plan_scope(user)
    target = access_target(user, target_id)
    tp = target_plan(target, today=timezone.localdate(), only=scope)
    whole = sees_whole(user, target)
    return {
        "target": target_out(user, target),
        "working_days": tp.working_days,
        "window_start": tp.window_start,
        "window_end": tp.window_end,
        "overall": _plan(tp.overall, tp.assumptions) if tp.overall and whole else None,
        "split_difference": tp.split.difference if tp.split and whole else None,
        "managers": [
            {
                "manager_id": mp.manager.id,
                "plan": _plan(mp.plan, mp.assumptions),
                "pace": None
                if mp.pace is None
                else {
                    "planned_calls_per_day": mp.pace.planned_per_day,
                    "usual_calls_per_day": mp.pace.usual_per_day,
                    "times": mp.pace.times,
                    "stretch": mp.pace.is_stretch,
                },
            }
            for mp in tp.managers
        ],
    }


@router.get("/planning/plan-fact", response={200: PlanFactOut, **READ_ERRORS})
def read_plan_fact(request, query: Query[PlanFactQuery]):
    """Each manager the caller sees: plan, fact, run rate and the linear projection."""
    user = request.auth
    scope = plan_scope(user)
    start = query.period_start or timezone.localdate()
    report = plan_fact(user.workspace, query.period_kind, start, timezone.localdate(), scope)
    return {
        "period_kind": report.kind,
        "period_start": report.start,
        "period_end": report.end,
        "working_days": report.working_days,
        "elapsed_working_days": report.elapsed_days,
        "on_track_from": rules.ON_TRACK,
        "at_risk_from": rules.AT_RISK,
        "rows": [_fact_row(row, METRICS) for row in report.rows],
        "products": [
            {"product_id": pf.product.id, "rows": [_fact_row(r, DEAL_METRICS) for r in pf.rows]}
            for pf in report.products
        ],
        "pipelines": [
            {
                "pipeline_id": pf.pipeline.id,
                "product_id": pf.product.id if pf.product else None,
                "rows": [_fact_row(r, DEAL_METRICS) for r in pf.rows],
            }
            for pf in report.pipelines
        ],
    }


def _fact_row(row, metrics) -> dict:
    return {
        "manager_id": row.manager.id,
        "target_id": row.target.id if row.target else None,
        "metrics": [
            {
                "metric": m,
                "plan": None if row.plan[m] is None else Decimal(row.plan[m]),
                "fact": row.paces[m].fact,
                "run_rate": round(row.paces[m].run_rate, 2),
                "projection": round(row.paces[m].projection, 2),
                "status": row.paces[m].status,
            }
            for m in metrics
        ],
    }
