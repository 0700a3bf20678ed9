"""Revenue targets, the head's overrides of the plan's assumptions, and a target's split."""

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from voronka.core.models import WorkspaceModel


class PeriodKind(models.TextChoices):
    YEAR = "year", _("Year")
    QUARTER = "quarter", _("Quarter")
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")


class Scope(models.TextChoices):
    COMPANY = "company", _("Company")
    TEAM = "team", _("Team")
    MANAGER = "manager", _("Manager")


class SplitMethod(models.TextChoices):
    PAST = "past", _("By past results")
    CAPACITY = "capacity", _("By capacity")
    SHARE = "share", _("By share")
    EQUAL = "equal", _("Evenly")


#: The history windows the head may plan from, in days.
WINDOW_CHOICES = [
    (30, _("the last 30 days")),
    (90, _("the last quarter")),
    (180, _("the last half-year")),
    (365, _("the last year")),
]


class Target(WorkspaceModel):
    """A revenue target for a period, for the company, a team or a manager, and optionally
    for one pipeline and one product.

    The decomposition is not stored: it is recomputed from the conversions observed over
    ``window_days`` and the overrides, so the plan follows the funnel as it changes.
    """

    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    scope = models.CharField(_("for"), max_length=8, choices=Scope.choices)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    pipeline = models.ForeignKey(
        "sales.Pipeline",
        verbose_name=_("pipeline"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: the main pipeline."),
    )
    #: PROTECT: a product with targets is archived, not deleted (as with its deals).
    product = models.ForeignKey(
        "sales.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: all products."),
    )
    amount = models.DecimalField(_("revenue target"), max_digits=14, decimal_places=2)
    window_days = models.PositiveIntegerField(
        _("conversions observed over"), choices=WINDOW_CHOICES, default=90
    )
    split_method = models.CharField(
        _("split among managers"),
        max_length=8,
        choices=SplitMethod.choices,
        default=SplitMethod.PAST,
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-period_start", "period_kind", "scope", "id"]
        indexes = [
            models.Index(fields=["workspace", "period_kind", "period_start"], name="target_period")
        ]
        constraints = [
            # One target per period, scope, pipeline and product: setting it again changes it.
            # None (no team, manager, pipeline or product) counts as one value here, as 0.
            models.UniqueConstraint(
                F("workspace"),
                F("period_kind"),
                F("period_start"),
                F("scope"),
                *(
                    Coalesce(F(name), Value(0), output_field=models.BigIntegerField())
                    for name in ("team", "manager", "pipeline", "product")
                ),
                name="target_one_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_period_kind_display()} {self.period_start}: {self.amount}"


class AssumptionOverride(WorkspaceModel):
    """The head's own number for one assumption of a target's plan.

    ``key`` is "average_deal", "calls_per_lead", "meetings_per_lead" or
    "conversion:<stage id>" (the share of the stage's deals that reach the next one, 0–1).
    """

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="overrides")
    key = models.CharField(_("assumption"), max_length=40)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("assumption override")
        verbose_name_plural = _("assumption overrides")
        ordering = ["target_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["target", "key"], name="override_once_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} = {self.value}"


class SplitEntry(WorkspaceModel):
    """One manager's part of a team or company target.

    ``basis`` is what the part was computed from: the percent the head typed (share), the
    manager's capacity, or their past results.
    """

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="split_entries")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    basis = models.DecimalField(_("basis"), max_digits=14, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("split entry")
        verbose_name_plural = _("split entries")
        ordering = ["target_id", "manager_id"]
        constraints = [
            models.UniqueConstraint(fields=["target", "manager"], name="split_once_per_manager")
        ]

    def __str__(self) -> str:
        return f"{self.manager_id}: {self.amount}"
