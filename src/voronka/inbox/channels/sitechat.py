"""The website chat widget: a visitor on the site writes, a manager answers from the inbox.

Unlike the messengers there is no provider: the widget (``/widget/<key>.js``, served by
``voronka.inbox.sitechat_views``) posts to our own endpoints. Each thing a visitor does — a
message, a phone or email left, the offline form — is written as a small JSON envelope and goes
through the same ``parse`` → ``ingest`` path as a provider's webhook, so matching, the new lead in
the inbound pipeline, the inbox and the dead letters (when the workspace has nobody to give a
lead to) work as for every other channel. A reply from the inbox is stored by ``do_send_reply``;
``send_reply`` only names it, and the widget's long poll carries it to the visitor.

The channel's ``/hooks/`` URL takes nothing: the widget's endpoints are the only way in.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.clients.phones import normalise_phone
from voronka.clients.rules import normalise_email

from .base import Forbidden, InboundEvent, Malformed, Provider, Sender

#: A visitor's message longer than this is refused (413) before anything is stored.
MAX_MESSAGE_CHARS = 2000
#: Anything the widget posts is small; a bigger body is refused unread.
MAX_BODY_BYTES = 16 * 1024
MAX_NAME_CHARS = 120
VISITOR_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
DAYS = range(7)  # Monday is 0, as ``datetime.weekday`` counts

DEFAULTS = {
    "allowed_origins": [],
    "colour": "#206bc4",
    "greeting": "",
    "position": "right",
    "language": "ru",
    "hours_from": "",
    "hours_to": "",
    "work_days": list(DAYS),
}


def options_of(channel) -> dict:
    """The channel's widget settings, with the defaults for what was never set."""
    return {**DEFAULTS, **(channel.options or {})}


# --- Origins -------------------------------------------------------------------------------------


def normalise_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port; ``null`` (a page opened
    from disk) as it is; None when the value is not an origin (a path, no host, another scheme)."""
    value = (value or "").strip()
    if value == "null":
        return value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def origin_allowed(channel, origin: str | None) -> bool:
    """Whether a browser page at ``origin`` may talk to this channel's widget endpoints."""
    if not origin:
        return False
    origin = normalise_origin(origin)
    return origin is not None and origin in options_of(channel)["allowed_origins"]


# --- Working hours -------------------------------------------------------------------------------


def _clock(value: str) -> clock | None:
    try:
        return clock.fromisoformat(value) if value else None
    except ValueError:
        return None


def is_online(options: dict, tz_name: str, now: datetime | None = None) -> bool:
    """Whether the chat is staffed at ``now`` in the workspace's time zone: on a working day and
    within the hours (none set: all day; ``from`` after ``to``: the hours run over midnight)."""
    try:
        tz = ZoneInfo(tz_name)
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    local = (now or datetime.now(UTC)).astimezone(tz)
    start, end = _clock(options.get("hours_from", "")), _clock(options.get("hours_to", ""))
    days = options.get("work_days", list(DAYS))
    if start is None or end is None or start == end:
        return local.weekday() in days
    t = local.time().replace(tzinfo=None)
    if start < end:
        return local.weekday() in days and start <= t < end
    # Overnight: the evening belongs to today's working day, the small hours to yesterday's.
    if t >= start:
        return local.weekday() in days
    return t < end and (local - timedelta(days=1)).weekday() in days


# --- Visitors ------------------------------------------------------------------------------------

TOKEN_MAX_AGE = 60 * 60 * 24 * 90


def _salt(channel) -> str:
    return f"voronka.sitechat.visitor:{channel.webhook_key}"


def new_visitor() -> str:
    return secrets.token_urlsafe(18)


def visitor_token(channel, visitor: str) -> str:
    """A signed token naming the visitor, for this channel only; the widget keeps it."""
    return signing.dumps({"v": visitor}, salt=_salt(channel), compress=False)


