"""Custom fields: the head defines them, every path cleans their values the same way."""

import pytest
from django.utils import translation

from voronka.core import custom_fields as cf
from voronka.core.actions import (
    do_create_custom_field,
    do_place_custom_field,
    do_reorder_custom_fields,
    do_update_custom_field,
)
from voronka.core.errors import Invalid, NotAllowed
from voronka.core.models import CustomField
from voronka.sales.actions import do_set_stage_requirements
from voronka.sales.models import Deal
from voronka.testing.factories import make_deal


def make_field(org, label="Тип оплаты", type="choice", entity="deal", **extra):
    if type in ("choice", "multi_choice"):
        extra.setdefault("choices", ["Безнал", "Наличные"])
    return do_create_custom_field(org.head, entity=entity, label=label, type=type, **extra)


# --- Keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Тип оплаты", "tip_oplaty"),
        ("ИНН", "inn"),
        ("Счёт №", "schet"),
        ("Delivery date", "delivery_date"),
        ("2-й телефон", "y_telefon"),
        ("   ", ""),
        ("!!!", ""),
    ],
)
def test_a_key_is_spelled_from_the_label_in_latin(label, key):
    assert cf.suggest_key(label) == key


def test_a_key_is_at_most_forty_characters_and_never_ends_with_an_underscore():
    key = cf.suggest_key("Очень длинное название поля для проверки длины ключа")
    assert len(key) <= 40
    assert cf.KEY_PATTERN.match(key)
    assert not key.endswith("_")


def test_a_field_without_a_key_gets_one_from_its_label(org):
    field = make_field(org, label="Тип оплаты")
    assert field.key == "tip_oplaty"
    assert field.position == 1


def test_keys_are_unique_per_entity_and_may_repeat_across_entities(org):
    make_field(org, label="Тип оплаты")
    with pytest.raises(Invalid) as exc:
        make_field(org, label="Способ оплаты", key="tip_oplaty")
    assert exc.value.code == "duplicate"
    assert "key" in exc.value.fields
    company_field = make_field(org, label="Тип оплаты", entity="company")
    assert company_field.key == "tip_oplaty"


def test_a_key_that_is_not_latin_is_refused_on_the_key(org):
    for key in ("тип", "Tip", "1st", "tip-oplaty", "a" * 41):
        with pytest.raises(Invalid) as exc:
            make_field(org, key=key)
        assert "key" in exc.value.fields, key


def test_a_key_taken_by_an_archived_field_says_to_restore_it(org):
    field = make_field(org)
    do_update_custom_field(org.head, field, is_archived=True)
    with translation.override("en"), pytest.raises(Invalid) as exc:
        make_field(org)
    assert "restore" in exc.value.fields["key"]


# --- Creating and changing -------------------------------------------------------------------


def test_only_the_head_and_the_owner_define_fields(org):
    for user in (org.senior1, org.manager1, org.assistant, org.qc):
        with pytest.raises(NotAllowed):
            do_create_custom_field(user, entity="deal", label="ИНН", type="text")
    assert do_create_custom_field(org.owner, entity="deal", label="ИНН", type="text").key == "inn"


def test_a_choice_field_needs_its_choices_and_other_types_take_none(org):
    with pytest.raises(Invalid) as exc:
        make_field(org, choices=[])
    assert "choices" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        make_field(org, label="ИНН", type="text", choices=["a"])
    assert "choices" in exc.value.fields


def test_choices_are_trimmed_and_a_repeated_one_is_refused(org):
    field = make_field(org, choices=["  Безнал ", "", "Наличные"])
    assert field.choices == ["Безнал", "Наличные"]
    with pytest.raises(Invalid) as exc:
        make_field(org, label="Канал", choices=["Сайт", "сайт"])
    assert "сайт" in exc.value.fields["choices"]


def test_an_unknown_type_or_entity_is_refused_naming_the_field(org):
    with pytest.raises(Invalid) as exc:
        do_create_custom_field(org.head, entity="deal", label="X", type="colour")
    assert "type" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        do_create_custom_field(org.head, entity="task", label="X", type="text")
    assert "entity" in exc.value.fields


