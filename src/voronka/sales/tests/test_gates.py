"""The stage gate: one function decides whether a deal may enter a stage, on every path."""

from datetime import date
from decimal import Decimal

import pytest

from voronka.clients.actions import do_create_company
from voronka.core.actions import do_create_custom_field
from voronka.core.errors import Invalid
from voronka.sales import gates
from voronka.sales.actions import (
    do_create_deal,
    do_create_loss_reason,
    do_move_deal,
    do_set_stage_requirements,
    do_update_deal,
    do_update_loss_reason,
    do_update_pipeline_rules,
)
from voronka.sales.models import Deal, StageChange
from voronka.testing.factories import make_deal


@pytest.fixture
def invoice(org):
    """«Счёт выставлен» requires the invoice number and amount."""
    stage = org.stage("Счёт выставлен")
    return do_set_stage_requirements(org.head, stage, ["invoice_no", "invoice_amount"])


@pytest.fixture
def payment(org):
    return do_create_custom_field(
        org.head, entity="deal", label="Тип оплаты", key="payment", type="choice",
        choices=["Безнал", "Наличные"],
    )  # fmt: skip


def refusal(call) -> Invalid:
    with pytest.raises(Invalid) as exc:
        call()
    return exc.value


def test_a_deal_without_the_invoice_fields_cannot_enter_the_invoice_stage(org, invoice):
    deal = make_deal(org.manager2, org.pipeline)
    exc = refusal(lambda: do_move_deal(org.manager2, deal, invoice))
    assert exc.code == "missing_fields"
    assert list(exc.fields) == ["invoice_no", "invoice_amount"]
    assert "«Номер счёта»" in exc.message and "«Сумма счёта»" in exc.message
    deal.refresh_from_db()
    assert deal.stage.name == "Новый лид"
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_the_fields_given_with_the_move_let_the_deal_in_and_are_saved(org, invoice):
    deal = make_deal(org.manager2, org.pipeline)
    moved = do_move_deal(
        org.manager2, deal, invoice, fields={"invoice_no": " С-17 ", "invoice_amount": "150 000,5"}
    )
    assert moved.stage == invoice
    fresh = Deal.objects.get(pk=deal.pk)
    assert (fresh.invoice_no, fresh.invoice_amount) == ("С-17", Decimal("150000.50"))
    assert fresh.history.first().invoice_no == "С-17"


def test_only_the_fields_still_missing_are_named(org, invoice):
    deal = make_deal(org.manager2, org.pipeline)
    do_update_deal(org.manager2, deal, invoice_no="С-1")
    exc = refusal(lambda: do_move_deal(org.manager2, deal, invoice))
    assert list(exc.fields) == ["invoice_amount"]


def test_a_bad_value_given_with_the_move_is_named_and_nothing_is_saved(org, invoice):
    deal = make_deal(org.manager2, org.pipeline)
    exc = refusal(
        lambda: do_move_deal(
            org.manager2, deal, invoice, fields={"invoice_no": "С-2", "invoice_amount": "много"}
        )
    )
    assert set(exc.fields) == {"invoice_amount"}
    deal.refresh_from_db()
    assert (deal.stage.name, deal.invoice_no) == ("Новый лид", "")


def test_custom_fields_are_required_and_given_like_the_built_in_ones(org, payment):
    stage = org.stage("КП отправлено")
    do_set_stage_requirements(org.head, stage, ["custom.payment", "amount"])
    deal = make_deal(org.manager1, org.pipeline)
    exc = refusal(lambda: do_move_deal(org.manager1, deal, stage))
    assert list(exc.fields) == ["amount", "custom.payment"]
    wrong = refusal(
        lambda: do_move_deal(
            org.manager1, deal, stage, fields={"custom.payment": "Бартер", "amount": 10}
        )
    )
    assert set(wrong.fields) == {"custom.payment"}
    moved = do_move_deal(
        org.manager1, deal, stage, fields={"custom.payment": "Безнал", "amount": "10"}
    )
    assert moved.custom == {"payment": "Безнал"} and moved.amount == Decimal("10.00")


def test_an_amount_of_zero_does_not_count_as_given(org):
    stage = org.stage("Квалификация")
    do_set_stage_requirements(org.head, stage, ["amount"])
    deal = make_deal(org.manager1, org.pipeline)
    assert list(refusal(lambda: do_move_deal(org.manager1, deal, stage)).fields) == ["amount"]


