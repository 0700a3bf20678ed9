"""The scheduled jobs' walk over the workspaces, one at a time.

A workspace whose turn fails (bad settings, a mail server that refuses) is logged and skipped, so
it never keeps the workspaces after it from their evaluation, digest or daily reports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from voronka.core.models import Workspace

log = logging.getLogger("voronka.control")

T = TypeVar("T")


def for_each_workspace(fn: Callable[[Workspace], T], what: str) -> list[T]:
    """``fn(workspace)`` for every workspace in id order; the results of those that did not fail.

    ``what`` names the work in the log line of a failure ("the digest" → "the digest of workspace
    7 failed").
    """
    results = []
    for workspace in Workspace.objects.order_by("id"):
        try:
            results.append(fn(workspace))
        except Exception:
            log.exception("%s of workspace %s failed", what, workspace.id)
    return results
