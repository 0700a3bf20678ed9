"""Pages of this area (being written: every name below is replaced by its real view)."""

from django.http import Http404


def _pending(request, **kwargs):  # replaced view by view while this area is built
    raise Http404


pipelines = _pending
pipeline_detail = _pending
stage_reorder = _pending
stage_edit = _pending
stage_delete = _pending
