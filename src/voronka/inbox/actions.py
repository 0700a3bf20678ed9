"""Every change to communications goes through one of these functions."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import may_write
from voronka.control.evaluate import after_commit
from voronka.core.errors import Invalid, NotAllowed

from .models import Channel, CommKind, Communication, Direction

COMM_FIELDS = (
    "kind",
    "direction",
    "channel",
    "occurred_at",
    "duration_seconds",
    "comment",
    "contact",
    "deal",
    "recording",
)


def _validate(values: dict) -> dict:
    unknown = set(values) - set(COMM_FIELDS)
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    if "kind" in values and values["kind"] not in CommKind.values:
        raise Invalid(
            _("Unknown kind."), {"kind": _("Choose a call, message, email, meeting or note.")}
        )
    if "direction" in values and (values["direction"] or "") not in Direction.values:
        raise Invalid(_("Unknown direction."), {"direction": _("Choose incoming or outgoing.")})
    if (
        "channel" in values
        and (values["channel"] or "")
        and values["channel"] not in Channel.values
    ):
        raise Invalid(_("Unknown channel."), {"channel": _("Choose a channel.")})
    d = values.get("duration_seconds")
    if d is not None and d < 0:
        raise Invalid(
            _("Duration cannot be negative."),
            {"duration_seconds": _("Duration cannot be negative.")},
        )
    if values.get("occurred_at") and values["occurred_at"] > timezone.now() + timedelta(minutes=5):
        # A planned contact is a task; a communication is one that happened.
        raise Invalid(
            _("A communication cannot be in the future; plan a task instead."),
            {"occurred_at": _("A communication cannot be in the future.")},
        )
    if "comment" in values:
        values["comment"] = (values["comment"] or "").strip()
    return values


def _check(actor, **objects) -> None:
    if not may_write(actor):
        raise NotAllowed(_("Your role may not log communications."))
    for name, obj in objects.items():
        if obj is not None and obj.workspace_id != actor.workspace_id:
            raise Invalid(_("Not found."), {name: _("Not found.")})


@transaction.atomic
def do_log_communication(
    actor, *, kind: str, occurred_at=None, deal=None, contact=None, author=None, **fields
) -> Communication:
    """Put a call, message, meeting, email or note on the client's timeline."""
    values = _validate({"kind": kind, "occurred_at": occurred_at or timezone.now(), **fields})
    _check(actor, deal=deal, contact=contact)
    if deal is None and contact is None:
        raise Invalid(
            _("Say which deal or contact this was with."),
            {"deal": _("Choose a deal or a contact.")},
        )
    if contact is None and deal is not None:
        contact = deal.contact
    comm = Communication(
        workspace_id=actor.workspace_id,
        author=author or actor,
        deal=deal,
        contact=contact,
        **values,
    )
    comm.save()
    after_commit(actor.workspace_id, communications=[comm.id])
    return comm


@transaction.atomic
def do_comment_communication(actor, comm: Communication, *, comment: str) -> Communication:
    """Write (or rewrite) the comment on a communication: what was discussed and agreed."""
    _check(actor)
    comm.comment = (comment or "").strip()
    if not comm.comment:
        raise Invalid(
            _("Write what was discussed and agreed."), {"comment": _("This field is required.")}
        )
    comm.save(update_fields=["comment", "updated_at"])
    after_commit(actor.workspace_id, communications=[comm.id])
    return comm
