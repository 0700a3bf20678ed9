"""The channel settings pages (head and owner): channels, their webhook URLs, dead letters."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.accounts.settings_views import settings_page
from voronka.core.errors import DomainError

from . import actions
from .access import access_channel, access_dead_letter, visible_channels, visible_dead_letters
from .channel_forms import ChannelForm, InboxSettingsForm
from .channels import available_kinds, provider_for
from .ingest import inbox_settings
from .models import ChannelKind

DEAD_LETTERS_PER_PAGE = 50


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@settings_page
def channels(request):
    """The connected channels with their webhook URLs, and where new inbound leads go."""
    actor = request.user
    row = inbox_settings(actor.workspace_id)
    form = InboxSettingsForm(
        request.POST or None,
        actor=actor,
        initial={
            "inbound_pipeline": row.inbound_pipeline_id,
            "answer_within_minutes": row.answer_within_minutes,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_inbox_settings(actor, **form.cleaned_data)
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("Saved."))
            return redirect("inbox:settings_channels")
    rows = list(visible_channels(actor).order_by("name", "id"))
    base = _base_url(request)
    for c in rows:
        c.url = actions.webhook_url(c, base)
    open_letters = visible_dead_letters(actor).filter(replayed_at__isnull=True)[:1000].count()
    return render(
        request,
        "inbox/settings/channels.html",
        {
            "channels": rows,
            "kinds": available_kinds(),
            "form": form,
            "open_letters": open_letters,
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@settings_page
def channel_create(request):
    actor = request.user
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    provider = provider_for(kind)
    if provider is None:
        raise Http404
    form = ChannelForm(
        request.POST or None,
        provider=provider,
        initial={"name": ChannelKind(kind).label, "enabled": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            channel = actions.do_create_channel(
                actor,
                kind=kind,
                name=form.cleaned_data["name"],
                credentials=form.credentials(),
                options=form.options(),
            )
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            generated = [
                (f.label, channel.credentials.get(f.name, ""))
                for f in provider.credential_fields
                if f.generated and not form.credentials().get(f.name)
            ]
            for label, value in generated:
                messages.info(
                    request,
                    _("%(label)s: %(value)s — copy it now, it will not be shown again.")
                    % {"label": label, "value": value},
                )
            return redirect("inbox:settings_channel_edit", channel_id=channel.id)
    return render(
        request,
        "inbox/settings/channel_form.html",
        {"form": form, "kind": kind, "kind_label": ChannelKind(kind).label, "provider": provider},
        status=422 if form.is_bound and form.errors else 200,
    )


@settings_page
def channel_edit(request, channel_id: int):
    actor = request.user
    channel = access_channel(actor, channel_id)
    provider = provider_for(channel.kind)
    form = ChannelForm(
        request.POST or None,
        provider=provider,
        channel=channel,
        initial={"name": channel.name, "enabled": channel.enabled},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_channel(
                actor,
                channel,
                name=form.cleaned_data["name"],
                enabled=form.cleaned_data["enabled"],
                credentials={k: v for k, v in form.credentials().items() if v},
                options=form.options(),
            )
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("Saved."))
            return redirect("inbox:settings_channel_edit", channel_id=channel.id)
    return render(
        request,
        "inbox/settings/channel_form.html",
        {
            "form": form,
            "channel": channel,
            "kind": channel.kind,
            "kind_label": channel.get_kind_display(),
            "provider": provider,
            "webhook_url": actions.webhook_url(channel, _base_url(request)),
            "letters": visible_dead_letters(actor)
            .filter(channel=channel, replayed_at__isnull=True)
            .order_by("-received_at", "-id")[:5],
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@settings_page
@require_POST
def channel_register_webhook(request, channel_id: int):
    """Tell the provider (Telegram's setWebhook) to deliver to this channel's URL."""
    channel = access_channel(request.user, channel_id)
    try:
        url = actions.do_register_webhook(request.user, channel, base_url=_base_url(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The provider now delivers to %(url)s.") % {"url": url})
    return redirect("inbox:settings_channel_edit", channel_id=channel.id)


@settings_page
def dead_letters(request):
    """Deliveries that could not be taken in, newest first, each with its reason and a replay."""
    qs = (
        visible_dead_letters(request.user)
        .select_related("channel")
        .defer("body")
        .order_by("-received_at", "-id")
    )
    channel_id = request.GET.get("channel")
    if channel_id:
        qs = qs.filter(channel=access_channel(request.user, channel_id))
    if request.GET.get("all") != "1":
        qs = qs.filter(replayed_at__isnull=True)
    page = Paginator(qs, DEAD_LETTERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "inbox/settings/dead_letters.html",
        {"page": page, "show_all": request.GET.get("all") == "1"},
    )


@settings_page
def dead_letter_detail(request, letter_id: int):
    letter = access_dead_letter(request.user, letter_id)
    return render(request, "inbox/settings/dead_letter.html", {"letter": letter})


@settings_page
@require_POST
def dead_letter_replay(request, letter_id: int):
    letter = access_dead_letter(request.user, letter_id)
    try:
        result = actions.do_replay_dead_letter(request.user, letter)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Replayed: %(stored)s new, %(duplicates)s already there.")
            % {"stored": result.stored, "duplicates": result.duplicates},
        )
    return redirect(reverse("inbox:settings_dead_letters"))
