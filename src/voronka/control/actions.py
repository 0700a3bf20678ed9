"""Every change the control app makes on a person's behalf: snoozes and the rules' settings."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import is_assistant, may_write, owner_scope
from voronka.core.errors import Invalid, NotAllowed
from voronka.sales.models import Deal, StageKind

from .evaluate import after_commit
from .models import RuleSettings, Snooze

#: The furthest a deal may be snoozed: a longer pause is a deal to close or to hand over.
MAX_SNOOZE_DAYS = 90
REASON_MAX = 255


def may_snooze(actor, deal: Deal) -> bool:
    """The deal's owner, their senior, the head and the owner may pause a deal's flags."""
    if not may_write(actor) or is_assistant(actor) or deal.workspace_id != actor.workspace_id:
        return False
    scope = owner_scope(actor)
    return scope is None or deal.owner_id in scope


def _check_may_snooze(actor, deal: Deal) -> None:
    if deal.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"deal": _("Not found.")})
    if not may_snooze(actor, deal):
        raise NotAllowed(_("Only the deal's owner, their senior or the head may pause its flags."))


@transaction.atomic
def do_snooze_deal(actor, deal: Deal, *, until: datetime, reason: str, now=None) -> Snooze:
    """Pause a deal's stall flags until a moment, with the reason; an earlier snooze ends.

    The next step is never paused: a snoozed deal still needs its task.
    """
    _check_may_snooze(actor, deal)
    now = now or timezone.now()
    reason = " ".join((reason or "").split())
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the deal waits, e.g. «the director is on holiday».")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _("At most %(n)s characters.") % {"n": REASON_MAX}
    if until is None:
        errors["until"] = _("Choose the date the flags come back.")
    elif until <= now:
        errors["until"] = _("Choose a date in the future.")
    elif until > now + timedelta(days=MAX_SNOOZE_DAYS):
        errors["until"] = _("At most %(days)s days ahead.") % {"days": MAX_SNOOZE_DAYS}
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    locked = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
    if locked.stage.kind != StageKind.OPEN:
        raise Invalid(
            _("The deal is closed: there is nothing to pause."),
            {"deal": _("The deal is closed.")},
        )
    Snooze.objects.filter(deal=locked, ended_at__isnull=True, until__gt=now).update(
        ended_at=now, updated_at=now
    )
    snooze = Snooze.objects.create(
        workspace_id=actor.workspace_id, deal=locked, until=until, reason=reason, created_by=actor
    )
    after_commit(actor.workspace_id, deals=[locked.id])
    return snooze


@transaction.atomic
def do_end_snooze(actor, snooze: Snooze, *, now=None) -> Snooze:
    """End a snooze before its date: the deal's flags come back at once."""
    _check_may_snooze(actor, snooze.deal)
    now = now or timezone.now()
    locked = Snooze.objects.select_for_update().get(pk=snooze.pk)
    if locked.ended_at is None and locked.until > now:
        locked.ended_at = now
        locked.save(update_fields=["ended_at", "updated_at"])
        after_commit(actor.workspace_id, deals=[locked.deal_id])
    return locked


# -- The rules' settings -------------------------------------------------------------------------

#: Each number the head sets, with the range that makes sense for it.
NUMBER_LIMITS = {
    "call_comment_grace_minutes": (0, 7 * 24 * 60),
    "meeting_comment_grace_minutes": (0, 7 * 24 * 60),
    "message_comment_grace_minutes": (0, 7 * 24 * 60),
    "min_comment_length": (1, 1000),
    "next_contact_gap_days": (1, 365),
    "reminder_lead_minutes": (0, 7 * 24 * 60),
}
TIME_FIELDS = ("work_start", "work_end", "digest_time", "daily_report_time")
#: Who may be sent the daily report by email, in the order the settings list them.
DAILY_REPORT_ROLES = ("manager", "senior", "head", "owner")
RULE_FIELDS = (*NUMBER_LIMITS, *TIME_FIELDS, "work_days", "daily_report_on", "daily_report_to")
#: The rules meeting reminders follow: a change plans the coming meetings' reminders anew.
REMINDER_FIELDS = frozenset({"reminder_lead_minutes", "work_start", "work_end", "work_days"})


def parse_work_days(value) -> list[int]:
    """Working weekdays as sorted numbers 0 (Monday) to 6; ``ValueError`` for anything else."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
    else:
        parts = list(value or [])
    days = sorted({int(p) for p in parts})
    if any(d < 0 or d > 6 for d in days):
        raise ValueError("day out of range")
    return days


@transaction.atomic
def do_update_rule_settings(actor, **changes) -> RuleSettings:
    """Change the workspace's rules of work; the change is kept in the settings' history.

    The scheduled evaluation applies new grace periods and lengths within minutes; a re-run is
    queued at once.
    """
    if not actor.may_configure:
        raise NotAllowed(_("Only the head of sales and the owner change the rules of work."))
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    rules = RuleSettings.objects.select_for_update().get(
        pk=RuleSettings.for_workspace(actor.workspace_id).pk
    )
    errors: dict[str, str] = {}
    for name, value in changes.items():
        if name in NUMBER_LIMITS:
            low, high = NUMBER_LIMITS[name]
            if value is None and name == "next_contact_gap_days":
                pass
            elif not isinstance(value, int) or isinstance(value, bool):
                errors[name] = _("Give a whole number.")
                continue
            elif not low <= value <= high:
                errors[name] = _("Give a number from %(low)s to %(high)s.") % {
                    "low": low,
                    "high": high,
                }
                continue
        elif name in TIME_FIELDS:
            if not isinstance(value, time):
                errors[name] = _("Give a time of day.")
                continue
        elif name == "daily_report_on":
            if not isinstance(value, bool):
                errors[name] = _("Say yes or no.")
                continue
        elif name == "daily_report_to":
            named = [p.strip() for p in value.split(",")] if isinstance(value, str) else value
            if not isinstance(named, list | tuple) or set(named) - {"", *DAILY_REPORT_ROLES}:
                errors[name] = _("Choose among managers, seniors, the head and the owner.")
                continue
            value = ",".join(r for r in DAILY_REPORT_ROLES if r in named)
        elif name == "work_days":
            try:
                days = parse_work_days(value)
            except (TypeError, ValueError):
                errors[name] = _("Days are numbered 0 (Monday) to 6 (Sunday).")
                continue
            if not days:
                errors[name] = _("Choose at least one working day.")
                continue
            value = ",".join(str(d) for d in days)
        setattr(rules, name, value)
    if "work_start" not in errors and "work_end" not in errors:
        if rules.work_end <= rules.work_start:
            errors["work_end"] = _("The working day must end after it starts.")
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    rules._history_user = actor
    rules.save()

    def rerun():
        from .jobs import evaluate_workspace_rules

        evaluate_workspace_rules.enqueue(actor.workspace_id)

    transaction.on_commit(rerun)
    if set(changes) & REMINDER_FIELDS:

        def replan():
            from voronka.activities.jobs import replan_meeting_reminders

            replan_meeting_reminders.enqueue(actor.workspace_id)

        transaction.on_commit(replan)
    return rules
