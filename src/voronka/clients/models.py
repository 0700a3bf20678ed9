"""Companies and contacts: the clients deals are made with."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from voronka.core.models import KeptListItem, WorkspaceModel


class Segment(KeptListItem):
    """A client segment (e.g. retail, wholesale, government) from the list the head keeps.

    A company belongs to at most one; the funnel and the company list are filtered by it. A
    segment in use is archived, never deleted.
    """

    class Meta(KeptListItem.Meta):
        verbose_name = _("segment")
        verbose_name_plural = _("segments")


class Company(WorkspaceModel):
    """A client organisation (контрагент)."""

    # In context: Django's own catalogue has "name" as a person's name, and it wins.
    name = models.CharField(pgettext_lazy("company", "name"), max_length=255)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="companies",
    )
    #: PROTECT: a segment with companies is archived, not deleted (see ``Segment``).
    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="companies",
    )
    inn = models.CharField(_("tax number"), max_length=12, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.CharField(_("website"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["workspace", "owner", "name"], name="company_owner_name"),
            models.Index(fields=["workspace", "name"], name="company_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(WorkspaceModel):
    """A person at a client; phones are stored in E.164 so an incoming call finds them."""

    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    first_name = models.CharField(_("first name"), max_length=120)
    last_name = models.CharField(_("last name"), max_length=120, blank=True)
    position = models.CharField(pgettext_lazy("job", "position"), max_length=120, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    telegram = models.CharField(_("Telegram"), max_length=64, blank=True)
    whatsapp = models.CharField(_("WhatsApp"), max_length=20, blank=True)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("Empty: the workspace's. Reminders reach the client in their working hours."),
    )
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["workspace", "phone"], name="contact_phone"),
            models.Index(fields=["workspace", "email"], name="contact_email"),
            models.Index(fields=["workspace", "owner", "last_name"], name="contact_owner_name"),
        ]

    def __str__(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)
