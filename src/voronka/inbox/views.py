"""Logging a communication, commenting it, and listening to its recording.

Each write answers an htmx request with its fragment (422 and the errors when refused) and
triggers ``dealChanged`` so that the deal page reloads its timeline; a plain form post is
redirected back to ``next`` (checked to be ours) or to the deal or contact.
"""

import os
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseForbidden,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from voronka.accounts.access import may_write
from voronka.activities.next_step import NextStepForm, plan_posted
from voronka.clients.access import access_contact
from voronka.core.errors import DomainError
from voronka.sales.access import access_deal

from .access import access_communication
from .actions import do_comment_communication, do_log_communication
from .forms import CommentForm, CommunicationForm

#: The event the deal page's live parts reload on.
DEAL_CHANGED = "dealChanged"


def _back(request, *, deal=None, contact=None) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    if deal is not None:
        return reverse("sales:deal_detail", args=[deal.id])
    if contact is not None:
        return reverse("clients:contact_detail", args=[contact.id])
    return reverse("home")


def _changed(response, message: str):
    trigger_client_event(response, DEAL_CHANGED)
    return trigger_client_event(response, "voronka:toast", {"message": message, "kind": "success"})


@login_required
@require_POST
def communication_create(request):
    """Log a call, meeting, message, email or note on a deal or contact the person sees."""
    user = request.user
    if not may_write(user):
        raise Http404
    form = CommunicationForm(request.POST)
    deal = contact = None
    if request.POST.get("deal"):
        deal = access_deal(user, request.POST["deal"], for_update=True)
    if request.POST.get("contact"):
        contact = access_contact(user, request.POST["contact"], for_update=True)
    # The deal's next step, asked for in the same form when it has no open task.
    next_form = NextStepForm.for_request(request.POST, deal, place="comm")
    if form.is_valid():
        try:
            with transaction.atomic():
                do_log_communication(user, deal=deal, contact=contact, **form.action_fields())
                plan_posted(user, deal, next_form)
        except DomainError as exc:
            if next_form is None or not next_form.errors:
                exc.add_to_form(form)
        else:
            message = _("Logged on the timeline.")
            if request.htmx:
                fresh = CommunicationForm(
                    initial={
                        "deal": deal.id if deal else None,
                        "contact": contact.id if contact else None,
                    }
                )
                ctx = {
                    "form": fresh,
                    "next_form": NextStepForm.if_needed(deal, place="comm") if deal else None,
                }
                response = render(request, "inbox/_communication_form.html", ctx)
                return _changed(response, message)
            messages.success(request, message)
            return redirect(_back(request, deal=deal, contact=contact))
    template = "inbox/_communication_form.html" if request.htmx else "inbox/communication_form.html"
    ctx = {
        "form": form,
        "next_form": next_form,
        "deal": deal,
        "contact": contact,
        "back": _back(request, deal=deal, contact=contact),
    }
    return render(request, template, ctx, status=422)


@login_required
@require_POST
def communication_comment(request, comm_id: int):
    """Write or rewrite the comment on a communication: what was discussed and agreed."""
    user = request.user
    comm = access_communication(user, comm_id, for_update=True)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comm = do_comment_communication(user, comm, comment=form.cleaned_data["comment"])
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            message = _("Comment saved.")
            if request.htmx:
                response = render(request, "inbox/_comment.html", {"comm": comm, "writable": True})
                return _changed(response, message)
            messages.success(request, message)
            return redirect(_back(request, deal=comm.deal, contact=comm.contact))
    if request.htmx:
        return render(
            request,
            "inbox/_comment.html",
            {"comm": comm, "writable": True, "form": form, "editing": True},
            status=422,
        )
    ctx = {"comm": comm, "form": form, "back": _back(request, deal=comm.deal, contact=comm.contact)}
    return render(request, "inbox/comment_form.html", ctx, status=422)


@login_required
@require_GET
def communication_recording(request, comm_id: int):
    """The recording, streamed only to someone who may see the communication and its deal, by
    a signed link made for them that has not expired (``recordings.signed_url``)."""
    from .recordings import (
        Unsatisfiable,
        byte_range,
        content_type_of,
        link_is_valid,
        read_range,
    )

    comm = access_communication(request.user, comm_id)
    if comm.deal_id:
        access_deal(request.user, comm.deal_id)
    if not comm.recording:
        raise Http404
    if not link_is_valid(comm, request.user, request.GET.get("t", "")):
        response = HttpResponseForbidden(_("The link has expired: reload the page."))
        response["X-Voronka-Message"] = quote(_("The link has expired: reload the page."))
        return response
    try:
        handle = comm.recording.open("rb")
        size = comm.recording.size
    except (FileNotFoundError, OSError):
        raise Http404 from None
    name = os.path.basename(comm.recording.name)
    content_type = content_type_of(name)
    # The player asks for byte ranges to seek; a request without one gets the whole file.
    try:
        wanted = byte_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    if wanted is None:
        response = FileResponse(handle, content_type=content_type, filename=name)
    else:
        start, end = wanted
        response = StreamingHttpResponse(
            read_range(handle, start, end), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        response["Content-Disposition"] = content_disposition_header(False, name)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=0"
    return response
