"""What a plan reads from the past and what plan versus fact counts, through the analytics'
query interface (``voronka.analytics.queries``): the KPIs are defined there once, and their
definitions are shown next to the facts.

Windows here are half-open ``[start, end)`` as in the planning rules; the analytics take both
ends included, so ``end`` becomes the day before.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from voronka.analytics import rules as analytics_rules
from voronka.analytics.queries import (
    KPIS,
    Selection,
    deal_kpis_from_facts,
    funnel_facts,
    funnel_stages,
    kpi_values,
)

#: The plan's metrics and the KPI each is measured by.
FACT_KPIS = {
    "revenue": "payments_amount",
    "won": "won",
    "leads": "new_deals",
    "meetings": "meetings_held",
    "calls": "calls_out",
}


def definition(metric: str):
    """What a metric's fact counts, as the analytics define it."""
    kpi = KPIS[FACT_KPIS[metric]]
    return kpi.definition


@dataclass
class LevelHistory:
    """The history of a manager, a team or the company in a window."""

    entered: dict = field(default_factory=lambda: defaultdict(int))  # stage id → entries
    reached: dict = field(default_factory=lambda: defaultdict(int))  # … that moved on
    won_amount: Decimal = Decimal(0)
    won: int = 0
    calls: int = 0
    meetings: int = 0
    leads: int = 0


class History:
    """A pipeline's history over a window, read once and summed for any set of owners.

    With ``product_id`` the deals' figures (the funnel, won deals and their amount, new leads)
    are those of that product's deals only; calls and meetings are a person's, never a
    product's, and stay the person's whole count.
    """

    def __init__(
        self, workspace, pipeline_id: int, start: date, end: date, product_id: int | None = None
    ):
        self.workspace = workspace
        self.pipeline_id = pipeline_id
        self.product_id = product_id
        self.products = None if product_id is None else [product_id]
        self.since, self.until = start, end - timedelta(days=1)
        self._levels: dict = {}
        self._owners = None
        self._facts = None
        self._stages = None

    def per_owner_facts(self) -> dict:
        """The window's funnel facts per owner, read once: every level sums its owners'."""
        if self._facts is None:
            sel = Selection.make(
                self.workspace,
                self.pipeline_id,
                since=self.since,
                until=self.until,
                products=self.products,
            )
            self._facts = funnel_facts(sel, by_owner=True, durations=False)
            self._stages = funnel_stages(self.pipeline_id)
        return self._facts

    def per_owner(self) -> dict[int, dict[str, object]]:
        if self._owners is None:
            # The deal KPIs from the funnel facts already read; the activities from the rollups.
            deals = deal_kpis_from_facts(
                self.workspace, self.per_owner_facts(), ["won", "payments_amount", "new_deals"]
            )
            activities = kpi_values(
                self.workspace,
                ["meetings_held", "calls_out"],
                per="owner",
                since=self.since,
                until=self.until,
                granularity="total",
                pipeline=self.pipeline_id,
                products=self.products,
            )
            out: dict = defaultdict(dict)
            for (who, _bucket, code), value in [*deals.items(), *activities.items()]:
                out[who][code] = value
            self._owners = out
        return self._owners

    def level(self, owners: frozenset[int] | None) -> LevelHistory:
        """The history of ``owners`` together (None: the whole company)."""
        if owners is not None and not owners:
            return LevelHistory()
        if owners not in self._levels:
            h = LevelHistory()
            for who, v in self.per_owner().items():
                if owners is None or who in owners:
                    h.won += v.get("won") or 0
                    h.won_amount += v.get("payments_amount") or Decimal(0)
                    h.leads += v.get("new_deals") or 0
                    h.meetings += v.get("meetings_held") or 0
                    h.calls += v.get("calls_out") or 0
            facts = analytics_rules.Facts()
            for who, owner_facts in self.per_owner_facts().items():
                if owners is None or who in owners:
                    facts.add(owner_facts)
            for row in analytics_rules.funnel_rows(self._stages, facts):
                if row.stage.kind == analytics_rules.OPEN:
                    h.entered[row.stage.id] += row.entered
                    h.reached[row.stage.id] += row.moved_on
            self._levels[owners] = h
        return self._levels[owners]

    def won_amounts(self) -> dict[int, Decimal]:
        return {who: v.get("payments_amount") or Decimal(0) for who, v in self.per_owner().items()}


def period_facts(
    workspace, start: date, end: date, product_id: int | None = None, pipeline_id=None
) -> dict[int, dict[str, Decimal]]:
    """Per owner, the plan's metrics counted in ``[start, end)`` over every pipeline (with
    ``pipeline_id``, that one).

    With ``product_id`` or ``pipeline_id`` revenue, won deals and new leads are those deals
    only; calls and meetings are not recorded per deal and stay the person's whole count."""
    values = kpi_values(
        workspace,
        list(FACT_KPIS.values()),
        per="owner",
        since=start,
        until=end - timedelta(days=1),
        granularity="total",
        pipeline=pipeline_id,
        products=None if product_id is None else [product_id],
    )
    out: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {metric: Decimal(0) for metric in FACT_KPIS}
    )
    for (who, _bucket, code), value in values.items():
        for metric, kpi in FACT_KPIS.items():
            if kpi == code:
                out[who][metric] = Decimal(value or 0)
    return out
