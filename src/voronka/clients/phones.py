"""Phone numbers in E.164, so that "8 (916) 123-45-67" and "+79161234567" are one client."""

import functools

import phonenumbers

DEFAULT_REGION = "RU"


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164, or None when it is not a possible phone number."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return _normalised(raw, region)


@functools.lru_cache(maxsize=8192)
def _normalised(raw: str, region: str) -> str | None:
    """Parsing is the dear part (~0.1 ms), and the same numbers come again and again: the
    company's own lines on every call a PBX reports, a client's number on each of their calls."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """A stored number as people write it: +7 916 123-45-67."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
