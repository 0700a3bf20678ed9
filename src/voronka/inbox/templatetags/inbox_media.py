"""``{% recording comm %}`` (the player, or the upload form) and ``{% call_button contact %}``."""

from django import template

from voronka.accounts.access import may_write

from ..calls import calling_channels
from ..recordings import MEDIA_TYPES, player_kind, signed_url, upload_max_bytes

register = template.Library()

ACCEPT = ",".join(sorted(MEDIA_TYPES)) + ",audio/*,video/*"


@register.inclusion_tag("inbox/_recording.html", takes_context=True)
def recording(context, comm, writable=None):
    """The communication's recording in an audio or video player, by a signed link for the
    person looking; without one, a form to upload a recorded meeting (for those who write)."""
    user = context["request"].user
    if writable is None:
        writable = may_write(user)
    ctx = {"comm": comm, "writable": writable, "csrf_token": context.get("csrf_token")}
    if comm.recording:
        ctx.update(url=signed_url(comm, user), kind=player_kind(comm))
    else:
        ctx.update(accept=ACCEPT, max_mb=upload_max_bytes() // (1024 * 1024))
    ctx["error"] = context.get("recording_error")
    return ctx


@register.inclusion_tag("inbox/_call_button.html", takes_context=True)
def call_button(context, contact, deal=None):
    """A «Call» button when the workspace has a telephony channel and the contact a phone."""
    user = context["request"].user
    show = bool(
        getattr(contact, "phone", "") and may_write(user) and calling_channels(user.workspace_id)
    )
    return {
        "show": show,
        "contact": contact,
        "deal": deal,
        "csrf_token": context.get("csrf_token"),
    }
