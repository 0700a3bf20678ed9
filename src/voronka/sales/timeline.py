"""A deal's timeline: communications, stage changes, tasks and field changes, newest first.

Each source is read through the viewer's ``visible_*`` functions and cut to the newest
``limit`` entries before merging, so a deal with a long life still costs a few small queries.
Field changes come from django-simple-history: consecutive historical records are diffed and
foreign keys are shown by name, never as raw ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from voronka.accounts.models import User
from voronka.activities.access import visible_tasks
from voronka.clients.models import Company, Contact
from voronka.inbox.access import visible_communications

from .models import Deal, Pipeline, StageChange
from .templatetags.sales_format import format_money

#: Fields a stage move changes; the stage change entry tells that story already.
MOVE_FIELDS = {"stage", "stage_entered_at", "closed_at"}
MONEY_FIELDS = {"amount", "invoice_amount"}
RELATED = {
    "owner": User,
    "assistant": User,
    "company": Company,
    "contact": Contact,
    "pipeline": Pipeline,
}


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    """One line of the timeline. ``kind`` picks its template: communication, stage, task_planned,
    task_done or fields."""

    kind: str
    at: datetime
    actor: Any = None
    obj: Any = None
    changes: list[FieldChange] = field(default_factory=list)
    order: int = 0

    @property
    def sort_key(self):
        return (self.at, self.order)


def deal_timeline(user, deal: Deal, *, limit: int = 50) -> tuple[list[Entry], bool]:
    """The newest ``limit`` entries of ``deal``'s timeline and whether older ones exist."""
    entries: list[Entry] = []
    entries += _communications(user, deal, limit + 1)
    entries += _stage_changes(deal, limit + 1)
    entries += _tasks(user, deal, limit + 1)
    entries += _field_changes(deal, limit + 1)
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    return entries[:limit], len(entries) > limit


def _communications(user, deal, limit):
    comms = (
        visible_communications(user)
        .filter(deal_id=deal.id)
        .select_related("author", "contact")
        .order_by("-occurred_at", "-id")[:limit]
    )
    return [Entry("communication", c.occurred_at, c.author, c, order=4) for c in comms]


def _stage_changes(deal, limit):
    changes = (
        StageChange.objects.filter(deal_id=deal.id, workspace_id=deal.workspace_id)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-id")[:limit]
    )
    return [Entry("stage", c.changed_at, c.changed_by, c, order=2) for c in changes]


def _tasks(user, deal, limit):
    tasks = (
        visible_tasks(user)
        .filter(deal_id=deal.id)
        .select_related("owner", "created_by")
        .order_by("-created_at", "-id")[:limit]
    )
    entries = []
    for t in tasks:
        entries.append(Entry("task_planned", t.created_at, t.created_by, t, order=1))
        if t.done_at is not None:
            entries.append(Entry("task_done", t.done_at, t.owner, t, order=3))
    return entries


def _field_changes(deal, limit):
    records = list(
        deal.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    records.reverse()  # oldest first, so each record is diffed against the one before it
    labels = {
        f.name: str(f.verbose_name) for f in Deal._meta.get_fields() if hasattr(f, "verbose_name")
    }
    raw = []
    for prev, cur in zip(records, records[1:], strict=False):
        delta = cur.diff_against(prev, excluded_fields=MOVE_FIELDS | {"workspace"})
        if delta.changes:
            raw.append((cur, delta.changes))
    names = _related_names(c for _rec, changes in raw for c in changes)
    entries = []
    for rec, changes in raw:
        shown = [
            FieldChange(
                labels.get(c.field, c.field),
                _display(c.field, c.old, names, rec),
                _display(c.field, c.new, names, rec),
            )
            for c in changes
        ]
        entries.append(Entry("fields", rec.history_date, rec.history_user, rec, shown, order=0))
    return entries


def _related_names(changes) -> dict[tuple[str, Any], str]:
    wanted: dict[type, set] = {}
    for c in changes:
        model = RELATED.get(c.field)
        if model is not None:
            wanted.setdefault(model, set()).update(v for v in (c.old, c.new) if v is not None)
    names: dict[tuple[str, Any], str] = {}
    for model, ids in wanted.items():
        for obj in model.objects.filter(id__in=ids):
            names[(model.__name__, obj.id)] = str(obj)
    return names


def _display(name: str, value, names, record) -> str:
    if value is None or value == "":
        return "—"
    model = RELATED.get(name)
    if model is not None:
        return names.get((model.__name__, value), _("deleted (#%(id)s)") % {"id": value})
    if name in MONEY_FIELDS:
        return format_money(value, record.currency)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {'—' if v in (None, '') else v}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, date | datetime):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal):
        return format_money(value)
    return str(value)
