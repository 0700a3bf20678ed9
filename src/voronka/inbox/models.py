"""Communications: calls, messages, emails, meetings and notes on a client's timeline."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from voronka.core.models import WorkspaceModel


class CommKind(models.TextChoices):
    CALL = "call", _("Call")
    MESSAGE = "message", _("Message")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")


class Direction(models.TextChoices):
    INCOMING = "in", _("Incoming")
    OUTGOING = "out", _("Outgoing")
    NONE = "", _("—")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    INSTAGRAM = "instagram", _("Instagram")
    EMAIL = "email", _("Email")
    SITE_CHAT = "site_chat", _("Website chat")
    IN_PERSON = "in_person", _("In person")
    OTHER = "other", _("Other")


def recording_path(instance, filename: str) -> str:
    return f"recordings/{instance.workspace_id}/{filename}"


class Communication(WorkspaceModel):
    """A contact with a client and the manager's comment on it: what was agreed, what next."""

    kind = models.CharField(_("kind"), max_length=8, choices=CommKind.choices)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True, default=""
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    occurred_at = models.DateTimeField(_("when"))
    duration_seconds = models.PositiveIntegerField(_("duration, seconds"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="communications",
    )
    contact = models.ForeignKey(
        "clients.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="communications",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="communications",
    )
    recording = models.FileField(_("recording"), upload_to=recording_path, blank=True)

    class Meta:
        verbose_name = _("communication")
        verbose_name_plural = _("communications")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["deal", "occurred_at"], name="comm_deal_time"),
            models.Index(fields=["contact", "occurred_at"], name="comm_contact_time"),
            models.Index(fields=["workspace", "author", "occurred_at"], name="comm_author_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"
