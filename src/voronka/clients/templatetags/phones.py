"""Phone numbers in templates: stored in E.164, shown as people write them."""

from django import template

from voronka.clients.phones import display_phone

register = template.Library()


@register.filter(name="phone")
def phone(e164: str) -> str:
    """``{{ contact.phone|phone }}`` → «+7 916 123-45-67»."""
    return display_phone(e164 or "")
