"""Every change to pipelines, stages and deals goes through one of these functions."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voronka.accounts.access import may_write
from voronka.control.evaluate import after_commit
from voronka.core import custom_fields as cf
from voronka.core.errors import Invalid, NotAllowed

from . import gates, kept_lists, rules
from .models import Deal, Pipeline, Product, Stage, StageChange, StageKind
from .next_steps import sync_next_step_due

DEAL_FIELDS = (
    "title",
    "company",
    "contact",
    "owner",
    "assistant",
    "product",
    "amount",
    "currency",
    "source",
    "expected_close",
    "loss_reason",
    "invoice_no",
    "invoice_amount",
)


def _check_writer(actor) -> None:
    if not may_write(actor):
        raise NotAllowed(_("Your role may not change deals."))


def _check_same_workspace(actor, **objects) -> None:
    for name, obj in objects.items():
        if obj is not None and obj.workspace_id != actor.workspace_id:
            raise Invalid(_("Not found."), {name: _("Not found.")})


def _check_product(actor, product, current=None) -> None:
    """A deal takes a product of the workspace's list that is not archived; a deal that has an
    archived product already may keep it."""
    if product is None:
        return
    if not isinstance(product, Product) or product.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"product": _("Not found.")})
    archived = Product.objects.filter(pk=product.pk, is_archived=True).exists()  # as it is now
    if archived and getattr(current, "pk", None) != product.pk:
        message = _("The product “%(name)s” is archived: choose another.") % {"name": product.name}
        raise Invalid(message, {"product": message})


def first_open_stage(pipeline: Pipeline) -> Stage:
    stage = (
        pipeline.stages.filter(is_archived=False, kind=StageKind.OPEN)
        .order_by("position", "id")
        .first()
    )
    if stage is None:
        raise Invalid(
            _("The pipeline has no open stage."), {"pipeline": _("The pipeline has no open stage.")}
        )
    return stage


@transaction.atomic
def do_create_deal(
    actor,
    *,
    pipeline: Pipeline,
    title: str,
    owner=None,
    stage: Stage | None = None,
    at=None,
    custom=None,
    **fields,
) -> Deal:
    """Create a deal at the pipeline's first open stage (or ``stage``) and record its entry.

    The deal enters its stage through the stage gate like any move: a stage's required fields
    and a lost stage's reason must come with it. ``custom`` holds custom values by key.
    """
    _check_writer(actor)
    owner = owner or actor
    _check_same_workspace(
        actor,
        pipeline=pipeline,
        owner=owner,
        stage=stage,
        **{k: v for k, v in fields.items() if k in ("company", "contact", "assistant")},
    )
    if pipeline.is_archived:
        raise Invalid(_("The pipeline is archived."), {"pipeline": _("The pipeline is archived.")})
    if stage is None:
        stage = first_open_stage(pipeline)
    elif stage.pipeline_id != pipeline.id or stage.is_archived:
        raise Invalid(
            _("Choose a stage of this pipeline."), {"stage": _("Choose a stage of this pipeline.")}
        )
    if not (title or "").strip():
        raise Invalid(_("Give the deal a title."), {"title": _("This field is required.")})
    unknown = set(fields) - set(DEAL_FIELDS)
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    _check_product(actor, fields.get("product"))
    custom_values = cf.clean_custom_values(actor.workspace_id, "deal", custom)
    now = at or timezone.now()
    deal = Deal(
        workspace_id=actor.workspace_id,
        pipeline=pipeline,
        stage=stage,
        stage_entered_at=now,
        title=title.strip(),
        owner=owner,
        closed_at=now if stage.is_closed else None,
        custom=cf.merge_custom({}, custom_values),
        **fields,
    )
    if deal.amount is None:
        deal.amount = Decimal(0)
    gates.check_entry(deal, stage)
    if stage.kind == StageKind.LOST:
        deal.loss_reason = gates.listed_loss_reason(actor.workspace_id, deal.loss_reason)
    deal._history_user = actor
    deal.save()
    StageChange.objects.create(
        workspace_id=actor.workspace_id,
        deal=deal,
        from_stage=None,
        to_stage=stage,
        changed_at=now,
        changed_by=actor,
    )
    return deal


@transaction.atomic
def do_update_deal(actor, deal: Deal, *, custom=None, **changes) -> Deal:
    """Change a deal's fields (not its stage: that is ``do_move_deal``).

    ``custom`` sets custom values by key (None or "" clears one). A field the deal's stage
    requires cannot be emptied.
    """
    _check_writer(actor)
    unknown = set(changes) - set(DEAL_FIELDS)
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    _check_same_workspace(
        actor,
        **{k: v for k, v in changes.items() if k in ("company", "contact", "owner", "assistant")},
    )
    if "title" in changes and not (changes["title"] or "").strip():
        raise Invalid(_("Give the deal a title."), {"title": _("This field is required.")})
    custom_values = cf.clean_custom_values(actor.workspace_id, "deal", custom)
    locked = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
    if "product" in changes:
        _check_product(actor, changes["product"], current=locked.product)
    judged = {}
    for name, value in changes.items():
        if name in ("company", "contact"):
            judged[name] = value.pk if value is not None else None
        elif name == "amount":
            judged[name] = value if value else None
        elif name in cf.BUILTIN_DEAL_FIELDS or name == cf.LOSS_REASON:
            judged[name] = value
    judged.update({cf.CUSTOM_PREFIX + key: value for key, value in custom_values.items()})
    gates.check_kept(locked, judged)
    for name, value in changes.items():
        setattr(locked, name, value)
    if "amount" in changes and locked.amount is None:
        locked.amount = Decimal(0)
    if locked.stage.kind == StageKind.LOST and "loss_reason" in changes:
        locked.loss_reason = gates.listed_loss_reason(actor.workspace_id, locked.loss_reason)
    if custom_values:
        locked.custom = cf.merge_custom(locked.custom, custom_values)
    locked._history_user = actor
    locked.save()
    after_commit(actor.workspace_id, deals=[locked.id])  # a new owner takes its violations
    return locked


@transaction.atomic
def do_move_deal(
    actor, deal: Deal, stage: Stage, *, loss_reason: str = "", fields=None, at=None
) -> Deal:
    """Move a deal to another stage of its pipeline, recording the change in its history.

    ``fields`` are values the stage requires, given with the move under the requirement names
    (``{"invoice_no": "…", "custom.payment": …}``; ``company``/``contact`` as objects); they are
    saved with the move. Refused (``Invalid`` naming every field concerned, see
    ``gates.check_entry``) when the target stage's rules are not met; nothing is saved then.
    """
    _check_writer(actor)
    locked = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
    if stage.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"stage": _("Not found.")})
    given = gates.clean_given_values(actor.workspace_id, fields)
    values = dict(given.overlay)
    if (loss_reason or "").strip():
        values[cf.LOSS_REASON] = loss_reason.strip()
    gates.check_entry(locked, stage, values)
    now = at or timezone.now()
    previous = locked.stage
    for name, value in given.attrs.items():
        setattr(locked, name, value)
    if given.custom:
        locked.custom = cf.merge_custom(locked.custom, given.custom)
    locked.stage = stage
    locked.stage_entered_at = now
    if stage.kind == StageKind.LOST:
        reason = values.get(cf.LOSS_REASON) or locked.loss_reason
        locked.loss_reason = gates.listed_loss_reason(actor.workspace_id, reason)
    locked.closed_at = now if stage.is_closed else None
    locked._history_user = actor
    locked.save()
    if (previous.kind == StageKind.LOST) != (stage.kind == StageKind.LOST):
        # A lost deal's meetings are off: their reminders are dropped (and planned again when
        # the deal is reopened).
        from voronka.activities.reminders import replan_for_deal

        replan_for_deal(locked)
    StageChange.objects.create(
        workspace_id=actor.workspace_id,
        deal=locked,
        from_stage=previous,
        to_stage=stage,
        changed_at=now,
        changed_by=actor,
    )
    # The next step stays the earliest open task whatever the stage; kept here too so that a
    # move (or a close) never leaves the board's sort behind.
    sync_next_step_due([locked.id])
    after_commit(actor.workspace_id, deals=[locked.id])
    return locked


def _check_configurer(actor) -> None:
    if not actor.may_configure:
        raise NotAllowed(_("Only the head of sales and the owner change the funnel."))


@transaction.atomic
def do_create_pipeline(actor, *, name: str, is_inbound: bool = False) -> Pipeline:
    """Create a pipeline with the three stages every funnel needs: an open one, won and lost."""
    _check_configurer(actor)
    if not (name or "").strip():
        raise Invalid(_("Give the pipeline a name."), {"name": _("This field is required.")})
    position = (
        Pipeline.objects.filter(workspace_id=actor.workspace_id).aggregate(m=Max("position"))["m"]
        or 0
    ) + 1
    pipeline = Pipeline(
        workspace_id=actor.workspace_id, name=name.strip(), is_inbound=is_inbound, position=position
    )
    pipeline._history_user = actor
    pipeline.save()
    for pos, (stage_name, kind) in enumerate(
        [(_("New"), StageKind.OPEN), (_("Won"), StageKind.WON), (_("Lost"), StageKind.LOST)], 1
    ):
        do_create_stage(actor, pipeline=pipeline, name=stage_name, kind=kind, position=pos)
    return pipeline


@transaction.atomic
def do_update_pipeline(actor, pipeline: Pipeline, **changes) -> Pipeline:
    _check_configurer(actor)
    if "name" in changes and not (changes["name"] or "").strip():
        raise Invalid(_("Give the pipeline a name."), {"name": _("This field is required.")})
    for name, value in changes.items():
        if name not in ("name", "is_inbound", "is_archived", "position"):
            raise Invalid(_("Unknown fields."), {name: _("Unknown field.")})
        setattr(pipeline, name, value)
    pipeline._history_user = actor
    pipeline.save()
    return pipeline


@transaction.atomic
def do_create_stage(
    actor,
    *,
    pipeline: Pipeline,
    name: str,
    kind: str = StageKind.OPEN,
    normal_days: int | None = None,
    position: int | None = None,
) -> Stage:
    """Add a stage; without a position it goes after the last open stage."""
    _check_configurer(actor)
    _check_same_workspace(actor, pipeline=pipeline)
    if not (name or "").strip():
        raise Invalid(_("Give the stage a name."), {"name": _("This field is required.")})
    if kind not in StageKind.values:
        raise Invalid(_("Unknown stage kind."), {"kind": _("Choose open, won or lost.")})
    if normal_days is not None and normal_days < 0:
        raise Invalid(_("Days cannot be negative."), {"normal_days": _("Days cannot be negative.")})
    stages = list(pipeline.stages.order_by("position", "id"))
    if position is None:
        opens = [s for s in stages if s.kind == StageKind.OPEN]
        position = (opens[-1].position + 1) if opens else 1
    for s in stages:
        if s.position >= position:
            s.position += 1
            s._history_user = actor
            s.save(update_fields=["position", "updated_at"])
    stage = Stage(
        workspace_id=actor.workspace_id,
        pipeline=pipeline,
        name=name.strip(),
        kind=kind,
        normal_days=normal_days,
        position=position,
    )
    stage._history_user = actor
    stage.save()
    return stage


@transaction.atomic
def do_update_stage(actor, stage: Stage, **changes) -> Stage:
    """Rename a stage, change its kind or normal duration, or archive it."""
    _check_configurer(actor)
    allowed = {"name", "kind", "normal_days", "is_archived"}
    for name, value in changes.items():
        if name not in allowed:
            raise Invalid(_("Unknown fields."), {name: _("Unknown field.")})
        if name == "name" and not (value or "").strip():
            raise Invalid(_("Give the stage a name."), {"name": _("This field is required.")})
        if name == "kind" and value not in StageKind.values:
            raise Invalid(_("Unknown stage kind."), {"kind": _("Choose open, won or lost.")})
        if name == "normal_days" and value is not None and value < 0:
            raise Invalid(
                _("Days cannot be negative."), {"normal_days": _("Days cannot be negative.")}
            )
        setattr(stage, name, value.strip() if isinstance(value, str) else value)
    if changes.get("is_archived") and stage.deals.exists():
        count = stage.deals.count()
        raise Invalid(
            _("%(count)s deals are at this stage; move them before archiving it.")
            % {"count": count},
            {"is_archived": _("The stage holds deals.")},
            code="stage_not_empty",
        )
    stage._history_user = actor
    stage.save()
    return stage


@transaction.atomic
def do_reorder_stages(actor, pipeline: Pipeline, stage_ids: list[int]) -> None:
    """Put the pipeline's stages in the given order (every stage exactly once)."""
    _check_configurer(actor)
    stages = {s.id: s for s in pipeline.stages.all()}
    if sorted(stage_ids) != sorted(stages):
        raise Invalid(
            _("List every stage of the pipeline once."), {"stages": _("List every stage once.")}
        )
    for position, sid in enumerate(stage_ids, 1):
        s = stages[sid]
        if s.position != position:
            s.position = position
            s._history_user = actor
            s.save(update_fields=["position", "updated_at"])


