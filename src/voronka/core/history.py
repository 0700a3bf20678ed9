"""Change history as people read it: who, when, what changed from what to what.

django-simple-history keeps a row per saved version; these functions turn a page of those rows
into entries with the changed fields' labels and old → new values shown as on the forms.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _

#: Bookkeeping columns nobody edits by hand; their changes are not news.
NOT_SHOWN = frozenset(
    {"id", "workspace", "created_at", "updated_at", "password", "last_login", "date_joined"}
)

#: Labels that say more than a field's own name in a history line.
LABELS = {"position": lambda: _("Place in the order")}

PER_PAGE = 20


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime
    who: object | None
    action: str  # "created", "changed" or "deleted"
    subject: str
    changes: list[FieldChange] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def show_value(model_field: models.Field, value) -> str:
    """A stored value as a person reads it: choices by label, yes/no, a dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(model_field, models.BooleanField):
        return _("yes") if value else _("no")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def describe(record, *, subject: str | None = None) -> HistoryEntry:
    """One history row, with the fields that changed since the object's previous version."""
    model = record.instance_type
    action = ACTIONS.get(record.history_type, "changed")
    changes: list[FieldChange] = []
    previous = record.prev_record if action == "changed" else None
    if previous is not None:
        delta = record.diff_against(previous, excluded_fields=NOT_SHOWN, foreign_keys_are_objs=True)
        for change in delta.changes:
            model_field = model._meta.get_field(change.field)
            label = LABELS.get(change.field, lambda f=model_field: f.verbose_name)()
            changes.append(
                FieldChange(
                    capfirst(str(label)),
                    show_value(model_field, change.old),
                    show_value(model_field, change.new),
                )
            )
    return HistoryEntry(
        when=record.history_date,
        who=record.history_user,
        action=action,
        subject=subject if subject is not None else str(record.instance),
        changes=changes,
    )


def history_page(querysets, page, *, per_page: int = PER_PAGE, subject=None) -> HistoryPage:
    """Page ``page`` of the newest-first union of several history querysets.

    Each queryset gives at most the rows up to the end of the page, so a long history costs
    only as much as the page asked for. ``subject(record)`` names the object in each entry.
    A saved version that changed nothing shown (a bookkeeping save) is left out.
    """
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    upto = number * per_page + 1
    streams = [
        qs.select_related("history_user").order_by("-history_date", "-history_id")[:upto]
        for qs in querysets
    ]
    merged = heapq.merge(
        *streams, key=lambda r: (r.history_date, r.history_id, r._meta.label), reverse=True
    )
    rows = list(islice(merged, (number - 1) * per_page, upto))
    entries = []
    for record in rows[:per_page]:
        entry = describe(record, subject=subject(record) if subject else None)
        if entry.action != "changed" or entry.changes:
            entries.append(entry)
    return HistoryPage(entries, number, len(rows) > per_page)
