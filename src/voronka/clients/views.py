"""Pages of this area (being written: every name below is replaced by its real view)."""

from django.http import Http404


def _pending(request, **kwargs):  # replaced view by view while this area is built
    raise Http404


company_list = _pending
company_create = _pending
company_detail = _pending
company_edit = _pending
contact_list = _pending
contact_create = _pending
contact_detail = _pending
contact_edit = _pending
duplicates = _pending
