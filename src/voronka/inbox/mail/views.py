"""Email pages: writing to a deal's client, and the mailbox's part of the channel settings."""

from __future__ import annotations

import os

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voronka.accounts.access import assignable_users
from voronka.accounts.settings_views import settings_page
from voronka.core.errors import DomainError
from voronka.core.forms import StyledForm
from voronka.sales.access import access_deal

from ..access import access_channel, visible_message_templates
from ..rules import fill_template
from .actions import (
    do_fetch_mailbox_now,
    do_send_email,
    do_set_mailbox_owner,
    sending_channels,
)

MAX_FILE = 20 * 1024 * 1024


class EmailForm(StyledForm, forms.Form):
    channel = forms.ModelChoiceField(label=gettext_lazy("From"), queryset=None, empty_label=None)
    to = forms.EmailField(label=gettext_lazy("To"))
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=255)
    text = forms.CharField(
        label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 10}), max_length=100_000
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = sending_channels(actor)


def _deal_values(deal, actor) -> dict[str, str]:
    contact = deal.contact
    company = deal.company or (contact.company if contact and contact.company_id else None)
    return {
        "contact_name": " ".join(p for p in (contact.first_name, contact.last_name) if p)
        if contact
        else "",
        "contact_first_name": contact.first_name if contact else "",
        "company_name": company.name if company else "",
        "deal_title": deal.title,
        "manager_name": " ".join(p for p in (actor.first_name, actor.last_name) if p)
        or actor.username,
        "manager_first_name": actor.first_name or actor.username,
    }


def _files(request):
    files = []
    for f in request.FILES.getlist("files")[:5]:
        if f.size > MAX_FILE:
            raise DomainError(
                "invalid",
                _("A file is too large: %(name)s.") % {"name": f.name},
                {"text": _("At most 20 MB per file.")},
            )
        files.append((os.path.basename(f.name)[:255], f.read(), f.content_type or ""))
    return files


@login_required
def deal_email(request, deal_id: int):
    """Write a new email to the deal's client from a mailbox the person may write from."""
    user = request.user
    deal = access_deal(user, deal_id)
    contact_email = deal.contact.email if deal.contact_id else ""
    form = EmailForm(
        request.POST or None,
        actor=user,
        initial={"to": contact_email, "channel": sending_channels(user).first()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            do_send_email(
                user,
                deal,
                channel=form.cleaned_data["channel"],
                to=form.cleaned_data["to"],
                subject=form.cleaned_data["subject"],
                text=form.cleaned_data["text"],
                attachments=_files(request),
            )
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("The email is sent."))
            return redirect("sales:deal_detail", deal.id)
    values = _deal_values(deal, user)
    templates = [
        {"id": t.id, "name": t.name, "text": fill_template(t.body, values)}
        for t in visible_message_templates(user)
    ]
    return render(
        request,
        "inbox/mail/compose.html",
        {"deal": deal, "form": form, "templates": templates},
        status=422 if form.is_bound and form.errors else 200,
    )


@settings_page
@require_POST
def mailbox_owner(request, channel_id: int):
    channel = access_channel(request.user, channel_id)
    owner_id = request.POST.get("owner") or ""
    owner = None
    if owner_id.isdigit():
        owner = assignable_users(request.user).filter(id=int(owner_id)).first()
    try:
        do_set_mailbox_owner(request.user, channel, owner=owner)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved."))
    return redirect("inbox:settings_channel_edit", channel_id=channel.id)


@settings_page
@require_POST
def mailbox_fetch(request, channel_id: int):
    channel = access_channel(request.user, channel_id)
    try:
        result = do_fetch_mailbox_now(request.user, channel)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if result.error:
            messages.error(request, result.error)
        else:
            messages.success(
                request, _("The mailbox is read: %(n)s new emails.") % {"n": result.taken}
            )
    return redirect("inbox:settings_channel_edit", channel_id=channel.id)
