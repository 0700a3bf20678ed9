"""``{% review_flag comm %}``: a call's flag for the planning meeting on the deal's timeline."""

from django import template

from ..access import may_flag_for_review
from ..models import ReviewFlag

register = template.Library()

_CACHE = "voronka_review_flags"


def _open_flags(context) -> dict:
    """The open flags of every communication on the timeline, read once per rendering."""
    cache = context.render_context.get(_CACHE)
    if cache is None:
        ids = [
            e.obj.id
            for e in context.get("entries") or []
            if getattr(e, "kind", None) == "communication"
        ]
        flags = ReviewFlag.objects.filter(
            communication_id__in=ids, cleared_at__isnull=True
        ).select_related("flagged_by")
        cache = {f.communication_id: f for f in flags}
        context.render_context[_CACHE] = cache
    return cache


@register.inclusion_tag("activities/_review_flag.html", takes_context=True)
def review_flag(context, comm):
    user = context["request"].user
    flags = _open_flags(context)
    flag = flags.get(comm.id)
    if flag is None and comm.id not in flags:
        # A call rendered outside a timeline's entries: asked for on its own.
        flag = (
            ReviewFlag.objects.filter(communication_id=comm.id, cleared_at__isnull=True)
            .select_related("flagged_by")
            .first()
        )
    return {
        "comm": comm,
        "flag": flag,
        "may_flag": may_flag_for_review(user),
        "csrf_token": context.get("csrf_token"),
    }
