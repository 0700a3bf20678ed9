"""People, their roles and teams, and their API tokens."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from voronka.core.models import Workspace, WorkspaceModel, validate_timezone


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    HEAD = "head", _("Head of sales")
    SENIOR = "senior", _("Senior manager")
    MANAGER = "manager", _("Manager")
    ASSISTANT = "assistant", _("Assistant")
    QC = "qc", _("Quality controller")


#: Roles that see everything in the workspace.
ALL_SEEING_ROLES = frozenset({Role.OWNER, Role.HEAD})
#: Roles that may change the workspace's settings (pipelines, stages, users, teams).
SETTINGS_ROLES = frozenset({Role.OWNER, Role.HEAD})
#: Roles that sell: they own clients, deals and tasks.
SELLING_ROLES = frozenset({Role.HEAD, Role.SENIOR, Role.MANAGER})


class Team(WorkspaceModel):
    """A group of managers led by a senior manager."""

    name = models.CharField(_("name"), max_length=120)
    lead = models.ForeignKey(
        "accounts.User",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="team_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in: an owner, a head of sales, a manager, …"""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MANAGER)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    language = models.CharField(
        _("language"), max_length=8, choices=[("ru", "Русский"), ("en", "English")], default="ru"
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_timezone]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # The person's extension on the office PBX, so that a call event names its manager.
    extension = models.CharField(_("extension"), max_length=16, blank=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def sees_everything(self) -> bool:
        return self.role in ALL_SEEING_ROLES

    @property
    def may_configure(self) -> bool:
        return self.role in SETTINGS_ROLES


def hash_token(raw: str) -> str:
    """Tokens are 256 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(WorkspaceModel):
    """A bearer token for the API; only its hash is stored, and it can be revoked."""

    PREFIX = "vrk_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def new_raw(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at", "updated_at"])
