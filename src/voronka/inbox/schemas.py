"""The shapes of communications in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from voronka.api.schemas import (
    Id,
    Input,
    Moment,
    Page,
    QueryId,
    QueryMoment,
    Window,
    text,
)

from .models import Channel, CommKind, Direction

KindName = Literal[tuple(CommKind.values)]
DirectionName = Literal[tuple(Direction.values)]
ChannelName = Literal[tuple(["", *Channel.values])]
COMMENT = text(20_000)


class CommunicationOut(Schema):
    id: int
    kind: str
    direction: str = Field(description="in, out, or empty")
    channel: str
    occurred_at: datetime
    duration_seconds: int | None
    comment: str = Field(description="What was discussed and agreed, and what happens next.")
    author_id: int | None
    contact_id: int | None
    deal_id: int | None
    has_recording: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_has_recording(obj) -> bool:
        return bool(obj.recording)


class CommunicationIn(Input):
    kind: KindName
    direction: DirectionName = ""
    channel: ChannelName = ""
    occurred_at: Moment = Field(None, description="Now when omitted; never in the future.")
    duration_seconds: int = Field(None, ge=0, le=2**31 - 1, strict=True)
    comment: COMMENT = ""
    deal_id: Id | None = Field(None, description="A deal, a contact, or both.")
    contact_id: Id | None = Field(None, description="The deal's contact when omitted.")


class CommentIn(Input):
    comment: COMMENT = Field(description="What was discussed and agreed, and what happens next.")


class CommunicationPage(Page):
    items: list[CommunicationOut]


class CommunicationFilters(Window):
    deal_id: QueryId = None
    contact_id: QueryId = None
    author_id: QueryId = None
    kind: KindName = None
    since: QueryMoment = Field(None, description="At or after this moment.")