def visitor_of(channel, token: str) -> str | None:
    """The visitor a token names, or None for a forged, foreign or expired one."""
    if not token or len(token) > 300:
        return None
    try:
        data = signing.loads(token, salt=_salt(channel), max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    visitor = data.get("v") if isinstance(data, dict) else None
    return visitor if isinstance(visitor, str) and VISITOR_RE.match(visitor) else None


# --- Rate limits ---------------------------------------------------------------------------------


def limits() -> dict[str, tuple[int, int]]:
    """Requests allowed per window of seconds, by bucket; ``VORONKA_SITECHAT_LIMITS`` overrides."""
    return {
        "ip": (300, 60),  # every widget request from one address (polls included)
        "ip_write": (60, 60),  # sessions, messages, forms from one address
        "visitor": (20, 60),  # messages and forms from one visitor
        **getattr(settings, "VORONKA_SITECHAT_LIMITS", {}),
    }


def throttle(bucket: str, who: str) -> int | None:
    """Count a request against the bucket; the seconds to wait when it is over the limit.

    A fixed window in Django's cache (one ``add`` or ``incr``, no database), so a flood costs
    the inbox nothing. With several application servers the cache must be shared (the
    ``CACHES`` setting), or each server counts its own share.
    """
    limit, window = limits()[bucket]
    now = int(time.time())
    key = f"voronka:sitechat:{bucket}:{who}:{now // window}"
    if cache.add(key, 1, window + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, window + 1)
            count = 1
    if count > limit:
        return max(1, window - now % window)
    return None


# --- The envelope the widget's endpoints hand to parse -------------------------------------------

KINDS = ("message", "contact", "offline")


class Refused(Exception):
    """A visitor's input the widget endpoints answer with 400 (or 413) and a reason."""

    def __init__(self, code: str, message: str, fields: dict | None = None, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.fields, self.status = code, message, fields or {}, status


def _text(value, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused("invalid", _("Something went wrong: reload the page."), {what: "type"})
    value = value.replace("\x00", "").strip()
    if len(value) > limit:
        if what == "text":
            raise Refused(
                "too_long",
                _("The message is too long: at most %(n)s characters.") % {"n": limit},
                {what: "too_long"},
                status=413,
            )
        raise Refused("invalid", _("Too long."), {what: "too_long"})
    return value


def clean_details(data: dict, *, need_text: bool) -> dict:
    """The visitor's name, phone, email and text from a form, checked; ``Refused`` says what is
    wrong in the widget's language (the caller activates it)."""
    name = _text(data.get("name"), "name", MAX_NAME_CHARS)
    phone_raw = _text(data.get("phone"), "phone", 40)
    email_raw = _text(data.get("email"), "email", 254)
    text = _text(data.get("text"), "text", MAX_MESSAGE_CHARS)
    fields = {}
    phone = normalise_phone(phone_raw) if phone_raw else ""
    if phone_raw and not phone:
        fields["phone"] = _("This does not look like a phone number.")
    email = normalise_email(email_raw) if email_raw else ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            fields["email"] = _("This does not look like an email address.")
    if not phone_raw and not email_raw:
        fields["phone"] = _("Leave a phone or an email.")
    if need_text and not text:
        fields["text"] = _("Write your question.")
    if fields:
        raise Refused("invalid", _("Check the form."), fields)
    return {"name": " ".join(name.split()), "phone": phone or "", "email": email, "text": text}


def envelope(kind: str, visitor: str, client_id: str, **values) -> bytes:
    """What a widget request stores and ingests (and a dead letter keeps, to replay)."""
    return json.dumps(
        {
            "kind": kind,
            "visitor": visitor,
            "id": client_id,
            "at": datetime.now(UTC).isoformat(),
            **values,
        },
        ensure_ascii=False,
    ).encode()


def _str(body: dict, key: str, limit: int) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise Malformed(f"{key} must be a string")
    return value[:limit]


class SiteChatProvider(Provider):
    kind = "site_chat"
    credential_fields = ()
    settings_template = "inbox/settings/_sitechat_embed.html"

    def verify(self, channel, request) -> None:
        raise Forbidden("the site chat takes messages at its /widget/ endpoints only")

    def parse(self, channel, body: bytes) -> list[InboundEvent]:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Malformed(f"the body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise Malformed("the envelope must be an object")
        kind = data.get("kind")
        visitor = data.get("visitor")
        client_id = data.get("id")
        if kind not in KINDS:
            raise Malformed("unknown kind")
        if not isinstance(visitor, str) or not VISITOR_RE.match(visitor):
            raise Malformed("bad visitor")
        if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
            raise Malformed("bad id")
        try:
            occurred_at = datetime.fromisoformat(_str(data, "at", 40))
        except ValueError as exc:
            raise Malformed("bad time") from exc
        if occurred_at.tzinfo is None:
            raise Malformed("the time has no zone")
        text = _str(data, "text", MAX_MESSAGE_CHARS)
        sender = Sender(
            phone=_str(data, "phone", 40),
            email=_str(data, "email", 254),
            messenger_id=visitor,
            name=_str(data, "name", MAX_NAME_CHARS),
        )
        with translation.override(settings.LANGUAGE_CODE):
            left = ", ".join(v for v in (sender.name, sender.phone, sender.email) if v)
            if kind == "contact":
                text = _("The visitor left their contact details: %(details)s") % {"details": left}
            elif kind == "offline":
                text = _("Request from the offline form (%(details)s):\n%(text)s") % {
                    "details": left,
                    "text": text,
                }
        if not text:
            raise Malformed("no text")
        return [
            InboundEvent(
                event_id=f"{visitor}:{client_id}",
                kind="message",
                chat_id=visitor,
                occurred_at=occurred_at,
                sender=sender,
                direction="in",
                text=text,
                external_id=client_id,
                counterpart=visitor,
                line=channel.name,
                raw=data,
            )
        ]

    def send_reply(self, channel, conversation, text: str, attachments=()) -> str:
        """Nothing to call: the reply is stored, and the visitor's long poll picks it up."""
        if attachments:
            from .base import SendFailed

            raise SendFailed(_("The website chat takes text only."))
        return f"reply-{secrets.token_hex(8)}"

    # -- Settings --------------------------------------------------------------------------------

    def option_fields(self) -> dict:
        text = {"class": "form-control"}
        return {
            "allowed_origins": OriginsField(
                label=gettext_lazy("Sites allowed to embed the chat"),
                help_text=gettext_lazy(
                    "One address a line, e.g. https://www.example.com. The widget answers only "
                    "on these sites. «null» lets a page opened from disk try it out."
                ),
                widget=forms.Textarea(attrs={**text, "rows": 3, "autocomplete": "off"}),
            ),
            "colour": forms.RegexField(
                regex=COLOUR_RE,
                label=gettext_lazy("Colour"),
                initial=DEFAULTS["colour"],
                error_messages={"invalid": gettext_lazy("A colour such as #206bc4.")},
                widget=forms.TextInput(
                    attrs={"type": "color", "class": "form-control form-control-color"}
                ),
            ),
            "greeting": forms.CharField(
                label=gettext_lazy("Greeting"),
                required=False,
                max_length=300,
                help_text=gettext_lazy("The first words the visitor sees. Empty: a standard one."),
                widget=forms.TextInput(attrs=text),
            ),
            "position": forms.ChoiceField(
                label=gettext_lazy("Position on the page"),
                choices=[
                    ("right", gettext_lazy("Bottom right")),
                    ("left", gettext_lazy("Bottom left")),
                ],
                initial="right",
                widget=forms.Select(attrs={"class": "form-select"}),
            ),
            "language": forms.ChoiceField(
                label=gettext_lazy("Language of the widget"),
                choices=[("ru", "Русский"), ("en", "English")],
                initial="ru",
                widget=forms.Select(attrs={"class": "form-select"}),
            ),
            "hours_from": forms.TimeField(
                label=gettext_lazy("Chat staffed from"),
                required=False,
                widget=forms.TimeInput(attrs={**text, "type": "time"}, format="%H:%M"),
            ),
            "hours_to": forms.TimeField(
                label=gettext_lazy("Chat staffed until"),
                required=False,
                help_text=gettext_lazy(
                    "In the workspace's time zone. Outside these hours and days the widget shows "
                    "a form whose requests become leads. Both empty: all day."
                ),
                widget=forms.TimeInput(attrs={**text, "type": "time"}, format="%H:%M"),
            ),
            "work_days": forms.TypedMultipleChoiceField(
                label=gettext_lazy("Working days"),
                coerce=int,
                required=False,
                choices=[
                    (0, gettext_lazy("Mon")),
                    (1, gettext_lazy("Tue")),
                    (2, gettext_lazy("Wed")),
                    (3, gettext_lazy("Thu")),
                    (4, gettext_lazy("Fri")),
                    (5, gettext_lazy("Sat")),
                    (6, gettext_lazy("Sun")),
                ],
                initial=list(DAYS),
                widget=WeekdaysWidget(),
            ),
        }

    def options_initial(self, options: dict) -> dict:
        values = {**DEFAULTS, **options}
        values["allowed_origins"] = "\n".join(values["allowed_origins"])
        return values

    def clean_options(self, values: dict) -> dict:
        values = dict(values)
        for name in ("hours_from", "hours_to"):
            values[name] = values[name].strftime("%H:%M") if values.get(name) else ""
        values["work_days"] = sorted(set(values.get("work_days") or []))
        values["greeting"] = (values.get("greeting") or "").strip()
        values["colour"] = (values.get("colour") or DEFAULTS["colour"]).lower()
        return values


class WeekdaysWidget(forms.CheckboxSelectMultiple):
    """The week's days as a row of checkboxes."""

    template_name = "inbox/settings/_weekdays_widget.html"


class OriginsField(forms.CharField):
    """A list of site origins, one a line; each is checked and normalised."""

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=4000, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        found, bad = [], []
        for line in (value or "").replace(",", "\n").split():
            origin = normalise_origin(line)
            if origin is None:
                bad.append(line)
            elif origin not in found:
                found.append(origin)
        if bad:
            raise ValidationError(
                _("Not a site's address (scheme and host, no path): %(bad)s")
                % {"bad": ", ".join(bad[:3])}
            )
        return found


def settle_contact(channel, visitor: str, details: dict) -> None:
    """After a visitor left a phone or an email: the conversation's client is the contact they
    match (the conversation, its messages, the deal made for the anonymous visitor and the
    visitor's identity move to them), or, matching nobody, the anonymous contact gets them.

    Ingest matched the details already when the conversation is new; this settles the case of a
    visitor who chatted first and introduced themselves later.
    """
    from django.db import transaction

    from voronka.clients.actions import do_update_contact
    from voronka.sales.actions import do_update_deal

    from ..ingest import match_contact
    from ..models import Communication, Conversation, MessengerIdentity

    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .filter(channel=channel, external_id=visitor)
            .select_related("contact", "deal", "deal__owner", "assignee")
            .first()
        )
        if conversation is None or conversation.contact is None:
            return
        current = conversation.contact
        actor = (conversation.deal.owner if conversation.deal else None) or conversation.assignee
        if actor is None:
            return
        found = match_contact(channel, Sender(phone=details["phone"], email=details["email"]))
        if found is None or found.pk == current.pk:
            changes = {}
            if details["phone"] and not current.phone:
                changes["phone"] = details["phone"]
            if details["email"] and not current.email:
                changes["email"] = details["email"]
            if changes:
                do_update_contact(actor, current, **changes)
            return
        conversation.contact = found
        conversation.title = str(found)[:255]
        conversation.save(update_fields=["contact", "title", "updated_at"])
        Communication.objects.filter(conversation=conversation, contact=current).update(
            contact=found
        )
        MessengerIdentity.objects.filter(
            workspace_id=channel.workspace_id, messenger=channel.timeline_channel, contact=current
        ).update(contact=found)
        deal = conversation.deal
        if deal is not None and deal.contact_id == current.pk:
            changes = {"contact": found}
            if deal.company_id is None and found.company_id is not None:
                changes["company"] = found.company
            do_update_deal(actor, deal, **changes)


provider = SiteChatProvider()
