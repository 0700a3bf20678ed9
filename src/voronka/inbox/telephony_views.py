"""Click-to-call and uploading a recording onto a communication."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from voronka.accounts.access import may_write
from voronka.clients.access import access_contact
from voronka.core.errors import DomainError
from voronka.sales.access import access_deal

from .access import access_communication
from .calls import do_place_call, public_base_url
from .recordings import do_attach_recording
from .templatetags.inbox_media import recording as recording_context
from .views import DEAL_CHANGED, _back


def _refused(request, message: str, *, back: str):
    if request.htmx:
        response = HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        response["X-Voronka-Message"] = quote(message)
        return response
    messages.error(request, message)
    return redirect(back)


@login_required
@require_POST
def place_call(request):
    """Call the contact (of the deal) through the workspace's telephony channel."""
    user = request.user
    if not may_write(user):
        raise Http404
    deal = access_deal(user, request.POST["deal"]) if request.POST.get("deal") else None
    if request.POST.get("contact"):
        contact = access_contact(user, request.POST["contact"])
    elif deal is not None and deal.contact_id:
        contact = access_contact(user, deal.contact_id)
    else:
        raise Http404
    back = _back(request, deal=deal, contact=contact)
    try:
        do_place_call(user, contact=contact, deal=deal, base_url=public_base_url(request))
    except DomainError as exc:
        return _refused(request, exc.message, back=back)
    message = _("Calling %(phone)s: pick up your phone.") % {"phone": contact.phone}
    if request.htmx:
        response = HttpResponse(status=204)
        trigger_client_event(response, DEAL_CHANGED)
        return trigger_client_event(
            response, "voronka:toast", {"message": message, "kind": "success"}
        )
    messages.success(request, message)
    return redirect(back)


@login_required
@require_POST
def communication_attach_recording(request, comm_id: int):
    """Upload an audio or video file onto a communication the person may write on."""
    user = request.user
    comm = access_communication(user, comm_id, for_update=True)
    if comm.deal_id:
        access_deal(user, comm.deal_id)
    upload = request.FILES.get("file")
    error = ""
    if upload is None:
        error = _("Choose an audio or video file.")
    else:
        try:
            comm = do_attach_recording(user, comm, upload)
        except DomainError as exc:
            error = exc.fields.get("file") or exc.message
    back = _back(request, deal=comm.deal, contact=comm.contact)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("The recording is attached."))
        return redirect(back)
    ctx = recording_context(
        {"request": request, "recording_error": error, "csrf_token": get_token(request)}, comm
    )
    response = render(request, "inbox/_recording.html", ctx, status=422 if error else 200)
    if not error:
        trigger_client_event(
            response,
            "voronka:toast",
            {"message": _("The recording is attached."), "kind": "success"},
        )
    return response