@transaction.atomic
def do_delete_stage(actor, stage: Stage) -> None:
    """Delete an empty stage; one that holds deals (or ever held them) is refused with the count."""
    _check_configurer(actor)
    count = stage.deals.count()
    if rules.stage_deletion_refusal(count) is not None:
        raise Invalid(
            _("%(count)s deals are at this stage; move them before deleting it.")
            % {"count": count},
            {"stage": _("The stage holds deals.")},
            code="stage_not_empty",
        )
    if (
        StageChange.objects.filter(to_stage=stage).exists()
        or StageChange.objects.filter(from_stage=stage).exists()
    ):
        raise Invalid(
            _("Deals have passed through this stage; archive it instead, to keep their history."),
            {"stage": _("The stage is in deals' history.")},
            code="stage_in_history",
        )
    stage._history_user = actor
    stage.delete()


# --- Rules of the funnel: stage requirements, order rules, loss reasons --------------------------


@transaction.atomic
def do_set_stage_requirements(actor, stage: Stage, fields: list[str]) -> Stage:
    """Set the fields a deal must have filled to enter ``stage`` (built-in or ``custom.<key>``).

    Takes effect at once for every path that moves a deal; recorded in the stage's history.
    The loss reason is required by every lost stage and is not listed.
    """
    from voronka.core import custom_fields as cf

    _check_configurer(actor)
    _check_same_workspace(actor, stage=stage)
    if not isinstance(fields, (list, tuple)):
        message = _("Give the required fields as a list.")
        raise Invalid(message, {"required_fields": message})
    known = [name for name, _label in cf.field_choices_for_requirements(actor.workspace_id)]
    problems = []
    for name in fields:
        if name == cf.LOSS_REASON:
            problems.append(
                _("The loss reason is always required to enter a lost stage; do not list it.")
            )
        elif name not in known:
            problems.append(_("Unknown field “%(name)s”.") % {"name": str(name)[:80]})
    if problems:
        message = " ".join(dict.fromkeys(problems))
        raise Invalid(message, {"required_fields": message})
    wanted = set(fields)
    locked = Stage.objects.select_for_update().get(pk=stage.pk)
    previous = list(locked.required_fields or [])
    locked.required_fields = [name for name in known if name in wanted]
    if locked.required_fields != previous:
        locked._history_user = actor
        locked.save(update_fields=["required_fields", "updated_at"])
    return locked


