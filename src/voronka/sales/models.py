"""Pipelines, their stages, deals and the append-only history of stage changes."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from voronka.core.models import KeptListItem, WorkspaceModel


class Pipeline(WorkspaceModel):
    """A funnel (воронка): ordered stages a deal walks through."""

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(pgettext_lazy("order", "position"), default=0)
    is_inbound = models.BooleanField(
        _("inbound"), default=False, help_text=_("New leads from channels land here.")
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    no_skipping = models.BooleanField(
        _("no skipping stages forward"),
        default=False,
        help_text=_("A deal moves to the next open stage only, never jumps over one."),
    )
    no_going_back = models.BooleanField(
        _("no moving back"),
        default=False,
        help_text=_("A deal never returns to an earlier stage, nor reopens once closed."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Stage(WorkspaceModel):
    """A step of a pipeline: open, won or lost, with the days a deal normally spends in it."""

    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.CASCADE, related_name="stages", verbose_name=_("pipeline")
    )
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(pgettext_lazy("order", "position"), default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=StageKind.choices, default="open")
    normal_days = models.PositiveIntegerField(
        _("normal duration, days"),
        null=True,
        blank=True,
        help_text=_("A deal longer than this in the stage is stalled."),
    )
    required_fields = models.JSONField(
        _("required to enter"),
        default=list,
        blank=True,
        help_text=_("Fields a deal must have filled to enter this stage."),
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline_id", "position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class Product(KeptListItem):
    """A product or product line the company sells, from the list the head keeps.

    A deal names at most one; the funnel, the targets and the lists are filtered by it. A
    product in use is archived (no longer offered), never deleted: the deals sold under it keep
    their history.
    """

    class Meta(KeptListItem.Meta):
        verbose_name = _("product")
        verbose_name_plural = _("products")


class Deal(WorkspaceModel):
    """A deal (сделка): a client, an owner, an amount, and the stage it is at since when."""

    title = models.CharField(_("title"), max_length=255)
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.PROTECT, related_name="deals", verbose_name=_("pipeline")
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="deals", verbose_name=_("stage")
    )
    stage_entered_at = models.DateTimeField(_("in stage since"))
    company = models.ForeignKey(
        "clients.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    contact = models.ForeignKey(
        "clients.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="deals",
    )
    assistant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assistant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assisted_deals",
    )
    #: PROTECT: a product with deals is archived, not deleted, so that no past deal (and no
    #: funnel or plan of a past period) silently loses the product it was sold under.
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    source = models.CharField(_("source"), max_length=120, blank=True)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    loss_reason = models.CharField(_("loss reason"), max_length=255, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    invoice_no = models.CharField(_("invoice number"), max_length=64, blank=True)
    invoice_amount = models.DecimalField(
        _("invoice amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    #: The due time of the deal's earliest open task (None: no next step), kept by
    #: ``sales.next_steps.sync_next_step_due`` alone, so that the board sorts a column by its
    #: next steps from an index. Derived, not a user's change: no history, not in ``save()``.
    next_step_due = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at", "next_step_due"])

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-stage_entered_at", "-id"]
        # The stage indexes give the board's columns and the deal list their order
        # (stage_entered_at, id) and end with the amount, so that the board's count and sum per
        # stage read the index alone instead of looking up every deal in the table. ``id`` is
        # spelled out: after ``amount`` the order would need a sort, and SQLite without
        # statistics would then walk the whole workspace by date instead.
        indexes = [
            models.Index(
                fields=["workspace", "owner", "stage", "stage_entered_at", "id", "amount"],
                name="deal_owner_stage_date",
            ),
            models.Index(
                fields=["workspace", "stage", "stage_entered_at", "id", "amount"],
                name="deal_stage_date",
            ),
            models.Index(fields=["workspace", "stage_entered_at"], name="deal_stage_date_all"),
            models.Index(fields=["workspace", "assistant"], name="deal_assistant"),
            # The board's columns by next step (overdue, today, later, then none), for everyone
            # and for the people a filter or a manager's own view names.
            models.Index(
                fields=["workspace", "stage", "next_step_due", "id"], name="deal_stage_next_step"
            ),
            models.Index(
                fields=["workspace", "owner", "stage", "next_step_due", "id"],
                name="deal_owner_stage_next_step",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        """Save every field but ``next_step_due``: a deal loaded before its tasks changed must
        not write back a stale next step (only ``sync_next_step_due`` writes it)."""
        if (
            not self._state.adding
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "next_step_due" and f.attname not in deferred
            ]
        super().save(*args, **kwargs)


class StageChange(WorkspaceModel):
    """One move of a deal from a stage to another: append-only, never edited."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("when"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["deal_id", "changed_at", "id"]
        indexes = [models.Index(fields=["deal", "changed_at"], name="stagechange_deal_time")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Stage history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Stage history is append-only")


class LossReason(WorkspaceModel):
    """A reason a deal is lost, from the list the head keeps (for win/loss analytics)."""

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(pgettext_lazy("order", "position"), default=0)
    is_archived = models.BooleanField(_("archived"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="lossreason_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class DealImport(WorkspaceModel):
    """A file of deals uploaded for import, kept until it is imported.

    Its SHA-256 is the upload's idempotency key: the same file submitted twice (a double click,
    a second tab) imports its deals once.
    """

    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(_("file"), max_length=255)
    #: The file itself, until the import is done; then emptied.
    content = models.BinaryField(editable=False, default=b"")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)
    deal_count = models.PositiveIntegerField(_("deals"), default=0)

    class Meta:
        verbose_name = _("deal import")
        verbose_name_plural = _("deal imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sha256"], name="dealimport_once")
        ]

    def __str__(self) -> str:
        return self.file_name
