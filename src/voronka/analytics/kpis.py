"""The KPI catalogue: every key figure defined once — its code, label, unit, and the definition
shown next to the number (what counts, from which records). ``queries.kpi_values`` counts them
from the rollups; nothing here is ever typed in by hand."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kpi:
    code: str
    label: Promise
    #: "count", "money" (Decimal, the workspace's currency), "minutes", "days", "share" (0..1)
    unit: str
    definition: Promise


KPIS: dict[str, Kpi] = {
    k.code: k
    for k in [
        Kpi(
            "calls_out",
            _("Outgoing calls"),
            "count",
            _("Calls on the timeline with the direction «outgoing», by their author."),
        ),
        Kpi(
            "calls_in",
            _("Incoming calls"),
            "count",
            _("Calls on the timeline with the direction «incoming», by the person who took them."),
        ),
        Kpi(
            "calls_answered",
            _("Answered calls"),
            "count",
            _(
                "Calls, either direction, with the outcome «answered»; where no outcome is "
                "recorded, a call that lasted more than zero seconds."
            ),
        ),
        Kpi(
            "call_minutes",
            _("Minutes on the phone"),
            "minutes",
            _("The durations of all calls of the period added up, in whole minutes."),
        ),
        Kpi(
            "meetings_held",
            _("Meetings held"),
            "count",
            _("Meetings logged on the timeline (a planned meeting counts once it is logged)."),
        ),
        Kpi(
            "proposals_sent",
            _("Proposals sent"),
            "count",
            _(
                "Deals entering the stage right before the invoice stage of their pipeline "
                "(«proposal sent» in the standard funnel)."
            ),
        ),
        Kpi(
            "invoices_issued",
            _("Invoices issued"),
            "count",
            _("Deals entering a stage that requires the invoice number or amount."),
        ),
        Kpi(
            "payments_count",
            _("Payments"),
            "count",
            _("Deals entering a won stage: a won deal is a paid deal."),
        ),
        Kpi(
            "payments_amount",
            _("Payments, amount"),
            "money",
            _("The amounts of the deals entering a won stage in the period."),
        ),
        Kpi(
            "new_deals",
            _("New deals"),
            "count",
            _("Deals created in the period, by their owner."),
        ),
        Kpi(
            "moved_forward",
            _("Deals moved forward"),
            "count",
            _("Moves of a deal to a later open stage or to a won stage."),
        ),
        Kpi("won", _("Deals won"), "count", _("Deals entering a won stage in the period.")),
        Kpi("lost", _("Deals lost"), "count", _("Deals entering a lost stage in the period.")),
        Kpi(
            "stage_conversion",
            _("Conversion to the next stage"),
            "share",
            _(
                "Of the deals that entered a stage in the period, the share that moved on to a "
                "later stage or won (by stage pair)."
            ),
        ),
        Kpi(
            "average_deal",
            _("Average deal"),
            "money",
            _("The amount of the deals won in the period divided by their number."),
        ),
        Kpi(
            "cycle_days",
            _("Cycle length"),
            "days",
            _(
                "The median time from a deal's creation to its win, for the deals won in the "
                "period (whole hours under three days, whole days under four weeks, whole "
                "weeks above)."
            ),
        ),
        Kpi(
            "comment_share",
            _("Communications with a comment"),
            "share",
            _(
                "Calls, meetings and messages whose comment is at least as long as the rules of "
                "work require, as a share of all of them."
            ),
        ),
    ]
}

#: The KPIs ``kpi_values`` counts per person and period (stage conversion is per stage pair:
#: ``queries.stage_conversions``).
COUNTED = tuple(code for code in KPIS if code != "stage_conversion")
