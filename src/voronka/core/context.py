"""What every page's frame needs: the navigation for the signed-in person."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        ("sales:board", _("Board")),
        ("activities:my_day", _("My day")),
        ("sales:deal_list", _("Deals")),
        ("clients:company_list", _("Companies")),
        ("clients:contact_list", _("Contacts")),
        ("activities:task_list", _("Tasks")),
        ("inbox:inbox", _("Inbox")),
    ]
    # Pages opened once a day or less wait under «More», so the row fits a 1280 px screen.
    more = []
    if user.role in ("owner", "head", "senior"):
        items.insert(1, ("control:screen", _("Control")))
    if user.role in ("owner", "head", "senior", "manager", "qc"):
        items.append(("planning:fact", _("Plan")))
    if user.role in ("owner", "head", "senior", "manager"):
        items.append(("analytics:funnel", _("Analytics")))
    if user.role in ("owner", "head", "senior"):
        more.append(("control:meeting", _("Planning meeting")))
    if user.role == "manager":  # the others reach it from the control screen
        more.append(("control:daily", _("Daily report")))
    if user.may_configure:
        more.append(("sales:settings_pipelines", _("Settings")))
    if len(more) == 1:  # a menu of one is only an extra click
        items += more
        more = []
    current = request.resolver_match.view_name if request.resolver_match else ""
    nav, nav_more = [], []
    for name, label in items + more:
        url = reverse(name)
        section = name.split(":")[0]
        active = current == name or (
            current.startswith(section + ":")
            and name.endswith(("_list", "board"))
            and current.split(":")[1].split("_")[0] == name.split(":")[1].split("_")[0]
        )
        if name == "sales:settings_pipelines":  # every settings page lights up "Settings"
            active = ":settings_" in current
        if name == "planning:fact":  # every planning page lights up "Plan"
            active = current.startswith("planning:")
        if name == "control:screen":  # and every control page but its settings, "Control"
            active = current.startswith("control:") and ":settings_" not in current
        if name == "control:screen" and current == "control:meeting":  # it has its own item
            active = False
        entry = {"url": url, "label": label, "active": active}
        if name == "inbox:inbox":  # every inbox page lights it; its badge counts the unread
            from voronka.inbox.inbox_views import INBOX_VIEWS, unread_badge

            entry["active"] = current in INBOX_VIEWS
            entry["badge_template"] = "inbox/inbox/_nav_badge.html"
            entry["badge"] = unread_badge(user)
        (nav_more if (name, label) in more else nav).append(entry)
    return {
        "nav_items": nav,
        "nav_more": nav_more,
        "nav_more_active": any(entry["active"] for entry in nav_more),
    }
