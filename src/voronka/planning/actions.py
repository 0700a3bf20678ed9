"""Every change the planning app makes: targets, the head's overrides, and targets' splits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voronka.accounts.models import Role, Team, User
from voronka.core.errors import Invalid, NotAllowed
from voronka.sales.models import Pipeline, Product, Stage, StageKind

from . import rules
from .models import AssumptionOverride, PeriodKind, Scope, SplitEntry, SplitMethod, Target

#: Who sets targets, overrides their assumptions and splits them.
PLANNING_ROLES = frozenset({Role.OWNER, Role.HEAD})
MAX_AMOUNT = Decimal("999999999999.99")
WINDOWS = (30, 90, 180, 365)


def may_plan(actor) -> bool:
    return actor.is_active and actor.role in PLANNING_ROLES


def _check_may_plan(actor, target: Target | None = None) -> None:
    if target is not None and target.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"target": _("Not found.")})
    if not may_plan(actor):
        raise NotAllowed(_("Only the owner and the head of sales set targets."))


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value).replace(" ", "").replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def active_managers(workspace_id: int):
    """The workspace's active managers, in the order plans list them."""
    return User.objects.filter(
        workspace_id=workspace_id, is_active=True, role=Role.MANAGER
    ).order_by("last_name", "first_name", "username", "id")


def participants(target: Target):
    """The managers a company or team target is split among: active managers in its scope."""
    qs = active_managers(target.workspace_id)
    if target.scope == Scope.TEAM:
        qs = qs.filter(team_id=target.team_id)
    elif target.scope == Scope.MANAGER:
        qs = qs.filter(id=target.manager_id)
    return qs


@transaction.atomic
def do_set_target(
    actor,
    *,
    period_kind: str,
    period_start: date | None,
    scope: str,
    amount,
    team: Team | None = None,
    manager: User | None = None,
    pipeline: Pipeline | None = None,
    product: Product | None = None,
    window_days: int = 90,
    split_method: str = SplitMethod.PAST,
) -> Target:
    """Set the revenue target of a period for the company, a team or a manager, optionally for
    one pipeline and one product.

    Setting it again for the same period, scope, pipeline and product changes the amount (the
    old one stays in the history) rather than adding a second target. A new target takes a
    product of the head's list that is not archived; an existing one keeps its product after
    the product is archived.
    """
    _check_may_plan(actor)
    errors = {}
    value = _decimal(amount)
    if value is None:
        errors["amount"] = _("Enter the revenue target as a number, e.g. 500000.")
    elif value <= 0:
        errors["amount"] = _("The revenue target must be above zero.")
    elif value > MAX_AMOUNT:
        errors["amount"] = _("The revenue target is too large.")
    if period_kind not in PeriodKind.values:
        errors["period_kind"] = _("Choose a year, a quarter, a month or a week.")
    if period_start is None:
        errors["period_start"] = _("Choose the period's start.")
    if scope not in Scope.values:
        errors["scope"] = _("Choose whom the target is for: the company, a team or a manager.")
    elif scope == Scope.TEAM and (team is None or team.workspace_id != actor.workspace_id):
        errors["team"] = _("Choose the team.")
    elif scope == Scope.MANAGER and (
        manager is None
        or manager.workspace_id != actor.workspace_id
        or manager.role not in (Role.MANAGER, Role.SENIOR, Role.HEAD)
    ):
        errors["manager"] = _("Choose the manager.")
    if pipeline is not None and pipeline.workspace_id != actor.workspace_id:
        errors["pipeline"] = _("Choose a pipeline of your company.")
    if product is not None and (
        not isinstance(product, Product) or product.workspace_id != actor.workspace_id
    ):
        errors["product"] = _("Choose a product of your company.")
    if window_days not in WINDOWS:
        errors["window_days"] = _("Choose the history window: 30, 90, 180 or 365 days.")
    if split_method not in SplitMethod.values:
        errors["split_method"] = _("Choose how the target is split among managers.")
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    start = rules.period_start(period_kind, period_start)
    key = {
        "workspace_id": actor.workspace_id,
        "period_kind": period_kind,
        "period_start": start,
        "scope": scope,
        "team": team if scope == Scope.TEAM else None,
        "manager": manager if scope == Scope.MANAGER else None,
        "pipeline": pipeline,
        "product": product,
    }
    target = Target.objects.select_for_update().filter(**key).order_by("id").first()
    if target is None:
        if product is not None and Product.objects.filter(pk=product.pk, is_archived=True).exists():
            message = _("The product “%(name)s” is archived: choose another.") % {
                "name": product.name
            }
            raise Invalid(message, {"product": message})
        target = Target(**key)

    def save(target: Target) -> None:
        target.amount = value
        target.window_days = window_days
        target.split_method = split_method
        target.set_by = actor
        target.save()

    if target.pk is not None:
        save(target)
        return target
    try:
        with transaction.atomic():
            save(target)
    except IntegrityError:
        # Set by someone else at the same moment (the database keeps one per key): this save
        # changes that target, as it would have a moment later.
        target = Target.objects.select_for_update().filter(**key).order_by("id").get()
        save(target)
    return target


def conversion_stages(target: Target) -> list[Stage]:
    """The open stages of the target's pipeline whose conversion to the next may be set."""
    return list(
        Stage.objects.filter(
            pipeline_id=plan_pipeline_id(target), kind=StageKind.OPEN, is_archived=False
        ).order_by("position", "id")
    )


