"""Every change to companies and contacts goes through one of these functions."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voronka.accounts.access import may_write
from voronka.core.errors import Invalid, NotAllowed
from voronka.sales import kept_lists

from . import rules
from .models import Company, Contact, Segment
from .phones import normalise_phone

COMPANY_FIELDS = (
    "name",
    "owner",
    "segment",
    "inn",
    "phone",
    "email",
    "website",
    "city",
    "notes",
)
CONTACT_FIELDS = (
    "company",
    "first_name",
    "last_name",
    "position",
    "owner",
    "phone",
    "email",
    "telegram",
    "whatsapp",
    "timezone",
    "notes",
)


@dataclass(frozen=True)
class Duplicate:
    """An existing record that looks like the one being created, and why."""

    kind: str  # "company" or "contact"
    id: int
    label: str
    reason: str  # "name", "phone", "email"
    visible: bool


def _clean(values: dict, allowed: tuple[str, ...]) -> dict:
    unknown = set(values) - set(allowed)
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    out = dict(values)
    for name in ("phone", "whatsapp"):
        if name in out:
            raw = (out[name] or "").strip()
            if raw:
                e164 = normalise_phone(raw)
                if e164 is None:
                    raise Invalid(
                        _("«%(value)s» is not a phone number.") % {"value": raw},
                        {name: _("Enter a phone number, e.g. +7 916 123-45-67.")},
                    )
                out[name] = e164
            else:
                out[name] = ""
    if "email" in out:
        out["email"] = rules.normalise_email(out["email"])
        if out["email"] and ("@" not in out["email"] or " " in out["email"]):
            raise Invalid(
                _("Enter a valid email address."), {"email": _("Enter a valid email address.")}
            )
    if "telegram" in out:
        out["telegram"] = rules.normalise_handle(out["telegram"])
    if "timezone" in out:
        zone = rules.clean_timezone(out["timezone"])
        if zone is None:
            message = _(
                "«%(value)s» is not a time zone: choose one from the list, e.g. Europe/Moscow."
            ) % {"value": str(out["timezone"]).strip()}
            raise Invalid(_("Time zone: %(message)s") % {"message": message}, {"timezone": message})
        out["timezone"] = zone
    for name, value in list(out.items()):
        if isinstance(value, str) and name not in ("notes",):
            out[name] = value.strip()
    return out


def _check(actor, **objects) -> None:
    if not may_write(actor):
        raise NotAllowed(_("Your role may not change clients."))
    for name, obj in objects.items():
        if obj is not None and obj.workspace_id != actor.workspace_id:
            raise Invalid(_("Not found."), {name: _("Not found.")})


def _check_segment(actor, segment, current=None) -> None:
    """A company takes a segment of the workspace's list that is not archived; a company that
    has an archived segment already may keep it."""
    if segment is None:
        return
    if not isinstance(segment, Segment) or segment.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"segment": _("Not found.")})
    archived = Segment.objects.filter(pk=segment.pk, is_archived=True).exists()  # as it is now
    if archived and getattr(current, "pk", None) != segment.pk:
        message = _("The segment “%(name)s” is archived: choose another.") % {"name": segment.name}
        raise Invalid(message, {"segment": message})


def find_duplicates(
    actor,
    *,
    kind: str,
    name: str = "",
    phone: str = "",
    email: str = "",
    exclude_id: int | None = None,
) -> list[Duplicate]:
    """Records in the workspace that look like a new one: same phone, email or company name.

    The warning names a record only when ``actor`` may see it; otherwise it says that a colleague's
    client matches, so nothing invisible leaks beyond the fact that the client is taken.
    """
    from .access import visible_companies, visible_contacts

    found: list[Duplicate] = []
    ws = actor.workspace_id
    phone = normalise_phone(phone) or "" if phone else ""
    email = rules.normalise_email(email)
    if kind == "company":
        q = Q()
        key = rules.company_name_key(name)
        if phone:
            q |= Q(phone=phone)
        if email:
            q |= Q(email=email)
        candidates = Company.objects.filter(workspace_id=ws)
        if key:
            first = key.split()[0]
            q |= Q(name__icontains=first)
        if not q:
            return []
        for c in candidates.filter(q).exclude(id=exclude_id)[:50]:
            if phone and c.phone == phone:
                reason = "phone"
            elif email and c.email == email:
                reason = "email"
            elif key and rules.company_name_key(c.name) == key:
                reason = "name"
            else:
                continue
            visible = visible_companies(actor).filter(id=c.id).exists()
            found.append(Duplicate("company", c.id, c.name, reason, visible))
    else:
        q = Q()
        if phone:
            q |= Q(phone=phone) | Q(whatsapp=phone)
        if email:
            q |= Q(email=email)
        if not q:
            return []
        for c in Contact.objects.filter(workspace_id=ws).filter(q).exclude(id=exclude_id)[:20]:
            reason = "phone" if phone and phone in (c.phone, c.whatsapp) else "email"
            visible = visible_contacts(actor).filter(id=c.id).exists()
            found.append(Duplicate("contact", c.id, str(c), reason, visible))
    return found[:10]


@transaction.atomic
def do_create_company(actor, *, name: str, owner=None, **fields) -> Company:
    """Create a company; duplicates are warned about by ``find_duplicates``, not refused."""
    values = _clean({"name": name, **fields}, COMPANY_FIELDS)
    owner = owner or actor
    _check(actor, owner=owner)
    if not values["name"]:
        raise Invalid(_("Give the company a name."), {"name": _("This field is required.")})
    _check_segment(actor, values.get("segment"))
    company = Company(workspace_id=actor.workspace_id, owner=owner, **values)
    company._history_user = actor
    company.save()
    return company


@transaction.atomic
def do_update_company(actor, company: Company, **changes) -> Company:
    values = _clean(changes, COMPANY_FIELDS)
    _check(actor, owner=values.get("owner"))
    if "name" in values and not values["name"]:
        raise Invalid(_("Give the company a name."), {"name": _("This field is required.")})
    if "segment" in values:
        current = Segment.objects.filter(pk=company.segment_id).first()
        _check_segment(actor, values["segment"], current=current)
    for k, v in values.items():
        setattr(company, k, v)
    company._history_user = actor
    company.save()
    return company


@transaction.atomic
def do_create_contact(actor, *, first_name: str, owner=None, **fields) -> Contact:
    values = _clean({"first_name": first_name, **fields}, CONTACT_FIELDS)
    owner = owner or actor
    _check(actor, owner=owner, company=values.get("company"))
    if not values["first_name"]:
        raise Invalid(_("Give the contact a name."), {"first_name": _("This field is required.")})
    contact = Contact(workspace_id=actor.workspace_id, owner=owner, **values)
    contact._history_user = actor
    contact.save()
    return contact


@transaction.atomic
def do_update_contact(actor, contact: Contact, **changes) -> Contact:
    values = _clean(changes, CONTACT_FIELDS)
    _check(actor, owner=values.get("owner"), company=values.get("company"))
    if "first_name" in values and not values["first_name"]:
        raise Invalid(_("Give the contact a name."), {"first_name": _("This field is required.")})
    reaching = ("email", "timezone")
    before = {k: getattr(contact, k) for k in reaching}
    for k, v in values.items():
        setattr(contact, k, v)
    contact._history_user = actor
    contact.save()
    if any(getattr(contact, k) != before[k] for k in reaching):
        # Meeting reminders go to the new address, in the client's new working hours.
        from voronka.activities.reminders import replan_for_contact

        replan_for_contact(contact)
    return contact


# --- Segments --------------------------------------------------------------------------------


def _segment_words() -> kept_lists.Words:
    return kept_lists.Words(
        unnamed=_("Give the segment a name."),
        taken=_("The segment “%(name)s” is on the list already."),
        taken_archived=_("The archived segment “%(name)s” has this name; restore it instead."),
        reorder=_("List every segment once."),
        in_use=lambda name, count: (
            ngettext(
                "“%(name)s” is the segment of %(count)s company: archive it instead, and it is no "
                "longer offered while the company keeps it.",
                "“%(name)s” is the segment of %(count)s companies: archive it instead, and it is "
                "no longer offered while the companies keep it.",
                count,
            )
            % {"name": name, "count": count}
        ),
    )


@transaction.atomic
def do_create_segment(actor, *, name: str) -> Segment:
    """Add a client segment to the end of the head's list."""
    return kept_lists.create(Segment, actor, name, _segment_words())


@transaction.atomic
def do_update_segment(actor, segment: Segment, **changes) -> Segment:
    """Rename a segment, move it in the list (``position``, 1 = first), archive or restore it.

    An archived segment is no longer offered for companies; the companies that have it keep it.
    """
    return kept_lists.update(Segment, actor, segment, changes, _segment_words(), "segment")


@transaction.atomic
def do_reorder_segments(actor, segment_ids: list[int]) -> None:
    """Put the segments in the given order (every segment exactly once, archived ones too)."""
    kept_lists.reorder(Segment, actor, segment_ids, _segment_words(), "segments")


@transaction.atomic
def do_delete_segment(actor, segment: Segment) -> None:
    """Delete a segment no company has (a mistake); one in use is refused: archive it instead."""
    kept_lists.delete(
        Segment,
        actor,
        segment,
        Company.objects.filter(segment=segment),
        _segment_words(),
        "segment",
    )
