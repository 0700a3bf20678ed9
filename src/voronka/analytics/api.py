"""The funnel and the KPIs over the API (read only), with the pages' visibility: the owner and
the head everyone's figures, a senior their group's, a manager their own."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import Http404
from ninja import Query, Router

from voronka.accounts.models import Team, User
from voronka.api.references import pick
from voronka.api.schemas import READ_ERRORS
from voronka.clients.access import access_company
from voronka.clients.models import Segment
from voronka.control.evaluate import local_today
from voronka.sales.access import access_pipeline, visible_pipelines
from voronka.sales.models import Product

from . import queries
from .access import analytics_scope, narrow
from .kpis import KPIS
from .report import funnel_report
from .schemas import FunnelFilters, FunnelOut, KpiDefinition, KpiFilters, KpiOut

router = Router(tags=["analytics"])


def _window(user, filters) -> tuple[date, date]:
    until = filters.until or local_today(user.workspace)
    return filters.since or until - timedelta(days=89), until


def _owners(user, filters):
    scope = analytics_scope(user)
    wanted = None
    if filters.team_id is not None:
        team = Team.objects.filter(workspace_id=user.workspace_id, id=filters.team_id).first()
        if team is None:
            raise Http404
        wanted = set(
            User.objects.filter(workspace_id=user.workspace_id, team_id=team.id).values_list(
                "id", flat=True
            )
        )
        if team.lead_id:
            wanted.add(team.lead_id)
    if filters.owner_id is not None:
        wanted = {filters.owner_id} if wanted is None or filters.owner_id in wanted else set()
    return narrow(scope, wanted)


def _kept(user, filters) -> tuple[list[int] | None, list[int] | None]:
    """The product and segment filters as ``queries`` takes them: [id] (0: none) or None.

    Any product or segment the workspace keeps may be named, archived ones too (their deals
    are still in the figures); an id it does not keep, here or in another workspace, is a 422
    naming the field."""
    out = []
    for model, field in ((Product, "product_id"), (Segment, "segment_id")):
        value = getattr(filters, field)
        if value:
            pick(model.objects.filter(workspace_id=user.workspace_id), field, value)
        out.append(None if value is None else [value])
    return out[0], out[1]


@router.get("/analytics/kpi-definitions", response={200: list[KpiDefinition], **READ_ERRORS})
def kpi_definitions(request):
    """Every KPI: its code, label, unit and what it counts from which records."""
    analytics_scope(request.auth)
    return [
        KpiDefinition(code=k.code, label=str(k.label), unit=k.unit, definition=str(k.definition))
        for k in KPIS.values()
    ]


@router.get("/analytics/funnel", response={200: FunnelOut, **READ_ERRORS})
def funnel(request, filters: Query[FunnelFilters]):
    """A pipeline's funnel over a period (local days, both included): entries, amounts,
    conversion to the next stage and to won, time in stage, cycle, losses by reason, cohorts
    by month of creation, and the bottlenecks in words; narrowed by owner, team, source,
    client, product and client segment (the bottlenecks compare a manager with the peers under
    the same filters)."""
    user = request.auth
    owners = _owners(user, filters)
    products, segments = _kept(user, filters)
    if filters.pipeline_id is not None:
        pipeline = access_pipeline(user, filters.pipeline_id)
    else:
        pipeline = visible_pipelines(user).first()
        if pipeline is None:
            raise Http404
    company = None
    if filters.company_id is not None:
        company = access_company(user, filters.company_id)
    since, until = _window(user, filters)
    sel = queries.Selection.make(
        user.workspace_id,
        pipeline,
        since=since,
        until=until,
        owners=owners,
        sources=[filters.source] if filters.source is not None else None,
        company=company,
        products=products,
        segments=segments,
    )
    report = funnel_report(sel)
    return {
        "pipeline_id": pipeline.id,
        "since": since,
        "until": until,
        "stages": [
            {
                "stage_id": r.stage.id,
                "name": r.stage.name,
                "kind": r.stage.kind,
                "entered": r.entered,
                "amount": queries.money(r.amount_cents),
                "next_stage_id": r.next_stage.id if r.next_stage else None,
                "moved_on": r.moved_on,
                "to_next": r.to_next,
                "to_won": r.to_won,
                "finished_stays": r.stays,
                "median_hours": r.median_hours,
                "p75_hours": r.p75_hours,
                "p90_hours": r.p90_hours,
            }
            for r in report.rows
        ],
        "won": report.won,
        "won_amount": report.won_amount,
        "lost": report.lost,
        "cycle_median_hours": report.cycle_median_hours,
        "cycle_p75_hours": report.cycle_p75_hours,
        "cycle_p90_hours": report.cycle_p90_hours,
        "losses": [{"reason": r, "deals": n, "amount": a} for r, n, a in report.losses],
        "cohorts": [
            {"month": m, "created": n, "won": w, "amount": a} for m, n, w, a in report.cohorts
        ],
        "bottlenecks": [
            {
                "owner_id": b.owner_id,
                "stage_id": b.stage.id,
                "next_stage_id": b.next_stage.id if b.next_stage else None,
                "rate": b.rate,
                "norm_rate": b.norm_rate,
                "median_hours": b.median_hours,
                "norm_hours": b.norm_hours,
                "text": text,
            }
            for b, text in zip(report.bottlenecks, report.sentences, strict=True)
        ],
    }


@router.get("/analytics/kpis", response={200: KpiOut, **READ_ERRORS})
def kpis(request, filters: Query[KpiFilters]):
    """KPI values counted from the timeline, per owner, team or the company and per day, week,
    month or the whole period. With ``per=team`` or ``company`` only the people the caller
    sees are added up. ``product_id`` and ``segment_id`` narrow the deal KPIs; calls, meetings
    and comments are counted per author, never per product or segment."""
    user = request.auth
    owners = _owners(user, filters)
    products, segments = _kept(user, filters)
    pipeline = None
    if filters.pipeline_id is not None:
        pipeline = access_pipeline(user, filters.pipeline_id)
    since, until = _window(user, filters)
    values = queries.kpi_values(
        user.workspace_id,
        filters.codes,
        owners=owners,
        per=filters.per,
        since=since,
        until=until,
        granularity=filters.granularity,
        pipeline=pipeline,
        products=products,
        segments=segments,
    )
    rows = [
        {
            "who": who,
            "bucket": None if bucket == date.min else bucket,
            "code": code,
            "value": value,
        }
        for (who, bucket, code), value in values.items()
    ]
    rows.sort(key=lambda r: (r["who"] is None, r["who"] or 0, r["bucket"] or date.min, r["code"]))
    return {
        "since": since,
        "until": until,
        "per": filters.per,
        "granularity": filters.granularity,
        "values": rows,
    }
