"""Conversations over the API: the inbox's list, a conversation's messages, reading, replying,
handing over, closing and reopening. Parse → access → action → schema, with the inbox's
visibility (``visible_conversations``): what a person cannot see answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db.models import F
from ninja import Query, Router, Schema, Status
from pydantic import Field

from voronka.accounts.access import visible_users
from voronka.api.references import pick
from voronka.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    Input,
    Page,
    PathId,
    QueryId,
    Window,
    page,
    text,
)

from .access import access_conversation, visible_conversations
from .actions import (
    do_assign_conversation,
    do_close_conversation,
    do_mark_read,
    do_reopen_conversation,
    do_send_reply,
)
from .models import ConversationState

router = Router(tags=["conversations"])


class ConversationOut(Schema):
    id: int
    channel_id: int
    channel_kind: str
    channel_name: str
    external_id: str = Field(description="The provider's chat: a Telegram chat id, a phone.")
    title: str
    contact_id: int | None
    deal_id: int | None
    assignee_id: int | None
    state: str = Field(description="open or closed")
    unread_count: int
    last_message_at: datetime | None
    updated_at: datetime

    @staticmethod
    def resolve_channel_kind(obj) -> str:
        return obj.channel.kind

    @staticmethod
    def resolve_channel_name(obj) -> str:
        return obj.channel.name


class ConversationPage(Page):
    items: list[ConversationOut]


class ConversationFilters(Window):
    channel_id: QueryId = None
    assignee_id: QueryId = None
    state: Literal[tuple(ConversationState.values)] = None
    unread: bool = Field(None, description="Only those with unread messages (true).")


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int | None


class MessageOut(Schema):
    id: int
    kind: str
    direction: str = Field(description="in (the client's) or out (ours)")
    body: str
    occurred_at: datetime
    author_id: int | None
    outcome: str
    duration_seconds: int | None
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.all())


class MessagePage(Page):
    items: list[MessageOut]


REPLY_TEXT = text(4096)


class ReplyIn(Input):
    text: REPLY_TEXT = Field(description="Sent through the conversation's own channel.")


class AssignIn(Input):
    assignee_id: Id


def _loaded(qs):
    return qs.select_related("channel")


@router.get("/conversations", response={200: ConversationPage, **READ_ERRORS})
def list_conversations(request, filters: Query[ConversationFilters]):
    """The conversations the caller sees, the latest message first."""
    qs = visible_conversations(request.auth)
    if filters.channel_id is not None:
        qs = qs.filter(channel_id=filters.channel_id)
    if filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.state is not None:
        qs = qs.filter(state=filters.state)
    if filters.unread is True:
        qs = qs.filter(unread_count__gt=0)
    elif filters.unread is False:
        qs = qs.filter(unread_count=0)
    qs = qs.order_by(F("last_message_at").desc(nulls_last=True), "-id")
    return page(_loaded(qs), filters)


@router.get("/conversations/{conversation_id}", response={200: ConversationOut, **READ_ERRORS})
def get_conversation(request, conversation_id: PathId):
    return access_conversation(request.auth, conversation_id)


@router.get("/conversations/{conversation_id}/messages", response={200: MessagePage, **READ_ERRORS})
def list_messages(request, conversation_id: PathId, window: Query[Window]):
    """The conversation's messages and calls, newest first."""
    conversation = access_conversation(request.auth, conversation_id)
    qs = (
        conversation.communications.prefetch_related("attachments")
        .order_by("-occurred_at", "-id")
        .all()
    )
    return page(qs, window)


@router.post(
    "/conversations/{conversation_id}/read", response={200: ConversationOut, **WRITE_ERRORS}
)
def read_conversation(request, conversation_id: PathId):
    """Mark the conversation's messages read: its unread count goes to zero."""
    user = request.auth
    return do_mark_read(user, access_conversation(user, conversation_id))


@router.post("/conversations/{conversation_id}/reply", response={201: MessageOut, **WRITE_ERRORS})
def reply(request, conversation_id: PathId, payload: ReplyIn):
    """Send a message through the conversation's channel; 422 with the provider's reason when
    it refuses (nothing is recorded then)."""
    user = request.auth
    conversation = access_conversation(user, conversation_id)
    return Status(201, do_send_reply(user, conversation, text=payload.text))


@router.post(
    "/conversations/{conversation_id}/assign", response={200: ConversationOut, **WRITE_ERRORS}
)
def assign(request, conversation_id: PathId, payload: AssignIn):
    """Hand the conversation to a colleague (the assignee to their team, a senior within the
    group, the head to anyone)."""
    user = request.auth
    conversation = access_conversation(user, conversation_id)
    target = pick(visible_users(user), "assignee", payload.assignee_id)
    return do_assign_conversation(user, conversation, assignee=target)


@router.post(
    "/conversations/{conversation_id}/close", response={200: ConversationOut, **WRITE_ERRORS}
)
def close(request, conversation_id: PathId):
    user = request.auth
    do_close_conversation(user, access_conversation(user, conversation_id))
    return access_conversation(user, conversation_id)


@router.post(
    "/conversations/{conversation_id}/reopen", response={200: ConversationOut, **WRITE_ERRORS}
)
def reopen(request, conversation_id: PathId):
    user = request.auth
    do_reopen_conversation(user, access_conversation(user, conversation_id))
    return access_conversation(user, conversation_id)
