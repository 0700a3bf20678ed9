"""Template filters for the sales pages: money with thousands separators and its currency."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import get_format
from django.utils.numberformat import format as number_format

register = template.Library()

CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "CNY": "¥", "GBP": "£"}


def format_money(amount, currency: str = "") -> str:
    """``1250000`` and ``RUB`` → ``1 250 000 ₽`` (separators of the active language)."""
    try:
        value = Decimal(amount or 0)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    places = 0 if value == value.to_integral_value() else 2
    text = number_format(
        value,
        get_format("DECIMAL_SEPARATOR"),
        decimal_pos=places,
        grouping=3,
        thousand_sep=get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )
    if not currency:
        return text
    return f"{text}\xa0{CURRENCY_SIGNS.get(currency.upper(), currency.upper())}"


@register.filter
def money(amount, currency=""):
    return format_money(amount, currency)


@register.filter
def duration(seconds) -> str:
    """``205`` → ``3:25``; an hour or more → ``1:02:05``."""
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(max(total, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
