"""Pages of this area (being written: every name below is replaced by its real view)."""

from django.http import Http404


def _pending(request, **kwargs):  # replaced view by view while this area is built
    raise Http404


communication_create = _pending
communication_comment = _pending
communication_recording = _pending
