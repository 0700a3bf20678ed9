"""The rules' settings, their violations, daily snapshots of them, and snoozes."""

from datetime import time

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from voronka.core.models import Workspace, WorkspaceModel

from .rules import ViolationKind


class RuleSettings(models.Model):
    """The workspace's rules of working in the CRM (one row per workspace), set by the head."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="rule_settings"
    )
    call_comment_grace_minutes = models.PositiveIntegerField(
        _("grace for a call's comment, minutes"), default=30
    )
    meeting_comment_grace_minutes = models.PositiveIntegerField(
        _("grace for a meeting's comment, minutes"), default=30
    )
    message_comment_grace_minutes = models.PositiveIntegerField(
        _("grace for a conversation's comment, minutes"), default=30
    )
    min_comment_length = models.PositiveIntegerField(_("shortest comment that counts"), default=20)
    next_contact_gap_days = models.PositiveIntegerField(
        _("longest gap to the next contact, days"),
        null=True,
        blank=True,
        help_text=_("Empty: the median time a deal of the pipeline spends in the stage."),
    )
    reminder_lead_minutes = models.PositiveIntegerField(
        _("remind the client before a meeting, minutes"), default=120
    )
    work_start = models.TimeField(_("working day starts"), default=time(9, 0))
    work_end = models.TimeField(_("working day ends"), default=time(19, 0))
    work_days = models.CharField(
        _("working days"), max_length=13, default="0,1,2,3,4", help_text=_("0 = Monday")
    )
    digest_time = models.TimeField(_("daily digest at"), default=time(8, 0))
    #: The workspace's day whose digest went out: claimed by one atomic update, so a digest is
    #: sent once a day however many workers look. Bookkeeping, not a setting: not in history.
    digest_sent_on = models.DateField(null=True, blank=True, editable=False)
    daily_report_on = models.BooleanField(_("send the daily report"), default=True)
    daily_report_time = models.TimeField(_("daily report at"), default=time(9, 0))
    #: Who gets the daily report by email, as roles separated by commas: a manager gets their
    #: own, a senior their team's, the head and the owner everyone's.
    daily_report_to = models.CharField(
        _("daily report goes to"), max_length=40, default="manager,senior,head"
    )
    history = HistoricalRecords(excluded_fields=["digest_sent_on"])

    class Meta:
        verbose_name = _("rules of work")
        verbose_name_plural = _("rules of work")

    def __str__(self) -> str:
        return str(self.workspace)

    @classmethod
    def for_workspace(cls, workspace_id: int) -> "RuleSettings":
        obj, _created = cls.objects.get_or_create(workspace_id=workspace_id)
        return obj


class Violation(WorkspaceModel):
    """A rule broken now: open until the manager fixes it (``resolved_at`` is set then)."""

    kind = models.CharField(
        _("kind"), max_length=24, choices=[(k.value, k.value) for k in ViolationKind]
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.CASCADE,
        related_name="violations",
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="violations"
    )
    task = models.ForeignKey(
        "activities.Task",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="violations",
    )
    communication = models.ForeignKey(
        "inbox.Communication",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="violations",
    )
    #: What is in violation, as "deal:12", "task:7" or "communication:3": one open row per subject
    #: and kind, on every database (SQLite has no NULLS NOT DISTINCT).
    subject = models.CharField(max_length=40)
    since = models.DateTimeField(_("since"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        ordering = ["since", "id"]
        indexes = [
            models.Index(
                fields=["workspace", "resolved_at", "manager", "kind"], name="violation_open"
            ),
            models.Index(fields=["deal", "resolved_at"], name="violation_deal"),
            # The control screen's drill-down of a kind, oldest first, reads a page of this.
            models.Index(
                fields=["workspace", "kind", "since", "id"],
                condition=models.Q(resolved_at__isnull=True),
                name="violation_open_kind_since",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "subject"],
                condition=models.Q(resolved_at__isnull=True),
                name="violation_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.manager_id})"


class DailySnapshot(WorkspaceModel):
    """How many violations of a kind a manager had open at the end of a day (for trends)."""

    day = models.DateField(_("day"))
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=24)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily snapshot")
        verbose_name_plural = _("daily snapshots")
        ordering = ["day", "manager_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "day", "manager", "kind"], name="snapshot_once"
            )
        ]


class Snooze(WorkspaceModel):
    """A pause on a deal's stall flags until a date, with the reason; the head sees them all."""

    deal = models.ForeignKey("sales.Deal", on_delete=models.CASCADE, related_name="snoozes")
    until = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("snooze")
        verbose_name_plural = _("snoozes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deal", "until"], name="snooze_deal_until")]

    def __str__(self) -> str:
        return f"{self.deal_id} → {self.until:%Y-%m-%d}"


class DailyReportSent(WorkspaceModel):
    """A daily report emailed to a person on a day of theirs: written before the message goes,
    so a worker that restarts or runs twice never sends the same person the same day twice."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    #: The recipient's local date the report was sent on.
    sent_on = models.DateField(_("sent on"))
    #: The day the report covers.
    report_day = models.DateField(_("report of"))

    class Meta:
        verbose_name = _("daily report sent")
        verbose_name_plural = _("daily reports sent")
        ordering = ["-sent_on", "recipient_id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "sent_on"], name="daily_report_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.sent_on}"
