"""The email channel's own rows: a mailbox's state and each email's headers.

Imported by ``voronka.inbox.models``, so they belong to the inbox app and its migrations.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from voronka.core.models import WorkspaceModel


class Mailbox(WorkspaceModel):
    """An email channel's mailbox: whose it is, how far it was read, and how fetching goes.

    A shared mailbox (sales@) has no owner and its new leads go round robin; a manager's own
    mailbox has them as owner, and leads from it go to them. ``cursors`` keeps per folder the
    UIDVALIDITY and the highest UID taken in, so a fetch asks only for what is new; a failing
    mailbox keeps its error and is retried with a growing pause instead of every minute.
    """

    channel = models.OneToOneField(
        "inbox.ChannelConfig", on_delete=models.CASCADE, related_name="mailbox"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: a shared mailbox, its new leads go to the managers in turn."),
    )
    cursors = models.JSONField(default=dict, blank=True)
    last_success_at = models.DateTimeField(_("last fetched"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.TextField(_("error"), blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        indexes = [models.Index(fields=["next_attempt_at"], name="mailbox_due")]

    def __str__(self) -> str:
        return str(self.channel)

    @property
    def is_failing(self) -> bool:
        return bool(self.failures)


class EmailHeaders(WorkspaceModel):
    """What an email carries beyond its text: subject, addresses, threading headers, HTML.

    ``message_key`` is the Message-ID as the communication and the received event keep it (a
    digest when longer than their column); threads are found by it. ``html`` is kept as it came
    and sanitised each time it is shown.
    """

    communication = models.OneToOneField(
        "inbox.Communication", on_delete=models.CASCADE, related_name="email"
    )
    channel = models.ForeignKey("inbox.ChannelConfig", on_delete=models.CASCADE, related_name="+")
    message_key = models.CharField(max_length=128)
    message_id = models.TextField(_("Message-ID"))
    in_reply_to = models.TextField(_("In-Reply-To"), blank=True)
    references = models.TextField(_("References"), blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    to_addresses = models.TextField(_("to"), blank=True)
    cc_addresses = models.TextField(_("copy"), blank=True)
    html = models.TextField(blank=True)

    class Meta:
        verbose_name = _("email headers")
        verbose_name_plural = _("email headers")
        indexes = [models.Index(fields=["channel", "message_key"], name="email_message_key")]
