"""The inbox: every conversation a person may see, one conversation with its reply box, and the
head's message templates.

Live updates are htmx polling, not server-sent events. ``voronka serve`` runs the site's WSGI
application on a pool of threads per process: an open event stream holds a thread for as long
as the tab is open, so a dozen open inboxes would take every thread of the server. A poll is a
short request answered from one small indexed query: the list page sends the fingerprint of
what it shows (ids and change times of its rows), the conversation page the time its
conversation last changed; an unchanged answer is an empty 204 that htmx ignores, a changed one
carries the new fragment and, out of band, the navigation's unread badge. Any number of
application servers answer it the same way, with nothing shared but the database.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, OuterRef, Subquery
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from voronka.accounts.access import may_write, owner_scope, visible_users
from voronka.accounts.settings_views import settings_page
from voronka.clients.access import visible_contacts
from voronka.core.errors import DomainError
from voronka.core.listing import paginate
from voronka.sales.access import visible_deals

from .access import (
    access_attachment,
    access_conversation,
    access_message_template,
    visible_conversations,
    visible_message_templates,
)
from .actions import (
    do_assign_conversation,
    do_close_conversation,
    do_create_message_template,
    do_delete_message_template,
    do_fetch_attachment,
    do_mark_read,
    do_reopen_conversation,
    do_send_reply,
    do_update_message_template,
    handover_candidates,
    template_values,
)
from .models import ChannelConfig, Communication, Conversation, ConversationState
from .rules import PLACEHOLDERS, fill_template

PER_PAGE = 30
#: Messages shown at once in a conversation; older ones are a click away.
MESSAGES_SHOWN = 50
#: The largest file a reply may carry (Telegram bots send up to 50 MB).
MAX_REPLY_FILE = 20 * 1024 * 1024
#: Seconds between polls on the inbox pages.
POLL_SECONDS = 3
BADGE_CAP = 99

STATES = {
    "open": pgettext_lazy("conversations", "Open"),
    "unread": pgettext_lazy("conversations", "Unread"),
    "closed": pgettext_lazy("conversations", "Closed"),
    "all": pgettext_lazy("conversations", "All"),
}


# --- The unread badge ----------------------------------------------------------------------------


def unread_badge(user) -> str:
    """How many open conversations of the person's own wait to be read: "" for none, "99+"
    above the cap. Counted over the person's own rows only (the inbox index), so it is cheap
    enough for every page."""
    if not user.is_authenticated:
        return ""
    n = (
        Conversation.objects.filter(
            workspace_id=user.workspace_id,
            assignee_id=user.id,
            state=ConversationState.OPEN,
            unread_count__gt=0,
        )
        .order_by()[: BADGE_CAP + 1]
        .count()
    )
    if not n:
        return ""
    return f"{BADGE_CAP}+" if n > BADGE_CAP else str(n)


@login_required
@require_GET
def badge(request):
    """The navigation's unread badge, polled by every page."""
    return render(request, "inbox/inbox/_nav_badge.html", {"count": unread_badge(request.user)})


# --- The list ------------------------------------------------------------------------------------


def _choice_id(value) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**63 else None


def _list_query(request):
    """The visible conversations with the page's filters, in the inbox's order, and the filter
    values as chosen."""
    user = request.user
    qs = visible_conversations(user)
    state = request.GET.get("state") or "open"
    if state not in STATES:
        state = "open"
    if state == "open":
        qs = qs.filter(state=ConversationState.OPEN)
    elif state == "closed":
        qs = qs.filter(state=ConversationState.CLOSED)
    elif state == "unread":
        qs = qs.filter(unread_count__gt=0)
    channel = _choice_id(request.GET.get("channel"))
    if channel:
        qs = qs.filter(channel_id=channel)
    manager = _choice_id(request.GET.get("manager"))
    if manager:
        qs = qs.filter(assignee_id=manager)
    qs = qs.order_by(F("last_message_at").desc(nulls_last=True), "-id")
    return qs, {"state": state, "channel": channel, "manager": manager}


