"""Pages of this area (being written: every name below is replaced by its real view)."""

from django.http import Http404


def _pending(request, **kwargs):  # replaced view by view while this area is built
    raise Http404


board = _pending
board_column = _pending
deal_list = _pending
deal_create = _pending
deal_detail = _pending
deal_edit = _pending
deal_move = _pending
