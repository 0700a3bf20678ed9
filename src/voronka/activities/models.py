"""Tasks: the next step of a deal, with a goal and a due time."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from voronka.core.models import WorkspaceModel


class TaskType(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    # In context: Django's own catalogue has "Email" as "email address", and it wins.
    EMAIL = "email", pgettext_lazy("task type", "Email")
    MESSAGE = "message", _("Message")
    PROPOSAL = "proposal", _("Send a proposal")
    BANK_DETAILS = "bank_details", _("Get bank details")
    CONTRACT = "contract", _("Contract")
    OTHER = "other", _("Other")


class Task(WorkspaceModel):
    """A task (задача): what to do, by when, who does it, and what it must achieve (the goal)."""

    type = models.CharField(_("type"), max_length=16, choices=TaskType.choices, default="call")
    goal = models.CharField(
        _("goal"), max_length=255, help_text=_("What the next contact must achieve.")
    )
    due_at = models.DateTimeField(_("due"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    contact = models.ForeignKey(
        "clients.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["workspace", "owner", "done_at", "due_at"], name="task_owner_due"),
            models.Index(fields=["deal", "done_at", "due_at"], name="task_deal_due"),
        ]

    def __str__(self) -> str:
        return self.goal

    @property
    def is_open(self) -> bool:
        return self.done_at is None
