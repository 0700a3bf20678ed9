"""A little sales history to plan from: deals walked through the standard stages."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from voronka.analytics.rollups import rebuild_workspace
from voronka.inbox.actions import do_log_communication
from voronka.planning.rules import period_start
from voronka.sales.actions import do_move_deal
from voronka.testing.factories import make_deal

WALK = ["Квалификация", "Встреча назначена", "КП отправлено", "Счёт выставлен"]


def walk(
    org,
    owner,
    *,
    won: int,
    lost_after_proposal: int = 0,
    amount=100000,
    days_ago=10,
    product=None,
):
    """``won`` deals walked to a win and ``lost_after_proposal`` dropped after the proposal,
    each with two calls and a meeting (and ``product``, when given)."""
    at = timezone.now() - timedelta(days=days_ago, minutes=10)
    for i in range(won + lost_after_proposal):
        deal = make_deal(
            owner,
            org.pipeline,
            owner=owner,
            days_ago=days_ago + 10 / 1440,
            amount=Decimal(amount),
            product=product,
        )
        stages = WALK if i < won else WALK[:3]
        for n, name in enumerate(stages, 1):
            do_move_deal(owner, deal, org.stage(name), at=at + timedelta(minutes=n))
        if i < won:
            do_move_deal(owner, deal, org.stage("Успешно"), at=at + timedelta(minutes=6))
        else:
            do_move_deal(
                owner,
                deal,
                org.stage("Проиграно"),
                loss_reason="Дорого",
                at=at + timedelta(minutes=6),
            )
        for kind in ("call", "call", "meeting"):
            do_log_communication(
                owner,
                kind=kind,
                direction="out",
                deal=deal,
                occurred_at=at + timedelta(minutes=2),
                comment="Обсудили",
            )
    # The analytics count from their rollups, kept after commits; a test's transaction never
    # commits, so they are rebuilt here.
    rebuild_workspace(org.workspace)


def this_month() -> date:
    return period_start("month", timezone.localdate())
