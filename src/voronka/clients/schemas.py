"""The shapes of companies and contacts in the API."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from voronka.api.schemas import Id, Input, Page, QueryId, Window, query_text, text

PHONE = text(40)
NOTES = text(20_000)
TIMEZONE = text(64)
TIMEZONE_OUT = "The client's IANA time zone, e.g. Asia/Vladivostok; empty: the workspace's."
TIMEZONE_IN = (
    "An IANA time zone name, e.g. Asia/Vladivostok (refused with 422 naming `timezone` when "
    "unknown); empty: the workspace's. Meeting reminders reach the client in its working hours."
)


class CompanyOut(Schema):
    id: int
    name: str
    owner_id: int
    segment_id: int | None = Field(description="One of ``GET /segments``; null: none.")
    inn: str
    phone: str = Field(description="E.164, e.g. +79161234567")
    email: str
    website: str
    city: str
    notes: str
    created_at: datetime
    updated_at: datetime


class CompanyIn(Input):
    name: text(255)
    owner_id: Id | None = Field(None, description="The caller when omitted.")
    segment_id: Id | None = Field(None, description="A client segment of the list, not archived.")
    inn: text(12) = ""
    phone: PHONE = Field("", description="Any common notation; stored in E.164.")
    email: text(254) = ""
    website: text(255) = ""
    city: text(120) = ""
    notes: NOTES = ""


class CompanyPatch(Input):
    """Only the fields sent change."""

    name: text(255) = None
    owner_id: Id = None
    segment_id: Id | None = Field(
        None, description="A segment of the list, not archived (the company's own may stay)."
    )
    inn: text(12) = None
    phone: PHONE = None
    email: text(254) = None
    website: text(255) = None
    city: text(120) = None
    notes: NOTES = None


class CompanyPage(Page):
    items: list[CompanyOut]


class CompanyFilters(Window):
    q: query_text(100) = Field(None, description="Part of the name.")
    owner_id: QueryId = None
    segment_id: QueryId = None


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    position: str
    company_id: int | None
    owner_id: int
    phone: str = Field(description="E.164, e.g. +79161234567")
    email: str
    telegram: str
    whatsapp: str = Field(description="E.164")
    timezone: str = Field(description=TIMEZONE_OUT)
    notes: str
    created_at: datetime
    updated_at: datetime


class ContactIn(Input):
    first_name: text(120)
    last_name: text(120) = ""
    position: text(120) = ""
    company_id: Id | None = None
    owner_id: Id | None = Field(None, description="The caller when omitted.")
    phone: PHONE = Field("", description="Any common notation; stored in E.164.")
    email: text(254) = ""
    telegram: text(64) = ""
    whatsapp: PHONE = ""
    timezone: TIMEZONE = Field("", description=TIMEZONE_IN)
    notes: NOTES = ""


class ContactPatch(Input):
    """Only the fields sent change; ``company_id: null`` detaches the contact."""

    first_name: text(120) = None
    last_name: text(120) = None
    position: text(120) = None
    company_id: Id | None = None
    owner_id: Id = None
    phone: PHONE = None
    email: text(254) = None
    telegram: text(64) = None
    whatsapp: PHONE = None
    timezone: TIMEZONE = Field(None, description=TIMEZONE_IN)
    notes: NOTES = None


class ContactPage(Page):
    items: list[ContactOut]


class ContactFilters(Window):
    q: query_text(100) = Field(None, description="Part of the name or email, or a phone.")
    owner_id: QueryId = None
    company_id: QueryId = None


class SegmentOut(Schema):
    id: int
    name: str
    position: int
    is_archived: bool = Field(description="No longer offered; the companies keep it.")


class SegmentPage(Page):
    items: list[SegmentOut]


class SegmentFilters(Window):
    include_archived: bool = False
