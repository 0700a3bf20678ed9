"""Decisions about clients, as plain functions over plain values."""

import re
import zoneinfo
from functools import lru_cache

# Legal forms that do not tell two companies apart: «ООО "Ромашка"» is «Ромашка».
_LEGAL_FORMS = re.compile(
    r"\b(ооо|оао|зао|пао|ао|ип|нко|llc|ltd|inc|gmbh|corp)\b\.?", re.IGNORECASE
)
_NOISE = re.compile(r"[\"'«»“”„.,()\-]+")


def company_name_key(name: str) -> str:
    """The part of a company name that identifies it, for duplicate warnings."""
    key = _LEGAL_FORMS.sub(" ", name or "")
    key = _NOISE.sub(" ", key)
    return " ".join(key.casefold().replace("ё", "е").split())


def normalise_email(raw: str) -> str:
    return (raw or "").strip().lower()


def normalise_handle(raw: str) -> str:
    """A messenger handle without the leading @ and surrounding spaces."""
    return (raw or "").strip().lstrip("@")


@lru_cache(maxsize=1)
def _known_timezones() -> dict[str, str]:
    """The IANA time zone names this machine knows, by their case-folded spelling."""
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def clean_timezone(raw: str | None) -> str | None:
    """A time zone name as stored: spaces trimmed, "" for none (the workspace's), spelled as the
    time zone database does ("europe/moscow" is Europe/Moscow); None when it names no zone."""
    name = (raw or "").strip()
    if not name:
        return ""
    return _known_timezones().get(name.casefold())