def test_the_type_changes_while_no_record_holds_a_value(org):
    field = make_field(org, label="Канал", type="text")
    field = do_update_custom_field(org.head, field, type="choice", choices=["Сайт", "Звонок"])
    assert (field.type, field.choices) == ("choice", ["Сайт", "Звонок"])


def test_the_type_is_locked_once_a_deal_holds_a_value(org):
    field = make_field(org, label="ИНН", type="text")
    deal = make_deal(org.manager1, org.pipeline)
    Deal.objects.filter(pk=deal.pk).update(custom={"inn": "7701234567"})
    with pytest.raises(Invalid) as exc:
        do_update_custom_field(org.head, field, type="number")
    assert exc.value.code == "type_locked"
    assert "type" in exc.value.fields
    # Everything else still changes.
    assert do_update_custom_field(org.head, field, label="ИНН клиента").label == "ИНН клиента"


def test_a_field_a_stage_requires_cannot_be_archived_until_the_requirement_goes(org):
    field = make_field(org)
    stage = org.stage("Счёт выставлен")
    do_set_stage_requirements(org.head, stage, ["custom.tip_oplaty"])
    with pytest.raises(Invalid) as exc:
        do_update_custom_field(org.head, field, is_archived=True)
    assert "Счёт выставлен" in exc.value.message
    do_set_stage_requirements(org.head, stage, [])
    assert do_update_custom_field(org.head, field, is_archived=True).is_archived


def test_changes_are_recorded_in_the_history_with_who_made_them(org):
    field = make_field(org)
    do_update_custom_field(org.head, field, label="Форма оплаты")
    latest = field.history.order_by("-history_date", "-history_id").first()
    assert (latest.label, latest.history_user) == ("Форма оплаты", org.head)
    assert field.history.count() == 2


def test_fields_are_put_in_order_by_place_or_by_the_whole_list(org):
    a = make_field(org, label="Альфа", type="text")
    b = make_field(org, label="Бета", type="text")
    c = make_field(org, label="Гамма", type="text")
    do_place_custom_field(org.head, c, 1)
    assert [f.label for f in cf.fields_for(org.workspace.id, "deal")] == ["Гамма", "Альфа", "Бета"]
    do_reorder_custom_fields(org.head, "deal", [b.id, a.id, c.id])
    assert [f.label for f in cf.fields_for(org.workspace.id, "deal")] == ["Бета", "Альфа", "Гамма"]
    with pytest.raises(Invalid):
        do_reorder_custom_fields(org.head, "deal", [a.id, b.id])


# --- Values ------------------------------------------------------------------------------------


def test_values_are_cleaned_into_their_stored_form(org):
    make_field(org)
    make_field(org, label="Бюджет", type="money")
    make_field(org, label="Сотрудников", type="number")
    make_field(org, label="Дата тендера", type="date")
    make_field(org, label="Каналы", type="multi_choice", choices=["Сайт", "Звонок", "Почта"])
    make_field(org, label="Куратор", type="user")
    cleaned = cf.clean_custom_values(
        org.workspace.id,
        "deal",
        {
            "tip_oplaty": " Безнал ",
            "byudzhet": "150 000,5",
            "sotrudnikov": 40,
            "data_tendera": "2025-03-01",
            "kanaly": ["Почта", "Сайт"],
            "kurator": str(org.manager2.id),
        },
    )
    assert cleaned == {
        "tip_oplaty": "Безнал",
        "byudzhet": "150000.50",
        "sotrudnikov": "40",
        "data_tendera": "2025-03-01",
        "kanaly": ["Сайт", "Почта"],
        "kurator": org.manager2.id,
    }


