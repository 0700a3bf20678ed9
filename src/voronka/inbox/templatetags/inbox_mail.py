"""Email on the pages: ``{% email_body comm %}`` (subject and the sanitised HTML or the text),
``{% email_button deal %}``, ``{% mailbox_panel channel %}`` on the channel's settings page and
``{% failing_channels %}`` on the head's control screen."""

from django import template
from django.utils.safestring import mark_safe

from voronka.accounts.access import may_write

from ..mail.actions import sending_channels
from ..mail.fetching import mailbox_of
from ..mail.sanitise import sanitise_html
from ..models import ChannelKind, Mailbox

register = template.Library()


@register.inclusion_tag("inbox/mail/_email_body.html")
def email_body(comm):
    """An email's subject and body: its HTML made safe, else its text."""
    headers = getattr(comm, "email", None) if comm.kind == "email" else None
    html = sanitise_html(headers.html) if headers is not None and headers.html else ""
    return {"comm": comm, "headers": headers, "html": mark_safe(html)}  # noqa: S308 (sanitised)


@register.inclusion_tag("inbox/mail/_email_button.html", takes_context=True)
def email_button(context, deal):
    user = context["request"].user
    show = may_write(user) and sending_channels(user).exists()
    return {"show": show, "deal": deal}


@register.inclusion_tag("inbox/mail/_mailbox_panel.html", takes_context=True)
def mailbox_panel(context, channel):
    from voronka.accounts.access import assignable_users

    user = context["request"].user
    return {
        "channel": channel,
        "mailbox": mailbox_of(channel),
        "people": assignable_users(user),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("inbox/mail/_failing_channels.html", takes_context=True)
def failing_channels(context):
    """The mailboxes that cannot be read, for the head of sales and the owner."""
    user = context["request"].user
    rows = []
    if user.may_configure:
        rows = list(
            Mailbox.objects.filter(
                workspace_id=user.workspace_id,
                failures__gt=0,
                channel__kind=ChannelKind.EMAIL,
                channel__enabled=True,
            )
            .select_related("channel")
            .order_by("failing_since", "id")[:20]
        )
    return {"mailboxes": rows}
