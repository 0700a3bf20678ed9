"""Changes to the custom fields the head defines for deals, companies and contacts."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from . import custom_fields as cf
from .errors import Invalid, NotAllowed
from .models import CustomField

LABEL_MAX_LENGTH = 120
CHOICE_MAX_LENGTH = 100
MAX_CHOICES = 200


def _check_configurer(actor) -> None:
    if not actor.may_configure:
        raise NotAllowed(_("Only the head of sales and the owner change the settings."))


def _clean_label(label) -> str:
    label = " ".join(str(label or "").split())
    if not label:
        raise Invalid(_("Give the field a label."), {"label": _("This field is required.")})
    if len(label) > LABEL_MAX_LENGTH:
        message = _("At most %(count)s characters.") % {"count": LABEL_MAX_LENGTH}
        raise Invalid(message, {"label": message})
    return label


def _clean_choices(field_type: str, choices) -> list[str]:
    """The choices of a choice field: distinct, non-empty, in the order given."""
    values = [" ".join(str(c).split()) for c in (choices or [])]
    values = [v for v in values if v]
    if field_type not in cf.CHOICE_TYPES:
        if values:
            message = _("Only a field of type “choice” or “several choices” has choices.")
            raise Invalid(message, {"choices": message})
        return []
    if not values:
        message = _("List the choices, one per line.")
        raise Invalid(message, {"choices": message})
    seen: set[str] = set()
    out = []
    for v in values:
        if len(v) > CHOICE_MAX_LENGTH:
            message = _("A choice is at most %(count)s characters: “%(choice)s…”.") % {
                "count": CHOICE_MAX_LENGTH,
                "choice": v[:30],
            }
            raise Invalid(message, {"choices": message})
        if v.casefold() in seen:
            message = _("The choice “%(choice)s” is listed twice.") % {"choice": v}
            raise Invalid(message, {"choices": message})
        seen.add(v.casefold())
        out.append(v)
    if len(out) > MAX_CHOICES:
        message = _("At most %(count)s choices.") % {"count": MAX_CHOICES}
        raise Invalid(message, {"choices": message})
    return out


def _check_type(field_type) -> str:
    if field_type not in CustomField.Type.values:
        message = _("Choose one of the types: %(types)s.") % {
            "types": ", ".join(str(label) for label in CustomField.Type.labels)
        }
        raise Invalid(message, {"type": message})
    return field_type


def _stages_requiring(field: CustomField) -> list:
    """The stages whose requirements name this (deal) field."""
    if field.entity != CustomField.Entity.DEAL:
        return []
    from voronka.sales.models import Stage

    name = cf.CUSTOM_PREFIX + field.key
    stages = Stage.objects.filter(workspace_id=field.workspace_id).select_related("pipeline")
    return [
        s for s in stages.order_by("pipeline_id", "position", "id") if name in s.required_fields
    ]


def _renumber(rows: list, actor) -> None:
    for position, row in enumerate(rows, 1):
        if row.position != position:
            row.position = position
            row._history_user = actor
            row.save(update_fields=["position", "updated_at"])


@transaction.atomic
def do_create_custom_field(
    actor, *, entity: str, label: str, type: str, key: str = "", choices=()
) -> CustomField:
    """Add a custom field to deals, companies or contacts, at the end of their list.

    Without a key, one is spelled from the label in Latin letters; a key is unique per entity,
    archived fields included, so that old values and the API never mean two things.
    """
    _check_configurer(actor)
    if entity not in CustomField.Entity.values:
        message = _("Choose deals, companies or contacts.")
        raise Invalid(message, {"entity": message})
    label = _clean_label(label)
    _check_type(type)
    key = (key or "").strip() or cf.suggest_key(label)
    if not key:
        message = _("Give a key in Latin letters: the label has none to spell it with.")
        raise Invalid(message, {"key": message})
    if not cf.KEY_PATTERN.match(key):
        message = _(
            "A key is up to 40 small Latin letters, digits and _, and starts with a letter."
        )
        raise Invalid(message, {"key": message})
    existing = CustomField.objects.filter(workspace_id=actor.workspace_id, entity=entity)
    taken = existing.filter(key=key).first()
    if taken is not None:
        if taken.is_archived:
            message = _("The archived field “%(label)s” has this key; restore it or pick another.")
        else:
            message = _("The field “%(label)s” has this key already.")
        message = message % {"label": taken.label}
        raise Invalid(message, {"key": message}, code="duplicate")
    position = (existing.aggregate(m=Max("position"))["m"] or 0) + 1
    field = CustomField(
        workspace_id=actor.workspace_id,
        entity=entity,
        key=key,
        label=label,
        type=type,
        choices=_clean_choices(type, choices),
        position=position,
    )
    field._history_user = actor
    field.save()
    return field


@transaction.atomic
def do_update_custom_field(actor, field: CustomField, **changes) -> CustomField:
    """Relabel a field, change its choices, type or place in the order, archive or restore it.

    The key never changes (the API and stage requirements name it). The type changes only while
    no record holds a value of the field. A field a stage requires cannot be archived until the
    requirement goes: a stage must not require what nobody can fill in.
    """
    _check_configurer(actor)
    if field.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"field": _("Not found.")})
    allowed = {"label", "choices", "type", "position", "is_archived"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    new_type = _check_type(changes["type"]) if "type" in changes else field.type
    if new_type != field.type and cf.values_exist(field):
        message = _(
            "The type cannot change: records already hold values of this field. "
            "Add a new field of the type you need instead."
        )
        raise Invalid(message, {"type": message}, code="type_locked")
    if "label" in changes:
        field.label = _clean_label(changes["label"])
    if "choices" in changes or new_type != field.type:
        choices = changes.get("choices", field.choices if new_type in cf.CHOICE_TYPES else [])
        field.choices = _clean_choices(new_type, choices)
    field.type = new_type
    if changes.get("is_archived") and not field.is_archived:
        stages = _stages_requiring(field)
        if stages:
            names = ", ".join(f"«{s.name}» ({s.pipeline.name})" for s in stages)
            message = _(
                "Stages require this field to enter them: %(stages)s. "
                "Remove it from their requirements first."
            ) % {"stages": names}
            raise Invalid(message, {"is_archived": message}, code="field_required_by_stage")
    if "is_archived" in changes:
        field.is_archived = bool(changes["is_archived"])
    field._history_user = actor
    field.save()
    if "position" in changes and changes["position"] is not None:
        do_place_custom_field(actor, field, int(changes["position"]))
        field.refresh_from_db()
    return field


@transaction.atomic
def do_place_custom_field(actor, field: CustomField, position: int) -> None:
    """Put a field at ``position`` (1 = first) among its entity's fields; the rest follow."""
    _check_configurer(actor)
    if position < 1:
        message = _("A place in the order is 1 or more.")
        raise Invalid(message, {"position": message})
    rows = [
        f
        for f in cf.fields_for(actor.workspace_id, field.entity, include_archived=True)
        if f.pk != field.pk
    ]
    rows.insert(min(position, len(rows) + 1) - 1, field)
    _renumber(rows, actor)


@transaction.atomic
def do_reorder_custom_fields(actor, entity: str, field_ids: list[int]) -> None:
    """Put an entity's custom fields in the given order (every field exactly once)."""
    _check_configurer(actor)
    rows = {f.id: f for f in cf.fields_for(actor.workspace_id, entity, include_archived=True)}
    if sorted(field_ids) != sorted(rows):
        message = _("List every field once.")
        raise Invalid(message, {"fields": message})
    _renumber([rows[i] for i in field_ids], actor)