@pytest.mark.parametrize(
    ("type", "raw", "words"),
    [
        ("money", "много", "number"),
        ("money", "-5", "negative"),
        ("money", "1e999999", "large"),
        ("number", True, "number"),
        ("date", "01.03.2025", "YYYY-MM-DD"),
        ("choice", "Бартер", "Безнал, Наличные"),
        ("choice", ["Безнал"], "Безнал, Наличные"),
        ("text", {"a": 1}, "text"),
        ("text", "x" * 2001, "2000"),
        ("user", "999999999", "person"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field_and_why(org, type, raw, words):
    field = make_field(org, label="Поле", type=type)
    with translation.override("en"), pytest.raises(Invalid) as exc:
        cf.clean_custom_values(org.workspace.id, "deal", {field.key: raw})
    assert list(exc.value.fields) == ["custom.pole"]
    assert words in exc.value.fields["custom.pole"]
    assert "Поле" in exc.value.message


def test_a_person_of_another_workspace_is_not_a_value(org, other_org):
    field = make_field(org, label="Куратор", type="user")
    with pytest.raises(Invalid):
        cf.clean_custom_values(org.workspace.id, "deal", {field.key: other_org.manager1.id})


def test_unknown_and_archived_keys_refuse_the_whole_set(org):
    make_field(org, label="ИНН", type="text")
    old = make_field(org, label="Старое", type="text")
    do_update_custom_field(org.head, old, is_archived=True)
    with pytest.raises(Invalid) as exc:
        cf.clean_custom_values(
            org.workspace.id, "deal", {"inn": "7701", "nope": "x", "staroe": "y"}
        )
    assert set(exc.value.fields) == {"custom.nope", "custom.staroe"}


def test_fields_of_another_entity_or_workspace_are_unknown(org, other_org):
    make_field(org, label="ИНН", type="text", entity="company")
    make_field(other_org, label="КПП", type="text")
    for entity, key in (("deal", "inn"), ("deal", "kpp")):
        with pytest.raises(Invalid):
            cf.clean_custom_values(org.workspace.id, entity, {key: "1"})
    assert cf.clean_custom_values(org.workspace.id, "company", {"inn": "1"}) == {"inn": "1"}


def test_a_cleared_value_leaves_the_record(org):
    make_field(org, label="ИНН", type="text")
    cleaned = cf.clean_custom_values(org.workspace.id, "deal", {"inn": "  "})
    assert cleaned == {"inn": None}
    assert cf.merge_custom({"inn": "7701", "kpp": "1"}, cleaned) == {"kpp": "1"}


# --- Stage requirements: the names and the values --------------------------------------------


def test_the_requirement_picker_lists_the_deals_own_fields_then_its_custom_ones(org):
    make_field(org)
    make_field(org, label="ИНН компании", type="text", entity="company")
    archived = make_field(org, label="Старое", type="text")
    do_update_custom_field(org.head, archived, is_archived=True)
    names = [name for name, _label in cf.field_choices_for_requirements(org.workspace.id)]
    assert names == [*cf.BUILTIN_DEAL_FIELDS, "custom.tip_oplaty"]
    labels = cf.requirement_labels(org.workspace.id)
    assert labels["custom.tip_oplaty"] == "Тип оплаты"
    assert labels["custom.staroe"] == "Старое"  # old history still reads
    assert "loss_reason" in labels


def test_a_deals_values_under_requirement_names(org):
    make_field(org)
    deal = make_deal(org.manager1, org.pipeline, source="Сайт")
    deal.custom = {"tip_oplaty": "Безнал"}
    values = cf.requirement_values(deal, {"invoice_no": "42"})
    assert values["source"] == "Сайт"
    assert values["amount"] is None  # zero is no amount given
    assert values["company"] is None
    assert values["custom.tip_oplaty"] == "Безнал"
    assert values["invoice_no"] == "42"


def test_access_to_a_field_is_for_the_settings_of_its_own_workspace(org, other_org):
    from django.http import Http404

    field = make_field(org)
    assert cf.access_custom_field(org.owner, field.id) == field
    for user, fid in ((org.manager1, field.id), (other_org.head, field.id), (org.head, "x")):
        with pytest.raises(Http404):
            cf.access_custom_field(user, fid)
    assert CustomField.objects.count() == 1
