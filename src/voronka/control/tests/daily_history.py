"""A small known week for the daily report: a plan whose every assumption the head set, and one
manager's Monday and Wednesday on the timeline."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from voronka.analytics.rollups import rebuild_workspace
from voronka.inbox.actions import do_log_communication
from voronka.planning.actions import conversion_stages, do_override_assumption, do_set_target
from voronka.planning.models import Scope
from voronka.planning.rules import AVERAGE_DEAL, CALLS_PER_LEAD, MEETINGS_PER_LEAD, conversion_key
from voronka.sales.actions import do_move_deal
from voronka.sales.models import Stage
from voronka.testing.factories import make_deal

#: A Wednesday; its week runs from Monday the 16th to Sunday the 22nd.
DAY = date(2026, 11, 18)
MONDAY = date(2026, 11, 16)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo("Europe/Moscow"))


def plan_week(org, manager, amount=500000):
    """manager's target for the week of DAY: with an average deal of 100 000 and every step
    converting at 50 %, 500 000 is 5 wins, 10 invoices, 20 proposals, 40 meetings scheduled,
    80 qualified and 160 leads; 2 calls and 0.25 meetings a lead make 320 calls and 40 meetings.
    Over five working days a day's plan is 64 calls, 8 meetings, 4 proposals, 2 invoices, one
    payment and 100 000 of revenue."""
    target = do_set_target(
        org.head,
        period_kind="week",
        period_start=MONDAY,
        scope=Scope.MANAGER,
        manager=manager,
        amount=amount,
    )
    do_override_assumption(org.head, target, key=AVERAGE_DEAL, value="100000")
    do_override_assumption(org.head, target, key=CALLS_PER_LEAD, value="2")
    do_override_assumption(org.head, target, key=MEETINGS_PER_LEAD, value="0.25")
    for stage in conversion_stages(target):
        do_override_assumption(org.head, target, key=conversion_key(str(stage.id)), value="50")
    return target


def invoice_stage_needs_its_number(org):
    """The standard funnel's invoice stage asks for the invoice number (an invoice KPI's
    definition), so «КП отправлено» before it counts proposals."""
    Stage.objects.filter(pk=org.stage("Счёт выставлен").pk).update(required_fields=["invoice_no"])


def known_week(org) -> None:
    """manager1: on Monday 2 calls; on Wednesday (DAY) 3 outgoing calls, 1 incoming, a meeting,
    a deal walked from the start to a win of 120 000 (a proposal and an invoice on the way) and
    another lost after the proposal as «Дорого». manager3 lost a deal on DAY for no reason
    given. Nothing else."""
    invoice_stage_needs_its_number(org)
    m1 = org.manager1
    for minute in (0, 5):
        do_log_communication(
            m1,
            kind="call",
            direction="out",
            deal=make_deal(m1, org.pipeline, days_ago=30),
            occurred_at=at(MONDAY, 10, minute),
            comment="Обсудили условия поставки",
        )
    won = make_deal(m1, org.pipeline, amount=Decimal(120000), title="Выиграна", days_ago=30)
    for n, name in enumerate(["Квалификация", "Встреча назначена", "КП отправлено"], 1):
        do_move_deal(m1, won, org.stage(name), at=at(DAY, 11, n))
    do_move_deal(
        m1, won, org.stage("Счёт выставлен"), fields={"invoice_no": "С-1"}, at=at(DAY, 11, 10)
    )
    do_move_deal(m1, won, org.stage("Успешно"), at=at(DAY, 12))
    lost = make_deal(m1, org.pipeline, amount=Decimal(50000), title="Проиграна", days_ago=30)
    do_move_deal(m1, lost, org.stage("КП отправлено"), at=at(DAY, 13))
    do_move_deal(m1, lost, org.stage("Проиграно"), loss_reason="Дорого", at=at(DAY, 14))
    for minute, direction in ((0, "out"), (10, "out"), (20, "out"), (30, "in")):
        do_log_communication(
            m1,
            kind="call",
            direction=direction,
            deal=won,
            occurred_at=at(DAY, 15, minute),
            comment="Договорились о следующем шаге",
        )
    do_log_communication(
        m1,
        kind="meeting",
        deal=won,
        occurred_at=at(DAY, 16),
        comment="Встретились, обсудили договор",
    )
    m3 = org.manager3
    gone = make_deal(m3, org.pipeline, amount=Decimal(70000), title="Ушла", days_ago=30)
    do_move_deal(m3, gone, org.stage("Проиграно"), loss_reason="Пропал", at=at(DAY, 9))
    # The analytics count from rollups kept after commits; a test never commits.
    rebuild_workspace(org.workspace)