def test_a_company_required_is_given_as_an_object_of_the_workspace(org, other_org):
    stage = org.stage("Квалификация")
    do_set_stage_requirements(org.head, stage, ["company"])
    deal = make_deal(org.manager1, org.pipeline)
    foreign = do_create_company(other_org.manager1, name="Чужая")
    exc = refusal(lambda: do_move_deal(org.manager1, deal, stage, fields={"company": foreign}))
    assert set(exc.fields) == {"company"}
    ours = do_create_company(org.manager1, name="Своя")
    assert do_move_deal(org.manager1, deal, stage, fields={"company": ours}).company == ours


def test_unknown_fields_given_with_a_move_are_refused(org):
    deal = make_deal(org.manager1, org.pipeline)
    exc = refusal(
        lambda: do_move_deal(
            org.manager1, deal, org.stage("Квалификация"), fields={"owner": 1, "custom.x": 1}
        )
    )
    assert set(exc.fields) == {"owner", "custom.x"}


def test_a_lost_stage_requires_a_reason_from_the_heads_list_when_there_is_one(org):
    lost = org.stage("Проиграно")
    deal = make_deal(org.manager1, org.pipeline)
    do_create_loss_reason(org.head, name="Дорого")
    exc = refusal(lambda: do_move_deal(org.manager1, deal, lost, loss_reason="Просто так"))
    assert exc.code == "missing_fields" and set(exc.fields) == {"loss_reason"}
    moved = do_move_deal(org.manager1, deal, lost, loss_reason="  дорого ")
    assert moved.loss_reason == "Дорого"  # spelled as the list spells it


def test_an_archived_reason_is_no_longer_accepted(org):
    reason = do_create_loss_reason(org.head, name="Дорого")
    do_create_loss_reason(org.head, name="Нет бюджета")
    do_update_loss_reason(org.head, reason, is_archived=True)
    deal = make_deal(org.manager1, org.pipeline)
    lost = org.stage("Проиграно")
    assert refusal(lambda: do_move_deal(org.manager1, deal, lost, loss_reason="Дорого")).fields
    assert do_move_deal(org.manager1, deal, lost, loss_reason="Нет бюджета").closed_at


def test_without_a_list_any_reason_is_taken_as_written(org):
    deal = make_deal(org.manager1, org.pipeline)
    moved = do_move_deal(org.manager1, deal, org.stage("Проиграно"), loss_reason="Ушли к другим")
    assert moved.loss_reason == "Ушли к другим"


def test_a_lost_stages_own_requirements_are_asked_with_the_reason(org):
    lost = org.stage("Проиграно")
    do_set_stage_requirements(org.head, lost, ["source"])
    deal = make_deal(org.manager1, org.pipeline)
    exc = refusal(lambda: do_move_deal(org.manager1, deal, lost))
    assert list(exc.fields) == ["source", "loss_reason"]


def test_no_skipping_sends_a_deal_stage_by_stage_but_lets_it_close(org):
    do_update_pipeline_rules(org.head, org.pipeline, no_skipping=True)
    deal = make_deal(org.manager1, org.pipeline)
    exc = refusal(lambda: do_move_deal(org.manager1, deal, org.stage("КП отправлено")))
    assert exc.code == "move_refused" and set(exc.fields) == {"stage"}
    assert "«Квалификация»" in exc.message
    do_move_deal(org.manager1, deal, org.stage("Квалификация"))
    assert do_move_deal(org.manager1, deal, org.stage("Успешно")).stage.kind == "won"


def test_no_going_back_keeps_a_deal_from_earlier_stages_and_from_reopening(org):
    do_update_pipeline_rules(org.head, org.pipeline, no_going_back=True)
    deal = make_deal(org.manager1, org.pipeline, stage=org.stage("КП отправлено"))
    exc = refusal(lambda: do_move_deal(org.manager1, deal, org.stage("Квалификация")))
    assert exc.code == "move_refused"
    do_move_deal(org.manager1, deal, org.stage("Успешно"))
    reopened = refusal(lambda: do_move_deal(org.manager1, deal, org.stage("Счёт выставлен")))
    assert reopened.code == "move_refused" and set(reopened.fields) == {"stage"}


def test_the_order_rules_are_off_by_default(org):
    deal = make_deal(org.manager1, org.pipeline, stage=org.stage("КП отправлено"))
    assert do_move_deal(org.manager1, deal, org.stage("Новый лид")).stage.name == "Новый лид"