def _page_number(request) -> int:
    return _choice_id(request.GET.get("page")) or 1


def _fingerprint(qs, number: int) -> str:
    """What the page shows, in a few bytes: its rows' ids, change times and unread counts."""
    offset = (number - 1) * PER_PAGE
    rows = qs.values_list("id", "updated_at", "unread_count")[offset : offset + PER_PAGE + 1]
    digest = hashlib.sha1(usedforsecurity=False)
    for row in rows:
        digest.update(f"{row[0]}:{row[1].isoformat()}:{row[2]};".encode())
    return digest.hexdigest()[:20]


def _previews(qs):
    last = Communication.objects.filter(conversation=OuterRef("pk")).order_by("-occurred_at", "-id")
    return qs.select_related("channel", "contact", "assignee").annotate(
        last_body=Subquery(last.values("body")[:1]),
        last_direction=Subquery(last.values("direction")[:1]),
        last_kind=Subquery(last.values("kind")[:1]),
        last_files=Subquery(last.values("attachments__name")[:1]),
    )


def _list_context(request) -> dict:
    user = request.user
    qs, chosen = _list_query(request)
    number = _page_number(request)
    page = paginate(_previews(qs), number, per_page=PER_PAGE)
    scope = owner_scope(user)
    managers = visible_users(user).filter(role__in=["owner", "head", "senior", "manager"])
    if scope is not None:
        managers = managers.filter(id__in=scope)
    query = request.GET.copy()
    query.pop("fp", None)
    channels = ChannelConfig.objects.filter(workspace_id=user.workspace_id).order_by("name", "id")
    return {
        "page": page,
        "fingerprint": _fingerprint(qs, page.number),
        "states": STATES,
        "chosen": chosen,
        "channels": channels,
        # For the empty inbox: why it is empty (no channel connected yet, or none enabled).
        "has_enabled_channel": any(c.enabled for c in channels),
        "may_connect_channels": user.may_configure,
        "managers": managers.order_by("first_name", "last_name", "username"),
        "show_manager_filter": scope is None or len(scope) > 1,
        "filtered": bool(chosen["channel"] or chosen["manager"]),
        "poll_query": query.urlencode(),
        "poll_seconds": POLL_SECONDS,
        "may_manage_templates": user.may_configure,
    }


@login_required
@require_GET
def inbox(request):
    """Conversations across every channel, newest first, with unread counts and filters."""
    return render(request, "inbox/inbox/list.html", _list_context(request))


@login_required
@require_GET
def inbox_poll(request):
    """204 while the list page is as shown; otherwise the list again, and the badge."""
    qs, _chosen = _list_query(request)
    if request.GET.get("fp") == _fingerprint(qs, _page_number(request)):
        return HttpResponse(status=204)
    context = _list_context(request)
    context["count"] = unread_badge(request.user)
    return render(request, "inbox/inbox/_list_poll.html", context)


# --- One conversation ----------------------------------------------------------------------------


def _version(conversation) -> str:
    return conversation.updated_at.isoformat()


def _timeline(conversation, *, earlier: bool):
    """The conversation's latest messages with the hand-overs and closes between them, oldest
    first; ``earlier`` says whether older messages are not shown."""
    limit = None if earlier else MESSAGES_SHOWN
    comms = (
        conversation.communications.select_related("author")
        .prefetch_related("attachments")
        .order_by("-occurred_at", "-id")
    )
    if limit:
        comms = list(comms[: limit + 1])
        more = len(comms) > limit
        comms = comms[:limit]
    else:
        comms, more = list(comms), False
    events = conversation.events.select_related("actor", "from_user", "to_user")
    if more and comms:
        events = events.filter(occurred_at__gte=comms[-1].occurred_at)
    items = [("message", c.occurred_at, c.id, c) for c in comms]
    items += [("event", e.occurred_at, e.id, e) for e in events]
    items.sort(key=lambda i: (i[1], i[0] == "message", i[2]))
    return [(kind, obj) for kind, _t, _i, obj in items], more


