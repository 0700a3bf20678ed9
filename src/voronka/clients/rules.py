"""Decisions about clients, as plain functions over plain values."""

import re

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