def test_a_deal_created_at_a_stage_passes_the_same_gate(org, invoice):
    exc = refusal(
        lambda: do_create_deal(org.manager1, pipeline=org.pipeline, title="Счёт", stage=invoice)
    )
    assert exc.code == "missing_fields" and list(exc.fields) == ["invoice_no", "invoice_amount"]
    assert not Deal.objects.filter(title="Счёт").exists()
    deal = do_create_deal(
        org.manager1,
        pipeline=org.pipeline,
        title="Счёт",
        stage=invoice,
        invoice_no="С-3",
        invoice_amount=Decimal("500.00"),
    )
    assert deal.stage == invoice


def test_a_deal_created_lost_needs_a_reason_on_the_list(org):
    do_create_loss_reason(org.head, name="Дорого")
    lost = org.stage("Проиграно")
    make = lambda reason: do_create_deal(  # noqa: E731
        org.manager1, pipeline=org.pipeline, title="Старая", stage=lost, loss_reason=reason
    )
    assert set(refusal(lambda: make("Другое")).fields) == {"loss_reason"}
    assert make("ДОРОГО").loss_reason == "Дорого"


def test_a_field_the_current_stage_requires_cannot_be_emptied(org, invoice):
    deal = make_deal(org.manager1, org.pipeline)
    do_move_deal(org.manager1, deal, invoice, fields={"invoice_no": "С-4", "invoice_amount": "100"})
    exc = refusal(lambda: do_update_deal(org.manager1, deal, invoice_no=""))
    assert list(exc.fields) == ["invoice_no"]
    assert do_update_deal(org.manager1, deal, invoice_no="С-5").invoice_no == "С-5"
    assert do_update_deal(org.manager1, deal, source="Сайт").source == "Сайт"


def test_a_requirement_added_later_does_not_block_other_edits(org):
    deal = make_deal(org.manager1, org.pipeline, stage=org.stage("Счёт выставлен"))
    do_set_stage_requirements(org.head, org.stage("Счёт выставлен"), ["invoice_no"])
    assert do_update_deal(org.manager1, deal, title="Новое имя").title == "Новое имя"


def test_custom_values_are_set_and_cleared_on_update(org, payment):
    deal = make_deal(org.manager1, org.pipeline, custom={"payment": "Безнал"})
    assert deal.custom == {"payment": "Безнал"}
    updated = do_update_deal(org.manager1, deal, custom={"payment": ""})
    assert updated.custom == {}
    assert set(refusal(lambda: do_update_deal(org.manager1, deal, custom={"x": 1})).fields) == {
        "custom.x"
    }


def test_the_requirements_take_effect_at_once(org):
    stage = org.stage("Квалификация")
    deal = make_deal(org.manager1, org.pipeline)
    do_set_stage_requirements(org.head, stage, ["source"])
    assert refusal(lambda: do_move_deal(org.manager1, deal, stage)).fields
    do_set_stage_requirements(org.head, stage, [])
    assert do_move_deal(org.manager1, deal, stage).stage == stage


def test_check_entry_reads_values_laid_over_the_deal(org, invoice):
    deal = make_deal(org.manager1, org.pipeline)
    gates.check_entry(deal, invoice, {"invoice_no": "1", "invoice_amount": Decimal(1)})
    with pytest.raises(Invalid):
        gates.check_entry(deal, invoice, {"invoice_no": "1"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2030-03-01", date(2030, 3, 1)),
        ("01.03.2030", date(2030, 3, 1)),
        ("2030-03-01T00:00:00", date(2030, 3, 1)),
        ("", None),
    ],
)
def test_dates_are_read_as_people_and_spreadsheets_write_them(raw, expected):
    assert gates.clean_day(raw) == expected


@pytest.mark.parametrize("raw", ["31.02.2030", "завтра", "2030/13/01"])
def test_a_date_that_is_not_one_is_refused(raw):
    with pytest.raises(ValueError):
        gates.clean_day(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("150 000,50", Decimal("150000.50")), (990, Decimal("990.00")), (" ", None)],
)
def test_amounts_are_read_with_spaces_and_commas(raw, expected):
    assert gates.clean_money(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "1e20", "NaN", True, "сто"])
def test_an_amount_that_is_not_one_is_refused(raw):
    with pytest.raises(ValueError):
        gates.clean_money(raw)
