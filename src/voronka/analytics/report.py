"""The funnel report a page, its CSV and the API show: read from ``queries``, judged by
``rules``, put in words here (the bottleneck's sentence is translated)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from voronka.accounts.models import User

from . import queries, rules


@dataclass
class FunnelReport:
    selection: queries.Selection
    stages: list[rules.StageInfo]
    rows: list[rules.FunnelRow]
    cycle_median_hours: int | None
    cycle_p75_hours: int | None
    cycle_p90_hours: int | None
    won: int
    won_amount: object
    lost: int
    losses: list[tuple[str, int, object]]
    cohorts: list[tuple[date, int, int, object]]
    bottlenecks: list[rules.Bottleneck]
    sentences: list[str]


def days(hours: int | None) -> str:
    if hours is None:
        return "—"
    return number_format(round(hours / 24, 1), decimal_pos=1)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def person_name(user: User | None) -> str:
    if user is None:
        return _("someone no longer here")
    return user.get_full_name() or user.username


def sentence(b: rules.Bottleneck, people: dict[int, User]) -> str:
    """The bottleneck in words, with its numbers."""
    parts = []
    low = b.rate is not None and b.norm_rate and b.rate < rules.CONVERSION_RATIO * b.norm_rate
    slow = (
        b.median_hours is not None
        and b.norm_hours
        and b.median_hours > (rules.TIME_RATIO * b.norm_hours)
    )
    if low and b.next_stage is not None:
        parts.append(
            _("«%(stage)s» → «%(next)s» %(rate)s vs %(norm)s for the others")
            % {
                "stage": b.stage.name,
                "next": b.next_stage.name,
                "rate": percent(b.rate),
                "norm": percent(b.norm_rate),
            }
        )
    if slow:
        norm_text = (
            _("the others' %(days)s") if b.owner_id is not None else _("the normal %(days)s")
        ) % {"days": days(b.norm_hours)}
        parts.append(
            _("deals wait %(days)s days at «%(stage)s» vs %(norm)s")
            % {"days": days(b.median_hours), "stage": b.stage.name, "norm": norm_text}
        )
    if not parts and b.next_stage is not None:
        parts.append(
            _("the weakest step is «%(stage)s» → «%(next)s»: %(rate)s of the deals move on")
            % {"stage": b.stage.name, "next": b.next_stage.name, "rate": percent(b.rate)}
        )
    who = person_name(people.get(b.owner_id)) if b.owner_id is not None else _("The funnel")
    return f"{who}: " + "; ".join(parts)


def funnel_report(sel: queries.Selection) -> FunnelReport:
    stages = queries.funnel_stages(sel.pipeline_id)
    by_owner = queries.funnel_facts(sel, by_owner=True)
    total = rules.Facts()
    for facts in by_owner.values():
        total.add(facts)
    rows = rules.funnel_rows(stages, total)
    cycle = rules.percentiles(rules.cycle_histogram(total), (50, 75, 90))
    won_rows = [r for r in rows if r.stage.kind == rules.WON]
    lost_rows = [r for r in rows if r.stage.kind == rules.LOST]
    bottlenecks = rules.find_bottlenecks(stages, by_owner, total=total)
    ids = {b.owner_id for b in bottlenecks if b.owner_id is not None}
    people = {u.id: u for u in User.objects.filter(id__in=ids)}
    return FunnelReport(
        selection=sel,
        stages=stages,
        rows=rows,
        cycle_median_hours=cycle[0],
        cycle_p75_hours=cycle[1],
        cycle_p90_hours=cycle[2],
        won=sum(r.entered for r in won_rows),
        won_amount=queries.money(sum(r.amount_cents for r in won_rows)),
        lost=sum(r.entered for r in lost_rows),
        losses=[
            (reason, n, queries.money(c)) for reason, n, c in rules.losses_by_reason(stages, total)
        ],
        cohorts=[(m, n, w, queries.money(c)) for m, n, w, c in queries.cohorts(sel)],
        bottlenecks=bottlenecks,
        sentences=[sentence(b, people) for b in bottlenecks],
    )