@transaction.atomic
def do_update_pipeline_rules(
    actor, pipeline: Pipeline, *, no_skipping: bool | None = None, no_going_back: bool | None = None
) -> Pipeline:
    """Switch the pipeline's optional order rules: no skipping stages forward, no moving back."""
    _check_configurer(actor)
    _check_same_workspace(actor, pipeline=pipeline)
    locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    changed = []
    for name, value in (("no_skipping", no_skipping), ("no_going_back", no_going_back)):
        if value is not None and bool(value) != getattr(locked, name):
            setattr(locked, name, bool(value))
            changed.append(name)
    if changed:
        locked._history_user = actor
        locked.save(update_fields=[*changed, "updated_at"])
    return locked


def _clean_reason_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise Invalid(_("Give the reason a name."), {"name": _("This field is required.")})
    if len(name) > 120:
        message = _("At most %(count)s characters.") % {"count": 120}
        raise Invalid(message, {"name": message})
    return name


def _check_reason_name_free(actor, name: str, *, exclude=None) -> None:
    from .models import LossReason

    for other in LossReason.objects.filter(workspace_id=actor.workspace_id):
        if other.pk != getattr(exclude, "pk", None) and other.name.casefold() == name.casefold():
            if other.is_archived:
                message = _("The archived reason “%(name)s” has this name; restore it instead.")
            else:
                message = _("The reason “%(name)s” is on the list already.")
            message = message % {"name": other.name}
            raise Invalid(message, {"name": message}, code="duplicate")


