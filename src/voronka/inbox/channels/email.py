"""Email: a mailbox read over IMAP by the worker and written from over SMTP.

No webhook: mail is fetched (``voronka.inbox.mail.fetching``), so the channel's URL answers
403 to anything. The servers and folders are the channel's options, the passwords its
encrypted credentials. A reply in the inbox answers the conversation's latest email with
In-Reply-To and References, and lands in the mailbox's Sent folder as well.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .base import CredentialField, Forbidden, Malformed, Provider, SendFailed

SECURITY_CHOICES = (
    ("ssl", _("TLS (port 993 / 465)")),
    ("starttls", _("STARTTLS (port 143 / 587)")),
    ("none", _("None (a trusted local network only)")),
)


class EmailProvider(Provider):
    kind = "email"
    credential_fields = (
        CredentialField("imap_password", _("IMAP password")),
        CredentialField(
            "smtp_password",
            _("SMTP password"),
            help=_("Empty: the same as the IMAP password."),
            required=False,
        ),
    )
    settings_template = "inbox/mail/_channel_side.html"
    communication_kind = "email"

    def option_fields(self) -> dict:
        def text(label, help_text="", required=True, initial=None):
            return forms.CharField(
                label=label, help_text=help_text, required=required, max_length=255, initial=initial
            )

        def port(label):
            return forms.IntegerField(
                label=label,
                required=False,
                min_value=1,
                max_value=65535,
                help_text=_("Empty: the usual port for the security chosen."),
            )

        def security(label):
            return forms.ChoiceField(label=label, choices=SECURITY_CHOICES, initial="ssl")

        fields = {
            "address": forms.EmailField(
                label=_("Email address"), help_text=_("Mail is sent from this address.")
            ),
            "display_name": text(
                _("Sender's name"), _("Shown to clients beside the address."), required=False
            ),
            "imap_host": text(_("IMAP server"), _("For example imap.yandex.ru.")),
            "imap_port": port(_("IMAP port")),
            "imap_security": security(_("IMAP security")),
            "imap_user": text(_("IMAP login"), _("Empty: the email address."), required=False),
            "smtp_host": text(_("SMTP server"), _("Empty: the IMAP server."), required=False),
            "smtp_port": port(_("SMTP port")),
            "smtp_security": security(_("SMTP security")),
            "smtp_user": text(_("SMTP login"), _("Empty: the IMAP login."), required=False),
            "inbox_folder": text(_("Incoming folder"), required=False, initial="INBOX"),
            "sent_folder": text(
                _("Sent folder"),
                _("A copy of every mail sent from the CRM is put here."),
                required=False,
                initial="Sent",
            ),
        }
        for field in fields.values():  # the toolkit's classes (the form styles only its own)
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
        return fields

    def clean_options(self, values: dict) -> dict:
        cleaned = {}
        for name, value in values.items():
            if isinstance(value, str):
                value = value.strip()
            cleaned[name] = value if value not in (None, "") else ""
        cleaned["address"] = (cleaned.get("address") or "").lower()
        cleaned["inbox_folder"] = cleaned.get("inbox_folder") or "INBOX"
        cleaned["sent_folder"] = cleaned.get("sent_folder") or "Sent"
        return cleaned

    def verify(self, channel, request) -> None:
        raise Forbidden("An email channel takes no webhooks: its mail is fetched over IMAP.")

    def parse(self, channel, body: bytes):
        # Reached only by replaying a kept email that could not be read: it still cannot be.
        raise Malformed("An email that could not be read is not replayed; see it in the mailbox.")

    def send_reply(self, channel, conversation, text: str, attachments=()) -> str:
        """Answer the conversation's latest email; the headers of what was sent are kept
        until ``record_sent`` puts them beside the communication."""
        from voronka.inbox.mail import sending
        from voronka.inbox.mail.config import mailbox_config
        from voronka.inbox.models import EmailHeaders

        previous = (
            EmailHeaders.objects.filter(communication__conversation=conversation)
            .select_related("communication")
            .order_by("-communication__occurred_at", "-id")
            .first()
        )
        if previous is not None:
            mail = sending.reply_to(previous)
        else:
            contact = conversation.contact
            mail = sending.Outgoing(to=getattr(contact, "email", "") or "", subject="", text="")
        mail.text = text
        mail.attachments = list(attachments)
        if not mail.to:
            raise SendFailed(str(_("The client has no email address.")))
        sent = sending.send(mailbox_config(channel), mail)
        _just_sent[sent.key] = sent
        return sent.key

    def record_sent(self, channel, comm) -> None:
        """Keep the sent mail's headers with its communication, and its Message-ID as a
        received event, so its copy in a folder is never taken in again."""
        from voronka.inbox.mail.recording import record_outgoing

        sent = _just_sent.pop(comm.external_id, None)
        if sent is not None:
            record_outgoing(channel, comm, sent)


#: Mail sent by ``send_reply`` whose communication is being written (by its Message-ID).
_just_sent: dict = {}

provider = EmailProvider()
