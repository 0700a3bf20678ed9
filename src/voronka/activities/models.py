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
            # Led by the workspace, as every load filters by it: SQLite without statistics
            # otherwise prefers the workspace's own index over a list of deals and walks
            # every task of the workspace (the board's next steps: 300 ms at 500k tasks).
            models.Index(fields=["workspace", "deal", "done_at", "due_at"], name="task_deal_due"),
        ]

    def __str__(self) -> str:
        return self.goal

    @property
    def is_open(self) -> bool:
        return self.done_at is None


class TaskGoal(WorkspaceModel):
    """A goal from the head's list («agree a meeting», «get the bank details»), per stage."""

    text = models.CharField(_("goal"), max_length=255)
    stage = models.ForeignKey(
        "sales.Stage",
        verbose_name=_("stage"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="task_goals",
        help_text=_("Empty: offered at every stage."),
    )
    position = models.PositiveIntegerField(default=0)
    is_archived = models.BooleanField(_("archived"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("task goal")
        verbose_name_plural = _("task goals")
        ordering = ["stage_id", "position", "id"]

    def __str__(self) -> str:
        return self.text


class Reminder(WorkspaceModel):
    """A reminder of a meeting, to the client or to the manager, sent once at its time."""

    class Recipient(models.TextChoices):
        CLIENT = "client", _("Client")
        MANAGER = "manager", _("Manager")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.CharField(_("to"), max_length=8, choices=Recipient.choices)
    channel = models.CharField(_("channel"), max_length=16, default="email")
    address = models.CharField(_("address"), max_length=255, blank=True)
    send_at = models.DateTimeField(_("send at"))
    #: The meeting time the reminder was planned for; a moved meeting gets a new reminder.
    for_due_at = models.DateTimeField()
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["send_at", "id"]
        indexes = [models.Index(fields=["sent_at", "send_at"], name="reminder_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "recipient", "for_due_at"], name="reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.recipient} at {self.send_at:%Y-%m-%d %H:%M}"


class ReviewFlag(WorkspaceModel):
    """A call flagged for review at the planning meeting, with the note of whoever flagged it.

    Set by the head, a senior or the quality controller from the deal's timeline; the planning
    meeting lists the open ones. Cleared (``cleared_at``) once the call has been discussed.
    """

    communication = models.ForeignKey(
        "inbox.Communication",
        verbose_name=_("call"),
        on_delete=models.CASCADE,
        related_name="review_flags",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("flagged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("call flagged for review")
        verbose_name_plural = _("calls flagged for review")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["workspace", "created_at"],
                condition=models.Q(cleared_at__isnull=True),
                name="review_flag_open",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["communication"],
                condition=models.Q(cleared_at__isnull=True),
                name="review_flag_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.communication_id}: {self.note}"