def _renumber(rows, actor) -> None:
    for position, row in enumerate(rows, 1):
        if row.position != position:
            row.position = position
            row._history_user = actor
            row.save(update_fields=["position", "updated_at"])


@transaction.atomic
def do_create_loss_reason(actor, *, name: str):
    """Add a reason a deal is lost to the end of the head's list."""
    from .models import LossReason

    _check_configurer(actor)
    name = _clean_reason_name(name)
    _check_reason_name_free(actor, name)
    reasons = LossReason.objects.filter(workspace_id=actor.workspace_id)
    position = (reasons.aggregate(m=Max("position"))["m"] or 0) + 1
    reason = LossReason(workspace_id=actor.workspace_id, name=name, position=position)
    reason._history_user = actor
    reason.save()
    return reason


@transaction.atomic
def do_update_loss_reason(actor, reason, **changes):
    """Rename a loss reason, move it in the list, archive or restore it.

    Deals lost for it keep the words they were lost with; an archived reason is no longer
    offered.
    """
    from .models import LossReason

    _check_configurer(actor)
    _check_same_workspace(actor, reason=reason)
    unknown = set(changes) - {"name", "position", "is_archived"}
    if unknown:
        raise Invalid(_("Unknown fields."), {f: _("Unknown field.") for f in sorted(unknown)})
    locked = LossReason.objects.select_for_update().get(pk=reason.pk)
    if "name" in changes:
        name = _clean_reason_name(changes["name"])
        _check_reason_name_free(actor, name, exclude=locked)
        locked.name = name
    if "is_archived" in changes:
        locked.is_archived = bool(changes["is_archived"])
    locked._history_user = actor
    locked.save()
    if changes.get("position") is not None:
        position = int(changes["position"])
        if position < 1:
            message = _("A place in the order is 1 or more.")
            raise Invalid(message, {"position": message})
        rows = [
            r
            for r in LossReason.objects.filter(workspace_id=actor.workspace_id)
            if r.pk != locked.pk
        ]
        rows.insert(min(position, len(rows) + 1) - 1, locked)
        _renumber(rows, actor)
        locked.refresh_from_db()
    return locked