def _conversation_context(request, conversation, *, reply_text: str = "", reply_error=None):
    user = request.user
    timeline, more = _timeline(conversation, earlier=request.GET.get("earlier") == "1")
    values = template_values(conversation, user)
    templates = [
        {"id": t.id, "name": t.name, "text": fill_template(t.body, values)}
        for t in visible_message_templates(user)
    ]
    return {
        "conversation": conversation,
        "timeline": timeline,
        "has_earlier": more,
        "deal_link": conversation.deal_id
        and visible_deals(user).filter(id=conversation.deal_id).exists(),
        "contact_link": conversation.contact_id
        and visible_contacts(user).filter(id=conversation.contact_id).exists(),
        "may_write": may_write(user),
        "candidates": list(handover_candidates(user, conversation)),
        "templates": templates,
        "reply_text": reply_text,
        "reply_error": reply_error,
        "may_reply": conversation.channel.enabled and may_write(user),
        "version": _version(conversation),
        "poll_seconds": POLL_SECONDS,
        "count": unread_badge(user),
    }


def _read_if_theirs(user, conversation) -> None:
    """Opening a conversation reads it for the one it is assigned to; a head looking in does not
    take the signal away from the manager."""
    if conversation.unread_count and conversation.assignee_id == user.id and may_write(user):
        do_mark_read(user, conversation)


@login_required
@require_GET
def conversation_detail(request, conversation_id: int):
    conversation = access_conversation(request.user, conversation_id)
    _read_if_theirs(request.user, conversation)
    return render(
        request, "inbox/inbox/conversation.html", _conversation_context(request, conversation)
    )


@login_required
@require_GET
def conversation_poll(request, conversation_id: int):
    """204 while the conversation is as shown; otherwise its messages, its side panel and the
    badge. A conversation the person no longer sees (handed away) is a 404 like any other,
    which also sends the open page back to the inbox."""
    user = request.user
    current = visible_conversations(user).filter(id=conversation_id).values("updated_at").first()
    if current is None:
        response = HttpResponse(status=404)
        response["HX-Redirect"] = reverse("inbox:inbox")
        return response
    if request.GET.get("v") == current["updated_at"].isoformat():
        return HttpResponse(status=204)
    conversation = access_conversation(user, conversation_id)
    _read_if_theirs(user, conversation)
    return render(
        request,
        "inbox/inbox/_conversation_poll.html",
        _conversation_context(request, conversation),
    )


def _reply_files(request):
    files = []
    for f in request.FILES.getlist("files")[:5]:
        if f.size > MAX_REPLY_FILE:
            raise DomainError(
                "invalid",
                _("A file is too large: %(name)s.") % {"name": f.name},
                {"files": _("At most 20 MB per file.")},
            )
        files.append((os.path.basename(f.name)[:255], f.read(), f.content_type or ""))
    return files


@login_required
@require_POST
def conversation_reply(request, conversation_id: int):
    """Send the reply through the conversation's own channel. A refusal keeps the text."""
    user = request.user
    conversation = access_conversation(user, conversation_id, for_update=True)
    text = request.POST.get("text", "")
    try:
        do_send_reply(user, conversation, text=text, attachments=_reply_files(request))
    except DomainError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect("inbox:conversation", conversation.id)
        context = _conversation_context(request, conversation, reply_text=text, reply_error=exc)
        return render(request, "inbox/inbox/_reply_box.html", context, status=422)
    if not request.htmx:
        return redirect("inbox:conversation", conversation.id)
    conversation = access_conversation(user, conversation_id)
    return render(
        request, "inbox/inbox/_reply_sent.html", _conversation_context(request, conversation)
    )


