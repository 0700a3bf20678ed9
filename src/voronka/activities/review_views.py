"""Flagging a call for the planning meeting from the deal's timeline, and clearing the flag.

The answer to an htmx post is the flag's fragment (422 with the error when refused); a plain
form post is redirected back to ``next`` (checked to be ours) or to the call's deal.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from voronka.core.errors import DomainError
from voronka.inbox.access import access_communication

from .access import may_flag_for_review
from .actions import do_clear_review_flag, do_flag_for_review
from .models import ReviewFlag

FRAGMENT = "activities/_review_flag.html"


def flag_context(user, comm, flag=None, error: str = "") -> dict:
    if flag is None:
        flag = (
            ReviewFlag.objects.filter(communication_id=comm.id, cleared_at__isnull=True)
            .select_related("flagged_by")
            .first()
        )
    return {"comm": comm, "flag": flag, "may_flag": may_flag_for_review(user), "error": error}


def _back(request, comm) -> str:
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    if comm.deal_id:
        return reverse("sales:deal_detail", args=[comm.deal_id])
    return reverse("control:meeting")


@login_required
@require_POST
def review_flag(request, comm_id: int):
    """Flag the call for the planning meeting with a note (``clear``: take the flag off)."""
    user = request.user
    comm = access_communication(user, comm_id)
    if not may_flag_for_review(user):
        raise Http404
    clearing = bool(request.POST.get("clear"))
    try:
        if clearing:
            do_clear_review_flag(user, comm)
            message = _("The flag is cleared.")
        else:
            do_flag_for_review(user, comm, note=request.POST.get("note", ""))
            message = _("The call is flagged for the planning meeting.")
    except DomainError as exc:
        if request.htmx:
            ctx = flag_context(user, comm, error=str(exc.fields.get("note") or exc))
            return render(request, FRAGMENT, ctx, status=422)
        messages.error(request, str(exc))
        return redirect(_back(request, comm))
    if request.htmx:
        response = render(request, FRAGMENT, flag_context(user, comm))
        return trigger_client_event(
            response, "voronka:toast", {"message": message, "kind": "success"}
        )
    messages.success(request, message)
    return redirect(_back(request, comm))