@transaction.atomic
def do_reorder_loss_reasons(actor, reason_ids: list[int]) -> None:
    """Put the loss reasons in the given order (every reason exactly once)."""
    from .models import LossReason

    _check_configurer(actor)
    rows = {r.id: r for r in LossReason.objects.filter(workspace_id=actor.workspace_id)}
    if sorted(reason_ids) != sorted(rows):
        message = _("List every reason once.")
        raise Invalid(message, {"reasons": message})
    _renumber([rows[i] for i in reason_ids], actor)


# --- Products --------------------------------------------------------------------------------


def _product_words() -> kept_lists.Words:
    return kept_lists.Words(
        unnamed=_("Give the product a name."),
        taken=_("The product “%(name)s” is on the list already."),
        taken_archived=_("The archived product “%(name)s” has this name; restore it instead."),
        reorder=_("List every product once."),
        in_use=lambda name, count: (
            ngettext(
                "“%(name)s” is the product of %(count)s deal: archive it instead, and it is no "
                "longer offered while the deal keeps it.",
                "“%(name)s” is the product of %(count)s deals: archive it instead, and it is no "
                "longer offered while the deals keep it.",
                count,
            )
            % {"name": name, "count": count}
        ),
    )


@transaction.atomic
def do_create_product(actor, *, name: str) -> Product:
    """Add a product to the end of the head's list."""
    return kept_lists.create(Product, actor, name, _product_words())


@transaction.atomic
def do_update_product(actor, product: Product, **changes) -> Product:
    """Rename a product, move it in the list (``position``, 1 = first), archive or restore it.

    An archived product is no longer offered for deals; the deals that have it keep it.
    """
    return kept_lists.update(Product, actor, product, changes, _product_words(), "product")


@transaction.atomic
def do_reorder_products(actor, product_ids: list[int]) -> None:
    """Put the products in the given order (every product exactly once, archived ones too)."""
    kept_lists.reorder(Product, actor, product_ids, _product_words(), "products")


@transaction.atomic
def do_delete_product(actor, product: Product) -> None:
    """Delete a product no deal has (a mistake); one in use is refused: archive it instead."""
    from voronka.planning.actions import check_product_unplanned  # targets keep it too

    kept_lists.check_configurer(actor)
    check_product_unplanned(actor, product)
    kept_lists.delete(
        Product, actor, product, Deal.objects.filter(product=product), _product_words(), "product"
    )