@login_required
@require_POST
def conversation_assign(request, conversation_id: int):
    user = request.user
    conversation = access_conversation(user, conversation_id, for_update=True)
    target = visible_users(user).filter(id=_choice_id(request.POST.get("assignee")) or 0).first()
    try:
        conversation = do_assign_conversation(user, conversation, assignee=target)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("inbox:conversation", conversation.id)
    messages.success(
        request, _("The conversation is handed to %(person)s.") % {"person": conversation.assignee}
    )
    if not visible_conversations(user).filter(id=conversation.id).exists():
        return redirect("inbox:inbox")
    return redirect("inbox:conversation", conversation.id)


@login_required
@require_POST
def conversation_state(request, conversation_id: int):
    """Close the conversation, or open it again."""
    user = request.user
    conversation = access_conversation(user, conversation_id, for_update=True)
    action = do_close_conversation if request.POST.get("state") == "closed" else None
    action = action or do_reopen_conversation
    try:
        action(user, conversation)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("inbox:conversation", conversation.id)


@login_required
@require_GET
def attachment_download(request, attachment_id: int):
    """A message's file, for those who may see the message; fetched from the provider once."""
    user = request.user
    attachment = access_attachment(user, attachment_id)
    if not attachment.file:
        try:
            attachment = do_fetch_attachment(user, attachment)
        except DomainError as exc:
            raise Http404(exc.message) from exc
    name = attachment.name or os.path.basename(attachment.file.name)
    content_type = attachment.content_type or mimetypes.guess_type(name)[0]
    inline = (content_type or "").startswith(("image/", "audio/", "video/"))
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=not inline,
        filename=name,
        content_type=content_type or "application/octet-stream",
    )


# --- Message templates ---------------------------------------------------------------------------


def _template_page(request, template=None):
    """The head's ready answers on the settings pages: the list, and a form to add or edit one
    (``form=archive`` takes it out of the reply box or brings it back)."""
    user = request.user
    values = {"name": "", "body": "", "is_active": True}
    if template is not None:
        values = {"name": template.name, "body": template.body, "is_active": template.is_active}
    error = None
    if request.method == "POST":
        try:
            if template is not None and request.POST.get("form") == "archive":
                do_update_message_template(
                    user,
                    template,
                    name=template.name,
                    body=template.body,
                    is_active=not template.is_active,
                )
                if template.is_active:
                    messages.success(request, _("The template is back in the reply box."))
                else:
                    messages.success(request, _("The template is archived."))
                return redirect("inbox:settings_message_templates")
            values = {
                "name": request.POST.get("name", ""),
                "body": request.POST.get("body", ""),
                "is_active": request.POST.get("is_active") == "on",
            }
            if template is None:
                do_create_message_template(user, **values)
                messages.success(request, _("The template is added."))
            else:
                do_update_message_template(user, template, **values)
                messages.success(request, _("The template is saved."))
            return redirect("inbox:settings_message_templates")
        except DomainError as exc:
            error = exc
    return render(
        request,
        "inbox/settings/message_templates.html",
        {
            "templates": visible_message_templates(user, include_unused=True),
            "editing": template,
            "values": values,
            "error": error,
            "placeholders": [f"{{{p}}}" for p in PLACEHOLDERS],
        },
        status=422 if error else 200,
    )


@settings_page
def message_templates(request):
    """The head's ready answers: the list and a form to add one."""
    return _template_page(request)


@settings_page
def message_template_edit(request, template_id: int):
    return _template_page(request, access_message_template(request.user, template_id))


@settings_page
@require_POST
def message_template_delete(request, template_id: int):
    """Delete a template for good (the page asks to confirm first)."""
    template = access_message_template(request.user, template_id)
    try:
        do_delete_message_template(request.user, template)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The template is deleted."))
    return redirect("inbox:settings_message_templates")


#: The pages that light up "Inbox" in the navigation.
INBOX_VIEWS = frozenset(
    f"inbox:{name}"
    for name in (
        "inbox",
        "conversation",
    )
)
