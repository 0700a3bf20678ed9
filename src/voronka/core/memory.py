"""The garbage collector and a long-running server process.

Python's collector walks every tracked object on a full pass. In a server most of them are
what it loaded at start (modules, models, URL patterns, templates): they live as long as the
process, yet each full pass walks them again, and a page request that happens to trigger one
waits for it (about 100 ms in a process of a few hundred thousand objects). ``freeze_loaded``
moves everything alive at that moment out of the collector's passes; what requests create
later is collected as usual.
"""

from __future__ import annotations

import gc


def freeze_loaded() -> int:
    """Collect what is garbage now, then leave every object still alive out of later passes;
    returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
