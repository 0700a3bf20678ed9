import pytest

from voronka.core.errors import Invalid, NotAllowed
from voronka.sales.actions import do_delete_stage, do_move_deal
from voronka.sales.models import Deal, StageChange
from voronka.testing.factories import make_deal


def test_a_new_deal_starts_at_the_first_open_stage_with_its_entry_recorded(org):
    deal = make_deal(org.manager1, org.pipeline)
    assert deal.stage.name == "Новый лид"
    history = list(StageChange.objects.filter(deal=deal))
    assert [(h.from_stage, h.to_stage) for h in history] == [(None, deal.stage)]


def test_moving_a_deal_records_from_to_when_and_who(org):
    deal = make_deal(org.manager1, org.pipeline, days_ago=3)
    target = org.stage("Квалификация")
    moved = do_move_deal(org.manager1, deal, target)
    assert moved.stage == target
    last = StageChange.objects.filter(deal=deal).latest("changed_at")
    assert (last.from_stage.name, last.to_stage, last.changed_by) == (
        "Новый лид",
        target,
        org.manager1,
    )
    assert moved.stage_entered_at == last.changed_at


def test_losing_a_deal_without_a_reason_is_refused_and_nothing_changes(org):
    deal = make_deal(org.manager1, org.pipeline)
    with pytest.raises(Invalid) as exc:
        do_move_deal(org.manager1, deal, org.stage("Проиграно"))
    assert set(exc.value.fields) == {"loss_reason"}
    deal.refresh_from_db()
    assert deal.stage.name == "Новый лид"
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_a_lost_deal_keeps_its_reason_and_is_closed(org):
    deal = make_deal(org.manager1, org.pipeline)
    moved = do_move_deal(org.manager1, deal, org.stage("Проиграно"), loss_reason="Дорого")
    assert moved.loss_reason == "Дорого" and moved.closed_at is not None


def test_the_quality_controller_may_not_move_deals(org):
    deal = make_deal(org.manager1, org.pipeline)
    with pytest.raises(NotAllowed):
        do_move_deal(org.qc, deal, org.stage("Квалификация"))


def test_stage_history_is_append_only(org):
    deal = make_deal(org.manager1, org.pipeline)
    change = StageChange.objects.get(deal=deal)
    with pytest.raises(RuntimeError):
        change.save()
    with pytest.raises(RuntimeError):
        change.delete()


def test_deleting_a_stage_with_deals_is_refused_with_the_count(org):
    stage = org.stage("Квалификация")
    for _ in range(3):
        do_move_deal(org.head, make_deal(org.manager1, org.pipeline), stage)
    with pytest.raises(Invalid) as exc:
        do_delete_stage(org.head, stage)
    assert "3" in exc.value.message
    assert Deal.objects.filter(stage=stage).count() == 3
