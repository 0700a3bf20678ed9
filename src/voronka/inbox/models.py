"""Communications: calls, messages, emails, meetings and notes on a client's timeline, and the
channels (Telegram, WhatsApp, telephony, …) they arrive through."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

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


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Missed")
    BUSY = "busy", _("Busy")
    NONE = "", _("—")


class DeliveryStatus(models.TextChoices):
    """How far an outgoing message got, as the provider reports it (WhatsApp, Instagram)."""

    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Not delivered")
    NONE = "", _("—")


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
    # What came through a channel. ``body`` is the message's own text (the client's words or the
    # manager's reply); ``comment`` stays the manager's note on the contact, which the rules of
    # work judge, so a message never counts as its own comment.
    conversation = models.ForeignKey(
        "inbox.Conversation",
        verbose_name=_("conversation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="communications",
    )
    body = models.TextField(_("text"), blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=8, choices=Outcome.choices, blank=True, default=""
    )
    external_id = models.CharField(_("provider's id"), max_length=128, blank=True)
    counterpart = models.CharField(
        _("client's address"),
        max_length=128,
        blank=True,
        help_text=_("The client's phone (E.164), email or messenger id."),
    )
    line = models.CharField(
        _("our line"),
        max_length=128,
        blank=True,
        help_text=_("Our side: the company's number, the extension, the bot or account."),
    )
    delivery_status = models.CharField(
        _("delivery"), max_length=9, choices=DeliveryStatus.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("communication")
        verbose_name_plural = _("communications")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["deal", "occurred_at"], name="comm_deal_time"),
            models.Index(fields=["contact", "occurred_at"], name="comm_contact_time"),
            models.Index(fields=["workspace", "author", "occurred_at"], name="comm_author_time"),
            models.Index(fields=["conversation", "occurred_at"], name="comm_conversation_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


# --- Channels and what arrives through them ----------------------------------------------------


class ChannelKind(models.TextChoices):
    """The providers a channel can be; each has its module in ``voronka.inbox.channels``."""

    TELEGRAM = "telegram", _("Telegram bot")
    WHATSAPP = "whatsapp", _("WhatsApp Business")
    INSTAGRAM = "instagram", _("Instagram Direct")
    TWILIO = "twilio", _("Twilio Voice")
    MANGO = "mango", _("Mango Office")
    GENERIC_PBX = "generic_pbx", _("Any PBX (signed JSON webhook)")
    SITE_CHAT = "site_chat", _("Website chat widget")
    EMAIL = "email", _("Email (IMAP and SMTP)")

    @classmethod
    def timeline_channel(cls, kind: str) -> str:
        """The ``Communication.channel`` of what arrives through a channel of this kind."""
        return {
            cls.TELEGRAM: Channel.TELEGRAM,
            cls.WHATSAPP: Channel.WHATSAPP,
            cls.INSTAGRAM: Channel.INSTAGRAM,
            cls.SITE_CHAT: Channel.SITE_CHAT,
            cls.EMAIL: Channel.EMAIL,
        }.get(kind, Channel.PHONE)


def new_webhook_key() -> str:
    return secrets.token_urlsafe(24)


class ChannelConfig(WorkspaceModel):
    """A connected channel: a Telegram bot, a WhatsApp number, a PBX… with its webhook URL.

    The URL carries ``webhook_key`` (unguessable, 192 random bits) so that an event names its
    channel before anything is parsed; the provider's own signature is checked with the
    credentials, which are kept encrypted (``voronka.inbox.vault``) and never shown back in full.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    name = models.CharField(_("name"), max_length=120)
    enabled = models.BooleanField(_("enabled"), default=True)
    webhook_key = models.CharField(max_length=64, unique=True, default=new_webhook_key)
    credentials_encrypted = models.TextField(blank=True, default="")
    options = models.JSONField(
        _("options"), default=dict, blank=True, help_text=_("Settings that are not secret.")
    )
    history = HistoricalRecords(excluded_fields=["updated_at", "credentials_encrypted"])

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def credentials(self) -> dict[str, str]:
        """The decrypted credentials, for the provider module only; never render them."""
        from . import vault

        return vault.decrypt(self.credentials_encrypted)

    def set_credentials(self, values: dict[str, str]) -> None:
        from . import vault

        self.credentials_encrypted = vault.encrypt({k: v for k, v in values.items() if v})

    @property
    def masked_credentials(self) -> dict[str, str]:
        """Each credential as it may be shown: the last four characters at most."""
        from . import vault

        return {k: vault.mask(v) for k, v in sorted(self.credentials.items())}

    @property
    def timeline_channel(self) -> str:
        return ChannelKind.timeline_channel(self.kind)


class ReceivedEvent(WorkspaceModel):
    """An event a provider delivered, kept once: a repeated delivery changes nothing."""

    channel = models.ForeignKey(ChannelConfig, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(_("provider's event id"), max_length=128)
    communication = models.ForeignKey(
        Communication, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    #: The event as the provider module read it (``InboundEvent``), for the worker to process
    #: when the webhook only stored it (under load); empty when it was processed at once.
    event = models.JSONField(default=dict, blank=True)
    #: When it reached the timeline (or the dead letters); empty while the worker has it to do.
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("received event")
        verbose_name_plural = _("received events")
        constraints = [
            models.UniqueConstraint(fields=["channel", "event_id"], name="inbound_event_once")
        ]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(processed_at__isnull=True),
                name="received_event_to_process",
            )
        ]


