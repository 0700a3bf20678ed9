"""The workspace every tenant-owned row belongs to, and the base for those rows."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


class Workspace(models.Model):
    """One company using Voronka; every row it owns carries it (the sharding key)."""

    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_timezone]
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")

    def __str__(self) -> str:
        return self.name


class WorkspaceModel(models.Model):
    """Base of every tenant-owned table: the workspace, and when the row was made and changed."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class KeptListItem(WorkspaceModel):
    """Base of a list the head keeps by name (``sales.Product``, ``clients.Segment``).

    An entry has a position on the list, is archived rather than deleted once in use, keeps its
    change history, and its name is unique in the workspace. ``sales.kept_lists`` holds the
    actions both lists share. A subclass sets its verbose names in
    ``class Meta(KeptListItem.Meta)``, which keeps the ordering and the constraint.
    """

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(pgettext_lazy("order", "position"), default=0)
    is_archived = models.BooleanField(_("archived"), default=False)
    #: ``inherit``: each subclass gets its own historical model, in its own app.
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]
        constraints = [
            # "product_name_unique", "segment_name_unique"
            models.UniqueConstraint(fields=["workspace", "name"], name="%(class)s_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CustomField(WorkspaceModel):
    """A field the head adds to deals, companies or contacts; values live in ``custom``."""

    class Entity(models.TextChoices):
        DEAL = "deal", _("Deal")
        COMPANY = "company", _("Company")
        CONTACT = "contact", _("Contact")

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        MONEY = "money", _("Money")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Several choices")
        FILE = "file", _("File")
        USER = "user", _("Person")

    entity = models.CharField(_("for"), max_length=8, choices=Entity.choices)
    key = models.SlugField(
        _("key"), max_length=40, help_text=_("Latin letters, digits and _; used in the API.")
    )
    label = models.CharField(_("label"), max_length=120)
    type = models.CharField(_("type"), max_length=12, choices=Type.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveIntegerField(pgettext_lazy("order", "position"), default=0)
    is_archived = models.BooleanField(_("archived"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "entity", "key"], name="customfield_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label
