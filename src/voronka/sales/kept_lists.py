"""The lists the head keeps by name — products (``sales.Product``) and client segments
(``clients.Segment``): add, rename, reorder, archive, restore, delete while unused.

One implementation for both, so that the two lists behave alike; the actions modules wrap it
(``sales.actions.do_create_product``, ``clients.actions.do_create_segment``, …) and own the
words a person reads. Each function runs inside its caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Max
from django.utils.translation import gettext as _

from voronka.core.errors import Invalid, NotAllowed
from voronka.core.listing import capped_count

NAME_LIMIT = 120


@dataclass(frozen=True)
class Words:
    """What the errors of one list say (already translated when the call is made)."""

    #: "Give the product a name."
    unnamed: str
    #: "The product “%(name)s” is on the list already."
    taken: str
    #: "The archived product “%(name)s” has this name; restore it instead."
    taken_archived: str
    #: "List every product once."
    reorder: str
    #: (name, count) → "“Аудит” is set on 12 deals: archive it instead …" (count may be capped)
    in_use: Callable[[str, int], str]


def check_configurer(actor) -> None:
    if not actor.may_configure:
        raise NotAllowed(_("Only the head of sales and the owner change the settings."))


def check_same_workspace(actor, row, field: str) -> None:
    if row is not None and row.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {field: _("Not found.")})


def clean_name(name, words: Words) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise Invalid(words.unnamed, {"name": _("This field is required.")})
    if len(name) > NAME_LIMIT:
        message = _("At most %(count)s characters.") % {"count": NAME_LIMIT}
        raise Invalid(message, {"name": message})
    return name


def check_name_free(model, actor, name: str, words: Words, *, exclude=None) -> None:
    """Names are unique per workspace regardless of case ("Опт" and "опт" are one segment)."""
    for other in model.objects.filter(workspace_id=actor.workspace_id):
        if other.pk != getattr(exclude, "pk", None) and other.name.casefold() == name.casefold():
            message = words.taken_archived if other.is_archived else words.taken
            message = message % {"name": other.name}
            raise Invalid(message, {"name": message}, code="duplicate")


def renumber(rows, actor) -> None:
    for position, row in enumerate(rows, 1):
        if row.position != position:
            row.position = position
            row._history_user = actor
            row.save(update_fields=["position", "updated_at"])


def create(model, actor, name, words: Words):
    """A new entry at the end of the list."""
    check_configurer(actor)
    name = clean_name(name, words)
    check_name_free(model, actor, name, words)
    rows = model.objects.filter(workspace_id=actor.workspace_id)
    position = (rows.aggregate(m=Max("position"))["m"] or 0) + 1
    row = model(workspace_id=actor.workspace_id, name=name, position=position)
    row._history_user = actor
    row.save()
    return row


def update(model, actor, row, changes: dict, words: Words, field: str):
    """Rename, archive or restore an entry, or move it to ``position`` (1 = first)."""
    check_configurer(actor)
    check_same_workspace(actor, row, field)
    unknown = set(changes) - {"name", "position", "is_archived"}
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    locked = model.objects.select_for_update().get(pk=row.pk)
    if changes.get("name") is not None:
        name = clean_name(changes["name"], words)
        check_name_free(model, actor, name, words, exclude=locked)
        locked.name = name
    if changes.get("is_archived") is not None:
        locked.is_archived = bool(changes["is_archived"])
    locked._history_user = actor
    locked.save()
    if changes.get("position") is not None:
        position = int(changes["position"])
        if position < 1:
            message = _("A place in the order is 1 or more.")
            raise Invalid(message, {"position": message})
        rows = [r for r in model.objects.filter(workspace_id=actor.workspace_id) if r.pk != row.pk]
        rows.insert(min(position, len(rows) + 1) - 1, locked)
        renumber(rows, actor)
        locked.refresh_from_db()
    return locked


def reorder(model, actor, ids: list[int], words: Words, field: str) -> None:
    """Put the whole list in the given order (every entry exactly once)."""
    check_configurer(actor)
    rows = {r.id: r for r in model.objects.filter(workspace_id=actor.workspace_id)}
    if sorted(ids) != sorted(rows):
        raise Invalid(words.reorder, {field: words.reorder})
    renumber([rows[i] for i in ids], actor)


def delete(model, actor, row, usage, words: Words, field: str) -> None:
    """Delete an entry nothing uses (a mistyped one); one in use is refused: archive it.

    ``usage`` is the queryset of the rows pointing at it (deals, companies), of every person:
    the refusal must not depend on what the head happens to see.
    """
    check_configurer(actor)
    check_same_workspace(actor, row, field)
    locked = model.objects.select_for_update().get(pk=row.pk)
    count, _capped = capped_count(usage.filter(workspace_id=actor.workspace_id))
    if count:
        message = words.in_use(locked.name, count)
        raise Invalid(message, {field: message}, code="in_use")
    locked._history_user = actor
    locked.delete()