class DeadLetter(WorkspaceModel):
    """A delivery that could not be taken in (malformed, or nowhere to put it), kept to replay.

    Only deliveries that passed the signature check land here; forged ones are logged, not kept.
    """

    channel = models.ForeignKey(
        ChannelConfig,
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        related_name="dead_letters",
    )
    body = models.BinaryField(_("body"))
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    reason = models.TextField(_("reason"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    replayed_at = models.DateTimeField(_("replayed"), null=True, blank=True)

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "received_at"], name="deadletter_ws_time"),
        ]

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class ConversationState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Conversation(WorkspaceModel):
    """One chat or phone line with a client in one channel: the inbox's row.

    ``external_id`` is the provider's chat or thread (a Telegram chat id, a WhatsApp number, the
    caller's phone for calls); its messages and calls are the communications pointing here.
    """

    channel = models.ForeignKey(
        ChannelConfig,
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    external_id = models.CharField(_("chat id"), max_length=128)
    contact = models.ForeignKey(
        "clients.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    title = models.CharField(_("title"), max_length=255, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    unread_count = models.PositiveIntegerField(_("unread"), default=0)
    state = models.CharField(
        _("state"), max_length=8, choices=ConversationState.choices, default=ConversationState.OPEN
    )

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="conversation_chat_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["workspace", "assignee", "state", "last_message_at"],
                name="conversation_inbox",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id


def attachment_path(instance, filename: str) -> str:
    return f"attachments/{instance.workspace_id}/{filename}"


class Attachment(WorkspaceModel):
    """A file that came with a message (a photo, a document, a voice note) or went with a reply.

    ``external_id`` is the provider's file id (Telegram's ``file_id``) until the file is fetched.
    """

    communication = models.ForeignKey(
        Communication, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, blank=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    content_type = models.CharField(_("type"), max_length=127, blank=True)
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    external_id = models.CharField(_("provider's file id"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.external_id


class MessengerIdentity(WorkspaceModel):
    """A contact's id in a messenger (a Telegram user id, an Instagram-scoped id), so the next
    message from the same person finds them even without a phone number or a username."""

    contact = models.ForeignKey(
        "clients.Contact", on_delete=models.CASCADE, related_name="messenger_identities"
    )
    messenger = models.CharField(_("messenger"), max_length=16, choices=Channel.choices)
    external_id = models.CharField(_("id"), max_length=128)
    handle = models.CharField(_("username"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("messenger identity")
        verbose_name_plural = _("messenger identities")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "messenger", "external_id"], name="messenger_identity_unique"
            )
        ]


class InboxSettings(WorkspaceModel):
    """Where new inbound leads go: the pipeline, the first-response time, and the round robin's
    place (kept here so that every application server takes turns from the same list)."""

    inbound_pipeline = models.ForeignKey(
        "sales.Pipeline",
        verbose_name=_("pipeline for new inbound leads"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: the first pipeline."),
    )
    answer_within_minutes = models.PositiveIntegerField(
        _("first answer within, minutes"), default=15
    )
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("inbox settings")
        verbose_name_plural = _("inbox settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="inbox_settings_one_per_workspace")
        ]


# --- The inbox: what is done to a conversation, and ready answers --------------------------------


class ConversationEventKind(models.TextChoices):
    ASSIGNED = "assigned", _("Handed over")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


class ConversationEvent(WorkspaceModel):
    """Something done to a conversation rather than said in it: a hand-over, a close, a reopen.

    Shown between the messages, so that whoever opens the chat sees who had it and when.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=8, choices=ConversationEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("conversation event")
        verbose_name_plural = _("conversation events")
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "occurred_at"], name="conversation_event_time")
        ]


class MessageTemplate(WorkspaceModel):
    """A ready answer the head of sales writes and a manager picks in the reply box.

    Placeholders such as ``{contact_name}`` are filled in for the conversation at hand.
    """

    name = models.CharField(_("name"), max_length=120)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class RecordingDownload(WorkspaceModel):
    """A call's recording the provider has ready, to be fetched by the worker into our storage.

    ``source`` is what the provider needs to hand the file over (Twilio's recording URL, Mango's
    recording id). Failed attempts are counted and the last error kept, so a recording that will
    not come is visible instead of retried for ever or logged on every try.
    """

    communication = models.ForeignKey(
        Communication, on_delete=models.CASCADE, related_name="recording_downloads"
    )
    channel = models.ForeignKey(ChannelConfig, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("source"), max_length=1000)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    done_at = models.DateTimeField(_("fetched"), null=True, blank=True)
    gave_up_at = models.DateTimeField(_("gave up"), null=True, blank=True)

    class Meta:
        verbose_name = _("recording download")
        verbose_name_plural = _("recording downloads")
        constraints = [
            models.UniqueConstraint(
                fields=["communication", "source"], name="recording_download_once"
            )
        ]


# The email channel's mailboxes and headers live in their own module.
from .mail.models import EmailHeaders, Mailbox  # noqa: E402, F401
