"""SQLite's LIKE folds case for ASCII only; Russian names need it for Cyrillic too.

Django's ``icontains``/``iexact``/``istartswith`` become ``LIKE … ESCAPE '\\'`` on SQLite, so a
Unicode-aware LIKE makes «ромашка» find «Ромашка» there as it does on PostgreSQL.
"""

import re
from functools import lru_cache


@lru_cache(maxsize=512)
def _pattern(pattern: str, escape: str | None) -> re.Pattern:
    out = []
    chars = iter(pattern)
    for ch in chars:
        if escape and ch == escape:
            out.append(re.escape(next(chars, "")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def unicode_like(pattern, value, escape=None):
    if pattern is None or value is None:
        return None
    return _pattern(str(pattern).casefold(), escape).fullmatch(str(value).casefold()) is not None


def install(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("like", 2, unicode_like, deterministic=True)
        connection.connection.create_function("like", 3, unicode_like, deterministic=True)
