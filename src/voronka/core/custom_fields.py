"""Custom fields as every app uses them: which fields an entity has, and their values cleaned.

The head defines the fields (``core.actions``); deals, companies and contacts keep the values in
their ``custom`` JSON, keyed by the field's ``key``. Stage requirements name a deal's fields as
``"amount"`` (built-in) or ``"custom.<key>"``; the helpers here list and label those names and
read a deal's values under them, so the stage gate, the forms, the API and imports agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from voronka.control.rules import BadValue, FieldSpec, FieldType, clean_value, is_filled

from .errors import Invalid
from .models import CustomField

#: A deal's own fields a stage may require, in the order the requirement picker shows them.
BUILTIN_DEAL_FIELDS = (
    "amount",
    "expected_close",
    "company",
    "contact",
    "source",
    "invoice_no",
    "invoice_amount",
)
#: Always required to enter a lost stage; never listed in a stage's requirements.
LOSS_REASON = "loss_reason"
CUSTOM_PREFIX = "custom."

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEY_MAX_LENGTH = 40
TEXT_MAX_LENGTH = 2000
#: Numbers beyond this are a typo, not a figure of a sale (and would not fit a report).
NUMBER_LIMIT = Decimal(10) ** 15

CHOICE_TYPES = frozenset({CustomField.Type.CHOICE, CustomField.Type.MULTI_CHOICE})

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}  # fmt: skip


def transliteration() -> dict[str, str]:
    """The letters the key suggestion spells in Latin (the page's script uses the same table)."""
    return dict(_TRANSLIT)


def suggest_key(label: str) -> str:
    """A key for a field labelled ``label``: Latin letters, digits and ``_``, starting with a
    letter («Тип оплаты» → ``tip_oplaty``). Empty when the label has nothing to spell."""
    spelled = "".join(_TRANSLIT.get(ch, ch) for ch in (label or "").lower())
    key = re.sub(r"[^a-z0-9]+", "_", spelled).strip("_")
    key = re.sub(r"^[0-9_]+", "", key)
    return key[:KEY_MAX_LENGTH].rstrip("_")


def fields_for(workspace_id: int, entity: str, *, include_archived: bool = False):
    """The custom fields of ``entity`` (deal, company or contact), in the head's order."""
    qs = CustomField.objects.filter(workspace_id=workspace_id, entity=entity)
    if not include_archived:
        qs = qs.filter(is_archived=False)
    return qs.order_by("position", "id")


def spec_of(field: CustomField) -> FieldSpec:
    return FieldSpec(field.key, FieldType(field.type), tuple(field.choices or ()))


def builtin_deal_field_labels() -> list[tuple[str, str]]:
    """(name, label) of the deal's own fields a stage may require."""
    from voronka.sales.models import Deal

    return [(name, str(Deal._meta.get_field(name).verbose_name)) for name in BUILTIN_DEAL_FIELDS]


def field_choices_for_requirements(workspace_id: int) -> list[tuple[str, str]]:
    """(name, label) of every field a stage may require: the deal's own, then its custom ones."""
    out = [(name, label[:1].upper() + label[1:]) for name, label in builtin_deal_field_labels()]
    for field in fields_for(workspace_id, CustomField.Entity.DEAL):
        out.append((CUSTOM_PREFIX + field.key, field.label))
    return out


def requirement_labels(workspace_id: int) -> dict[str, str]:
    """Labels of every name a stage's requirements may hold, archived custom fields included."""
    from voronka.sales.models import Deal

    labels = dict(field_choices_for_requirements(workspace_id))
    reason = str(Deal._meta.get_field(LOSS_REASON).verbose_name)
    labels[LOSS_REASON] = reason[:1].upper() + reason[1:]
    for field in fields_for(workspace_id, CustomField.Entity.DEAL, include_archived=True):
        labels.setdefault(CUSTOM_PREFIX + field.key, field.label)
    return labels


def requirement_values(deal, changes: Mapping[str, object] | None = None) -> dict[str, object]:
    """A deal's values under the names stage requirements use, with ``changes`` laid over them.

    ``changes`` uses the same names (``"invoice_no"``, ``"custom.payment"``): what a form or an
    API call is about to set together with the move.
    """
    values: dict[str, object] = {}
    for name in (*BUILTIN_DEAL_FIELDS, LOSS_REASON):
        attr = f"{name}_id" if name in ("company", "contact") else name
        values[name] = getattr(deal, attr, None)
    # A deal's amount defaults to 0; an amount of nothing is not an amount given.
    if values["amount"] is not None and Decimal(values["amount"]) == 0:
        values["amount"] = None
    for key, value in (deal.custom or {}).items():
        values[CUSTOM_PREFIX + key] = value
    for name, value in (changes or {}).items():
        values[name] = value
    return values


def _message(code: str, field: CustomField) -> str:
    if code == "not_a_number":
        return _("Enter a number.")
    if code == "negative":
        return _("An amount of money cannot be negative.")
    if code == "too_big":
        return _("The number is too large.")
    if code == "not_a_date":
        return _("Enter a date as YYYY-MM-DD.")
    if code == "not_a_choice":
        return _("Choose one of: %(choices)s.") % {"choices": ", ".join(field.choices or ())}
    if code == "not_a_user":
        return _("Choose a person of your workspace.")
    if code == "too_long":
        return _("At most %(count)s characters.") % {"count": TEXT_MAX_LENGTH}
    if code == "not_text":
        return _("Enter text.")
    return _("This field cannot take a value.")


_SHAPE_CODES = {
    CustomField.Type.TEXT: "not_text",
    CustomField.Type.FILE: "not_text",
    CustomField.Type.NUMBER: "not_a_number",
    CustomField.Type.MONEY: "not_a_number",
    CustomField.Type.DATE: "not_a_date",
    CustomField.Type.CHOICE: "not_a_choice",
    CustomField.Type.MULTI_CHOICE: "not_a_choice",
    CustomField.Type.USER: "not_a_user",
}


def _clean_one(field: CustomField, raw, workspace_id: int):
    """The stored form of one value, or ``BadValue``."""
    t = field.type
    if not is_filled(raw):
        return None
    # JSON from the API may hold anything; only a multi-choice takes a list, nothing an object.
    if isinstance(raw, (bool, dict)) or (
        isinstance(raw, (list, tuple)) and t != CustomField.Type.MULTI_CHOICE
    ):
        raise BadValue(_SHAPE_CODES.get(t, "unknown"))
    if t in (CustomField.Type.TEXT, CustomField.Type.FILE) and len(str(raw).strip()) > (
        TEXT_MAX_LENGTH
    ):
        raise BadValue("too_long")
    try:
        value = clean_value(spec_of(field), raw)
    except ArithmeticError:  # a number too large to round to cents
        raise BadValue("too_big") from None
    if value is None:
        return None
    if t in (CustomField.Type.NUMBER, CustomField.Type.MONEY):
        number = Decimal(value)
        if abs(number) >= NUMBER_LIMIT:
            raise BadValue("too_big")
        if t == CustomField.Type.NUMBER and number == number.to_integral():
            value = format(number.quantize(Decimal(1)), "f")  # 40, never 4E+1
    if t == CustomField.Type.USER:
        in_range = 0 < value < 2**63
        if not in_range or not (
            get_user_model()
            .objects.filter(workspace_id=workspace_id, id=value, is_active=True)
            .exists()
        ):
            raise BadValue("not_a_user")
    return value


def clean_custom_values(workspace_id: int, entity: str, raw: Mapping | None) -> dict:
    """The values of ``raw`` ({key: value}) in their stored form, every one checked.

    A cleared value comes back as None (``merge_custom`` drops it). Any unknown or archived key,
    or a value that does not fit its field, refuses the whole set with ``Invalid`` naming each
    field as ``"custom.<key>"``: nothing is saved half-way.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise Invalid(
            _("Custom fields come as an object of keys and values."),
            {"custom": _("Custom fields come as an object of keys and values.")},
        )
    if not raw:
        return {}
    fields = {f.key: f for f in fields_for(workspace_id, entity, include_archived=True)}
    cleaned: dict = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        name = CUSTOM_PREFIX + str(key)
        field = fields.get(key)
        if field is None:
            errors[name] = _("Unknown field.")
            continue
        if field.is_archived:
            errors[name] = _("The field “%(label)s” is archived.") % {"label": field.label}
            continue
        try:
            cleaned[key] = _clean_one(field, value, workspace_id)
        except BadValue as exc:
            errors[name] = _message(exc.code, field)
    if errors:
        if len(errors) == 1:
            [(name, message)] = errors.items()
            key = name.removeprefix(CUSTOM_PREFIX)
            label = fields[key].label if key in fields else key
            summary = _("%(label)s: %(problem)s") % {"label": label, "problem": message}
        else:
            summary = _("Check the custom fields.")
        raise Invalid(summary, errors)
    return cleaned


def merge_custom(current: Mapping | None, cleaned: Mapping) -> dict:
    """``current`` with ``cleaned`` laid over it; a value cleared (None) leaves the dict."""
    merged = dict(current or {})
    for key, value in cleaned.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def values_exist(field: CustomField) -> bool:
    """Whether any deal, company or contact (of the field's entity) holds a value of it."""
    from django.apps import apps

    model = {
        CustomField.Entity.DEAL: ("sales", "Deal"),
        CustomField.Entity.COMPANY: ("clients", "Company"),
        CustomField.Entity.CONTACT: ("clients", "Contact"),
    }[field.entity]
    return (
        apps.get_model(*model)
        .objects.filter(workspace_id=field.workspace_id, custom__has_key=field.key)
        .exists()
    )


def access_custom_field(user, field_id) -> CustomField:
    """A custom field of ``user``'s workspace, for the settings (head and owner); 404 otherwise."""
    from django.http import Http404

    if not user.may_configure:
        raise Http404
    try:
        return CustomField.objects.get(workspace_id=user.workspace_id, id=int(field_id))
    except (CustomField.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
