"""Pages of this area (being written: every name below is replaced by its real view)."""

from django.http import Http404


def _pending(request, **kwargs):  # replaced view by view while this area is built
    raise Http404


users = _pending
user_create = _pending
user_edit = _pending
teams = _pending
team_edit = _pending
