"""Turning the ids a request names into the objects the caller may see."""

from __future__ import annotations

from django.utils.translation import gettext as _

from voronka.core.errors import Invalid


def pick(queryset, field: str, pk: int | None, *, keep=None):
    """The row of ``queryset`` (a ``visible_*`` set) with id ``pk``; None stays None.

    A row the caller may not see is refused exactly like one that does not exist: a 422 naming
    ``field``. ``keep`` is the object the field already points at: naming it again is no change,
    even when the caller could not pick it today (a colleague's company on one's own deal).
    """
    if pk is None:
        return None
    if keep is not None and keep.pk == pk:
        return keep
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Invalid(_("Not found."), {field: _("Not found.")})
    return found