def plan_pipeline_id(target: Target) -> int | None:
    """The target's pipeline, or the workspace's first (inbound first) if it names none."""
    if target.pipeline_id:
        return target.pipeline_id
    return (
        Pipeline.objects.filter(workspace_id=target.workspace_id, is_archived=False)
        .order_by("-is_inbound", "position", "id")
        .values_list("id", flat=True)
        .first()
    )


@transaction.atomic
def do_override_assumption(actor, target: Target, *, key: str, value) -> AssumptionOverride | None:
    """Replace one assumption of a target's plan with the head's number; empty removes it.

    Conversions come in percent (40 for 40%) and are kept as fractions.
    """
    _check_may_plan(actor, target)
    stage_keys = {rules.conversion_key(str(s.id)) for s in conversion_stages(target)}
    known = {rules.AVERAGE_DEAL, rules.CALLS_PER_LEAD, rules.MEETINGS_PER_LEAD} | stage_keys
    if key not in known:
        raise Invalid(_("There is no such assumption."), {"key": _("There is no such assumption.")})
    if value is None or value == "":
        AssumptionOverride.objects.filter(target=target, key=key).delete()
        return None
    number = _decimal(value)
    message = None
    if number is None:
        message = _("Enter a number.")
    elif key.startswith(rules.CONVERSION) and not (0 <= number <= 100):
        message = _("A conversion is a percent from 0 to 100.")
    elif key == rules.AVERAGE_DEAL and not (0 < number <= MAX_AMOUNT):
        message = _("The average deal must be above zero.")
    elif key in (rules.CALLS_PER_LEAD, rules.MEETINGS_PER_LEAD) and not (0 <= number <= 1000):
        message = _("Enter a number from 0 to 1000.")
    if message:
        raise Invalid(message, {"value": message})
    if key.startswith(rules.CONVERSION):
        number = number / 100
    override, _created = AssumptionOverride.objects.update_or_create(
        target=target,
        key=key,
        defaults={"workspace_id": target.workspace_id, "value": number, "set_by": actor},
    )
    return override


@transaction.atomic
def do_split_target(
    actor, target: Target, *, method: str, values: dict[int, object] | None = None
) -> rules.Split:
    """Split a company or team target among its managers and keep each one's part.

    ``values`` are the percents (share) or capacities (capacity) by manager id; past results are
    read from the history; an even split needs none. A share split that misses 100% is kept as
    typed: the plan then says by how much it does not add up.
    """
    from .plans import past_results  # reads the analytics, which read the models

    _check_may_plan(actor, target)
    if target.scope == Scope.MANAGER:
        raise Invalid(
            _("A manager's target is not split."), {"method": _("A manager's target is not split.")}
        )
    if method not in SplitMethod.values:
        raise Invalid(
            _("Choose how the target is split among managers."),
            {"method": _("Choose how the target is split among managers.")},
        )
    people = list(participants(target))
    ids = [p.id for p in people]
    values = values or {}
    errors = {}
    for manager_id in values:
        if manager_id not in ids:
            errors[f"value_{manager_id}"] = _("This person is not among the target's managers.")
    basis: dict[int, Decimal] = {}
    if method in (SplitMethod.SHARE, SplitMethod.CAPACITY):
        for manager_id in ids:
            number = _decimal(values.get(manager_id))
            field = f"value_{manager_id}"
            if number is None:
                errors[field] = _("Enter a number.")
            elif number < 0 or (method == SplitMethod.SHARE and number > 100):
                errors[field] = (
                    _("A share is a percent from 0 to 100.")
                    if method == SplitMethod.SHARE
                    else _("Capacity is never negative.")
                )
            else:
                basis[manager_id] = number
    elif method == SplitMethod.PAST:
        basis = past_results(target, ids)
    else:
        basis = {i: Decimal(1) for i in ids}
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    split = rules.split_target(target.amount, method, basis)
    target.split_method = method
    target.save(update_fields=["split_method", "updated_at"])
    SplitEntry.objects.filter(target=target).exclude(manager_id__in=ids).delete()
    for manager_id in ids:
        SplitEntry.objects.update_or_create(
            target=target,
            manager_id=manager_id,
            defaults={
                "workspace_id": target.workspace_id,
                "basis": Decimal(split.basis[manager_id]).quantize(Decimal("0.01")),
                "amount": split.amounts[manager_id],
            },
        )
    return split


def check_product_unplanned(actor, product: Product) -> None:
    """Refuse to delete a product that a revenue target names (the targets keep it, as deals
    do): the head archives it instead. Called by ``sales.actions.do_delete_product``."""
    if product.workspace_id != actor.workspace_id:
        return  # the deletion itself names the field
    count = Target.objects.filter(workspace_id=actor.workspace_id, product=product).count()
    if count:
        message = ngettext(
            "“%(name)s” has %(count)s revenue target: archive it instead.",
            "“%(name)s” has %(count)s revenue targets: archive it instead.",
            count,
        ) % {"name": product.name, "count": count}
        raise Invalid(message, {"product": message}, code="in_use")


@transaction.atomic
def do_delete_target(actor, target: Target) -> None:
    """Remove a target with its overrides and split (its history keeps what it was)."""
    _check_may_plan(actor, target)
    target.delete()
