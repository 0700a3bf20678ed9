"""The funnel checks itself: warnings about a pipeline's design, each saying why it matters."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from voronka.sales.actions import (
    do_create_loss_reason,
    do_create_stage,
    do_move_deal,
    do_update_loss_reason,
    do_update_stage,
)
from voronka.sales.funnel_check import check_pipeline, deal_passes
from voronka.testing.factories import make_deal, make_pipeline


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def codes(pipeline):
    return [w.code for w in check_pipeline(pipeline)]


def walk(org, stages, *, days_ago=0):
    """A deal that entered each of ``stages`` in turn (after the first stage, «Новый лид»)."""
    deal = make_deal(org.manager1, org.pipeline, days_ago=days_ago)
    at = timezone.now() - timedelta(days=days_ago)
    for i, name in enumerate(stages, 1):
        deal = do_move_deal(org.manager1, deal, org.stage(name), at=at + timedelta(minutes=i))
    return deal


def test_a_standard_funnel_with_loss_reasons_is_fine(org):
    do_create_loss_reason(org.head, name="Дорого")
    assert check_pipeline(org.pipeline) == []


def test_a_postponed_stage_is_a_parking_place_and_the_warning_says_why(org):
    do_create_loss_reason(org.head, name="Дорого")
    parked = do_create_stage(org.head, pipeline=org.pipeline, name="Отложено", normal_days=30)
    [warning] = check_pipeline(org.pipeline)
    assert warning.code == "parking_stage"
    assert warning.stages == (parked,)
    assert warning.text.startswith("«Отложено» is a parking place, not a step of a sale")
    assert "conversion" in warning.text and "snooze" in warning.text


@pytest.mark.parametrize("name", ["Клиент подумает", "Условный отказ", "На паузе", "Postponed"])
def test_other_parking_places_are_recognised(org, name):
    do_create_stage(org.head, pipeline=org.pipeline, name=name, normal_days=5)
    assert "parking_stage" in codes(org.pipeline)


def test_stages_without_a_normal_duration_are_named_in_one_warning(org):
    do_create_loss_reason(org.head, name="Дорого")
    for name in ("Квалификация", "КП отправлено"):
        do_update_stage(org.head, org.stage(name), normal_days=None)
    [warning] = check_pipeline(org.pipeline)
    assert warning.code == "no_normal_duration"
    assert [s.name for s in warning.stages] == ["Квалификация", "КП отправлено"]
    assert "«Квалификация», «КП отправлено» have no normal duration" in warning.text


def test_a_lost_stage_without_reasons_is_flagged_until_the_list_has_one(org):
    [warning] = check_pipeline(org.pipeline)
    assert warning.code == "lost_without_reasons"
    assert warning.stages == (org.stage("Проиграно"),)
    assert "nobody can count why deals are lost" in warning.text
    reason = do_create_loss_reason(org.head, name="Дорого")
    assert check_pipeline(org.pipeline) == []
    do_update_loss_reason(org.head, reason, is_archived=True)
    assert codes(org.pipeline) == ["lost_without_reasons"]


def test_a_pipeline_without_won_or_lost_stages_is_flagged(org):
    pipeline = make_pipeline(org.workspace, name="Черновик", stages=[("Новый", "open", 3)])
    assert codes(pipeline) == ["no_won_stage", "no_lost_stage"]
    texts = " ".join(w.text for w in check_pipeline(pipeline))
    assert "no won stage" in texts and "no lost stage" in texts


def test_two_stages_deals_take_instead_of_one_another_are_alternatives(org):
    do_create_loss_reason(org.head, name="Дорого")
    for _ in range(6):
        walk(org, ["Квалификация", "Встреча назначена"])
    for _ in range(6):
        walk(org, ["Квалификация", "КП отправлено"])
    [warning] = check_pipeline(org.pipeline)
    assert warning.code == "alternative_stages"
    assert [s.name for s in warning.stages] == ["Встреча назначена", "КП отправлено"]
    assert "look like alternatives, not steps" in warning.text


def test_stages_deals_walk_through_one_after_the_other_are_steps(org):
    do_create_loss_reason(org.head, name="Дорого")
    for _ in range(12):
        walk(org, ["Квалификация", "Встреча назначена", "КП отправлено"])
    assert check_pipeline(org.pipeline) == []


def test_the_walks_are_read_from_the_last_twelve_months_only(org):
    for _ in range(3):
        walk(org, ["Квалификация"], days_ago=400)
    recent = walk(org, ["Квалификация"], days_ago=10)
    stage_ids = [org.stage("Новый лид").id, org.stage("Квалификация").id]
    passes = deal_passes(org.pipeline, stage_ids)
    assert passes[org.stage("Квалификация").id] == {recent.id}


def test_the_walks_are_a_capped_sample_of_the_latest_deals(org):
    deals = [walk(org, ["Квалификация"], days_ago=d) for d in (5, 4, 3, 2, 1)]
    passes = deal_passes(org.pipeline, [org.stage("Квалификация").id], sample=2)
    assert passes[org.stage("Квалификация").id] == {deals[-1].id, deals[-2].id}


def test_another_pipelines_deals_do_not_count(org):
    other = make_pipeline(org.workspace, name="Холодные")
    deal = make_deal(org.manager1, other)
    do_move_deal(org.manager1, deal, other.stages.get(name="Квалификация"))
    passes = deal_passes(org.pipeline, [org.stage("Квалификация").id])
    assert passes[org.stage("Квалификация").id] == set()


def test_the_warnings_come_in_the_readers_language(org):
    do_create_stage(org.head, pipeline=org.pipeline, name="Отложено", normal_days=30)
    english = {w.code: w.text for w in check_pipeline(org.pipeline)}
    with translation.override("ru"):
        russian = {w.code: w.text for w in check_pipeline(org.pipeline)}
    assert set(english) == set(russian) == {"parking_stage", "lost_without_reasons"}
    assert "«Отложено»" in russian["parking_stage"]
