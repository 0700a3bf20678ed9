"""Template filters of the daily report: a figure as the report shows it."""

from django import template
from django.template.defaultfilters import floatformat

from voronka.sales.templatetags.sales_format import format_money

register = template.Library()


@register.filter
def figure(value, code: str = "") -> str:
    """An amount with thousands separators for "revenue"; a count with at most one decimal
    (a plan of 12.8 calls a day) for anything else."""
    if value is None:
        return ""
    if code == "revenue":
        return format_money(value)
    return floatformat(value, "-1g")
