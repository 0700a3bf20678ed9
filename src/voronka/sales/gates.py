"""The stage gate: whether a deal may enter a stage, decided by one function for every path.

The board, the deal page, the API, the import and background jobs all move deals through
``sales.actions``, and the actions ask ``check_entry`` before anything is saved. A refusal is an
``Invalid`` naming each field concerned, so a page can ask for exactly those fields and the API
can list them in its 422.

Field names are the ones stage requirements use: the deal's own (``"invoice_no"``,
``"company"``), ``"custom.<key>"`` for custom fields, and ``"loss_reason"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from voronka.control.rules import is_filled, missing_fields, order_problem
from voronka.core import custom_fields as cf
from voronka.core.errors import Invalid
from voronka.core.models import CustomField

from . import rules
from .models import Deal, LossReason, Stage, StageKind

MISSING_FIELDS = "missing_fields"
MOVE_REFUSED = "move_refused"

#: Texts a move may set, with the longest value each column holds.
_TEXT_LIMITS = {"source": 120, "invoice_no": 64, "loss_reason": 255}
_MONEY = ("amount", "invoice_amount")
#: Amounts fit 14 digits, two of them after the point.
_MONEY_LIMIT = Decimal(10) ** 12


# -- The decision --------------------------------------------------------------------------------


def check_entry(deal: Deal, stage: Stage, values: Mapping[str, object] | None = None) -> None:
    """Refuse (``Invalid``) when ``deal`` may not enter ``stage``; return None when it may.

    ``values`` are what the move sets together with the stage (cleaned, under the requirement
    names); they are laid over the deal's current values. A deal not saved yet is being created
    at ``stage``: it has no stage to come from, so the pipeline's order rules do not apply.

    Refusals: ``move_refused`` naming ``stage`` (another pipeline, an archived stage, the same
    stage, the pipeline's order rules), or ``missing_fields`` naming every required field left
    empty and a loss reason that is missing or not on the head's list.
    """
    if stage.workspace_id != deal.workspace_id:
        raise Invalid(_("Not found."), {"stage": _("Not found.")}, code=MOVE_REFUSED)
    # The rules as stored now, not as a caller loaded them: a change takes effect at once.
    stage = Stage.objects.select_related("pipeline").get(pk=stage.pk)
    if deal.pk is not None:
        _check_route(Stage.objects.select_related("pipeline").get(pk=deal.stage_id), stage)
    problems = field_problems(deal, stage, values)
    if problems:
        raise Invalid(_summary(deal.workspace_id, stage, problems), problems, code=MISSING_FIELDS)


def field_problems(
    deal: Deal, stage: Stage, values: Mapping[str, object] | None = None
) -> dict[str, str]:
    """What a deal lacks to be at ``stage``: field name → message, in the order required."""
    merged = cf.requirement_values(deal, values)
    problems: dict[str, str] = {}
    for name in missing_fields(stage.required_fields or [], merged):
        if name != cf.LOSS_REASON:
            problems[name] = _("Required to enter «%(stage)s».") % {"stage": stage.name}
    if stage.kind == StageKind.LOST:
        reason = str(merged.get(cf.LOSS_REASON) or "").strip()
        if not reason:
            problems[cf.LOSS_REASON] = _("Give the reason the deal was lost.")
        elif listed_loss_reason(deal.workspace_id, reason) is None:
            problems[cf.LOSS_REASON] = _("Choose one of the loss reasons on the list.")
    return problems


def check_kept(deal: Deal, values: Mapping[str, object]) -> None:
    """Refuse an edit that empties a field the deal's current stage requires.

    The gate guards the entry; a deal already at the stage must not lose what let it in.
    Only the fields being changed are judged, so a requirement added later does not block
    unrelated edits of the deals already there.
    """
    stage = deal.stage
    problems = {
        name: message
        for name, message in field_problems(deal, stage, values).items()
        if name in values
    }
    if problems:
        raise Invalid(_summary(deal.workspace_id, stage, problems), problems, code=MISSING_FIELDS)


def listed_loss_reason(workspace_id: int, reason: str) -> str | None:
    """``reason`` as the head's list spells it, or None when the list does not hold it.

    Without a list every reason is accepted as written.
    """
    reason = " ".join(str(reason or "").split())
    names = loss_reason_names(workspace_id)
    if not names:
        return reason or None
    return next((n for n in names if n.casefold() == reason.casefold()), None)


def loss_reason_names(workspace_id: int) -> list[str]:
    """The head's loss reasons in their order (archived ones are no longer offered)."""
    return list(
        LossReason.objects.filter(workspace_id=workspace_id, is_archived=False)
        .order_by("position", "id")
        .values_list("name", flat=True)
    )


def _check_route(current: Stage, target: Stage) -> None:
    info = rules.move_problems(
        rules.StageInfo(current.id, current.pipeline_id, current.kind, current.is_archived),
        rules.StageInfo(target.id, target.pipeline_id, target.kind, target.is_archived),
        loss_reason="-",  # the loss reason is judged with the fields
    )
    if "stage" in info:
        message = {
            "other_pipeline": _("The stage belongs to another pipeline."),
            "archived": _("The stage is archived."),
            "same_stage": _("The deal is already at this stage."),
        }[info["stage"]]
        raise Invalid(message, {"stage": message}, code=MOVE_REFUSED)
    pipeline = current.pipeline
    if not (pipeline.no_skipping or pipeline.no_going_back):
        return
    opens = list(
        Stage.objects.filter(pipeline_id=pipeline.id, kind=StageKind.OPEN, is_archived=False)
        .order_by("position", "id")
        .values_list("position", "name")
    )
    problem = order_problem(
        current.position,
        target.position,
        [position for position, _name in opens],
        target_is_closed=target.is_closed,
        current_is_closed=current.is_closed,
        no_skipping=pipeline.no_skipping,
        no_going_back=pipeline.no_going_back,
    )
    if problem is None:
        return
    if problem == "skips_forward":
        following = next(
            (name for position, name in opens if position > current.position), target.name
        )
        message = _("Deals of «%(pipeline)s» go stage by stage: the next one is «%(stage)s».") % {
            "pipeline": pipeline.name,
            "stage": following,
        }
    elif current.is_closed:
        message = _("Deals of «%(pipeline)s» are not reopened once closed.") % {
            "pipeline": pipeline.name
        }
    else:
        message = _("Deals of «%(pipeline)s» do not move back to an earlier stage.") % {
            "pipeline": pipeline.name
        }
    raise Invalid(message, {"stage": message}, code=MOVE_REFUSED)


def _summary(workspace_id: int, stage: Stage, problems: Mapping[str, str]) -> str:
    if list(problems) == [cf.LOSS_REASON]:
        return problems[cf.LOSS_REASON]
    labels = cf.requirement_labels(workspace_id)
    names = ", ".join(f"«{labels.get(name, name)}»" for name in problems)
    return _("To enter «%(stage)s», fill in: %(fields)s.") % {"stage": stage.name, "fields": names}


# -- Values given with a move --------------------------------------------------------------------


@dataclass
class GivenValues:
    """Values a form, an API call or an import row sets together with a move."""

    #: The deal's own attributes to set (model values: ``Decimal``, ``date``, objects).
    attrs: dict[str, object] = field(default_factory=dict)
    #: Custom values, cleaned (None clears one), for ``custom_fields.merge_custom``.
    custom: dict[str, object] = field(default_factory=dict)
    #: Everything given, under the requirement names, for ``check_entry``.
    overlay: dict[str, object] = field(default_factory=dict)


def entry_field_names() -> tuple[str, ...]:
    """The deal's own fields a move may fill (those a stage may require)."""
    return cf.BUILTIN_DEAL_FIELDS


def clean_given_values(workspace_id: int, raw: Mapping[str, object] | None) -> GivenValues:
    """Check and convert the values given with a move: ``{"invoice_no": "…", "custom.x": …}``.

    ``company`` and ``contact`` come as objects (the caller picks them from what its person may
    see). Every bad value is named at once (``Invalid``); nothing is set half-way.
    """
    out = GivenValues()
    if not raw:
        return out
    errors: dict[str, str] = {}
    custom_raw: dict[str, object] = {}
    for name, value in raw.items():
        if name.startswith(cf.CUSTOM_PREFIX):
            custom_raw[name.removeprefix(cf.CUSTOM_PREFIX)] = value
            continue
        if name not in cf.BUILTIN_DEAL_FIELDS:
            errors[name] = _("Unknown field.")
            continue
        try:
            out.attrs[name], out.overlay[name] = _clean_builtin(name, value, workspace_id)
        except ValueError as exc:
            errors[name] = str(exc)
    if custom_raw:
        try:
            out.custom = cf.clean_custom_values(workspace_id, CustomField.Entity.DEAL, custom_raw)
        except Invalid as exc:
            errors.update(exc.fields)
        else:
            for key, value in out.custom.items():
                out.overlay[cf.CUSTOM_PREFIX + key] = value
    if errors:
        if len(errors) == 1:
            raise Invalid(next(iter(errors.values())), errors)
        raise Invalid(_("Check the fields."), errors)
    return out


def _clean_builtin(name: str, value, workspace_id: int) -> tuple[object, object]:
    """(the model's value, the value the gate judges) of one of the deal's own fields."""
    if name in _MONEY:
        amount = clean_money(value)
        if name == "amount":
            return (amount if amount is not None else Decimal(0)), amount
        return amount, amount
    if name == "expected_close":
        day = clean_day(value)
        return day, day
    if name in ("company", "contact"):
        from voronka.clients.models import Company, Contact

        model = Company if name == "company" else Contact
        if value is None or value == "":
            return None, None
        if not isinstance(value, model) or value.workspace_id != workspace_id:
            raise ValueError(_("Not found."))
        return value, value.pk
    text = " ".join(str(value if value is not None else "").split())
    limit = _TEXT_LIMITS[name]
    if len(text) > limit:
        raise ValueError(_("At most %(count)s characters.") % {"count": limit})
    return text, text


def clean_money(value) -> Decimal | None:
    """An amount from a form, a file or JSON: «150 000,50» and 150000.5 alike; None if empty."""
    if not is_filled(value):
        return None
    if isinstance(value, bool):
        raise ValueError(_("Enter an amount, e.g. 150000.00."))
    text = str(value).replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter an amount, e.g. 150000.00.")) from None
    if not amount.is_finite():
        raise ValueError(_("Enter an amount, e.g. 150000.00."))
    if amount < 0:
        raise ValueError(_("An amount of money cannot be negative."))
    if amount >= _MONEY_LIMIT:
        raise ValueError(_("The number is too large."))
    return amount.quantize(Decimal("0.01"))


def clean_day(value) -> date | None:
    """A date from a form, a file or JSON (``date``, ``datetime`` or ``YYYY-MM-DD``)."""
    if not is_filled(value):
        return None
    if hasattr(value, "date") and callable(value.date):  # a datetime, e.g. from a spreadsheet
        value = value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text)
    except ValueError:
        pass
    for sep in (".", "/"):
        parts = text.split(sep)
        if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
            try:
                return date(int(parts[2]), int(parts[1]), int(parts[0]))
            except ValueError:
                break
    raise ValueError(_("Enter a date as YYYY-MM-DD."))
