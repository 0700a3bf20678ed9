"""Channels and dead letters over the API (head and owner only), under /settings.

Credentials are write-only: a channel comes back with them masked (the last four characters at
most). Everyone else gets 403 ``not_allowed`` before anything is looked up; a channel of another
workspace answers 404. parse → access → action → schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django import forms
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool

from voronka.api.schemas import READ_ERRORS, WRITE_ERRORS, Error, Input, Page, PathId, Window, page
from voronka.api.schemas import text as bounded_text
from voronka.core.errors import Invalid, NotAllowed

from . import actions
from .access import access_channel, access_dead_letter, visible_channels, visible_dead_letters
from .channels import provider_for
from .models import ChannelKind

router = Router(tags=["channels"])

SETTINGS_READ_ERRORS = {**READ_ERRORS, 403: Error}
KindName = Literal[tuple(ChannelKind.values)]
Credentials = dict[bounded_text(64), bounded_text(1000)]


def _configurer(request):
    user = request.auth
    if not user.may_configure:
        raise NotAllowed(_("Only the head of sales and the owner configure channels."))
    return user


class ChannelOut(Schema):
    id: int
    kind: str
    name: str
    enabled: bool
    webhook_url: str = Field(description="Point the provider here; the key in it is a secret.")
    credentials: dict[str, str] = Field(description="Masked: the last four characters at most.")
    options: dict
    created_at: datetime
    updated_at: datetime


class ChannelPage(Page):
    items: list[ChannelOut]


#: A channel's settings that are not secret, by name (those of its kind's settings form, e.g.
#: Mango Office's ``busy_reasons`` and ``line_number``); validated as the settings page does.
Options = dict[bounded_text(64), str | int | bool | list[int] | None]


class ChannelIn(Input):
    kind: KindName
    name: bounded_text(120)
    credentials: Credentials = Field(
        {}, description="Write-only. A webhook secret left out is generated."
    )
    options: Options = Field(
        {},
        description="Settings that are not secret, as on the channel's settings page: "
        "Mango Office's busy_reasons (a list of disconnect_reason codes) and line_number.",
    )


class ChannelPatch(Input):
    """Only the fields sent change; a credential sent replaces it, one left out is kept."""

    name: bounded_text(120) = None
    enabled: StrictBool = None
    credentials: Credentials = None
    options: Options = Field(None, description="Only the settings sent change.")


class DeadLetterOut(Schema):
    id: int
    channel_id: int
    reason: str
    headers: dict
    body: str = Field(description="The delivery as received (UTF-8, invalid bytes replaced).")
    received_at: datetime
    replayed_at: datetime | None


class DeadLetterPage(Page):
    items: list[DeadLetterOut]


class DeadLetterFilters(Window):
    channel_id: int | None = Field(None, ge=1)
    waiting: bool = Field(True, description="Only those not replayed yet.")


class ReplayOut(Schema):
    stored: int
    duplicates: int


def _clean_options(kind: str, raw: dict | None, current: dict) -> dict | None:
    """The options sent, checked by the channel kind's own settings fields (422 naming them)."""
    if raw is None:
        return None
    provider = provider_for(kind)
    fields = provider.option_fields() if provider is not None else {}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise Invalid(
            _("This channel has no such setting."),
            {name: _("Unknown setting.") for name in unknown},
        )
    merged = {**provider.options_initial(current), **raw}
    cleaned, errors = {}, {}
    for name, field in fields.items():
        value = merged.get(name)
        if isinstance(value, bool) and not isinstance(field, forms.BooleanField):
            errors[name] = _("Enter a valid value.")
            continue
        try:
            cleaned[name] = field.clean(value if value is not None else "")
        except forms.ValidationError as exc:
            errors[name] = " ".join(exc.messages)
    if errors:
        raise Invalid(_("Some settings are not valid."), errors)
    return provider.clean_options(cleaned)


def _out(request, channel) -> dict:
    return {
        "id": channel.id,
        "kind": channel.kind,
        "name": channel.name,
        "enabled": channel.enabled,
        "webhook_url": actions.webhook_url(channel, request.build_absolute_uri("/")),
        "credentials": channel.masked_credentials,
        "options": channel.options,
        "created_at": channel.created_at,
        "updated_at": channel.updated_at,
    }


def _letter(letter) -> dict:
    return {
        "id": letter.id,
        "channel_id": letter.channel_id,
        "reason": letter.reason,
        "headers": letter.headers,
        "body": letter.body_text,
        "received_at": letter.received_at,
        "replayed_at": letter.replayed_at,
    }


@router.get("/channels", response={200: ChannelPage, **SETTINGS_READ_ERRORS})
def list_channels(request, window: Query[Window]):
    """The workspace's channels by name, credentials masked."""
    user = _configurer(request)
    result = page(visible_channels(user).order_by("name", "id"), window)
    result["items"] = [_out(request, c) for c in result["items"]]
    return result


@router.post("/channels", response={201: ChannelOut, **WRITE_ERRORS})
def create_channel(request, payload: ChannelIn):
    user = _configurer(request)
    values = payload.model_dump()
    # None sent (or nothing): the kind's defaults, as before options could be sent.
    values["options"] = _clean_options(payload.kind, values.get("options") or None, {})
    channel = actions.do_create_channel(user, **values)
    return Status(201, _out(request, channel))


@router.get("/channels/{channel_id}", response={200: ChannelOut, **SETTINGS_READ_ERRORS})
def get_channel(request, channel_id: PathId):
    user = _configurer(request)
    return _out(request, access_channel(user, channel_id))


@router.patch("/channels/{channel_id}", response={200: ChannelOut, **WRITE_ERRORS})
def update_channel(request, channel_id: PathId, payload: ChannelPatch):
    """Rename, switch off (``enabled: false``; events then get 404) or change credentials."""
    user = _configurer(request)
    channel = access_channel(user, channel_id)
    changes = payload.model_dump(exclude_unset=True)
    if "options" in changes:
        changes["options"] = _clean_options(channel.kind, changes["options"], channel.options)
    return _out(request, actions.do_update_channel(user, channel, **changes))


@router.get("/dead-letters", response={200: DeadLetterPage, **SETTINGS_READ_ERRORS})
def list_dead_letters(request, filters: Query[DeadLetterFilters]):
    """Deliveries that could not be taken in, newest first."""
    user = _configurer(request)
    qs = visible_dead_letters(user)
    if filters.channel_id is not None:
        qs = qs.filter(channel=access_channel(user, filters.channel_id))
    if filters.waiting:
        qs = qs.filter(replayed_at__isnull=True)
    result = page(qs.order_by("-received_at", "-id"), filters)
    result["items"] = [_letter(x) for x in result["items"]]
    return result


@router.post("/dead-letters/{letter_id}/replay", response={200: ReplayOut, **WRITE_ERRORS})
def replay_dead_letter(request, letter_id: PathId):
    """Take the delivery in again; what was already stored is not repeated."""
    user = _configurer(request)
    result = actions.do_replay_dead_letter(user, access_dead_letter(user, letter_id))
    return {"stored": result.stored, "duplicates": result.duplicates}
