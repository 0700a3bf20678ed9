"""The building blocks every router's schemas share.

Input schemas forbid unknown fields and take ids, texts and flags strictly (``"5"`` is not an
id, ``5`` is not a title), so a client's mistake is a 422 naming the field, never a guess.
Texts refuse NUL characters and unpaired surrogates (PostgreSQL cannot store them); moments
must carry an offset and stay within years the databases and Python's datetime all hold.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Path, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
)

#: The largest id a 64-bit primary key holds; larger numbers cannot name anything.
MAX_ID = 2**63 - 1
#: Offsets beyond this are refused: deep pages over millions of rows are a scan, not a read.
#: Walk large sets with ``updated_since`` and the sort instead.
MAX_OFFSET = 1_000_000
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
FIRST_YEAR, LAST_YEAR = 1900, 2999


def _plain_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode.") from None
    return value


def text(max_length: int):
    """A string in a request body, at most ``max_length`` characters."""
    return Annotated[
        StrictStr, StringConstraints(max_length=max_length), AfterValidator(_plain_text)
    ]


def query_text(max_length: int):
    """A string in the query string, at most ``max_length`` characters."""
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_plain_text)]


def _in_range(value: datetime) -> datetime:
    problem = f"Give a time between the years {FIRST_YEAR} and {LAST_YEAR}."
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved across midnight by its offset
        raise ValueError(problem) from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(problem)
    return value


def _date_in_range(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"Give a date between the years {FIRST_YEAR} and {LAST_YEAR}.")
    return value


_SPACED_OFFSET = re.compile(r"^(\S+) (\d\d:?\d\d)$")


def _restore_plus(value):
    # An unencoded "+03:00" in a query string arrives as " 03:00"; read it as meant.
    if isinstance(value, str):
        return _SPACED_OFFSET.sub(r"\1+\2", value)
    return value


#: A moment: ISO 8601 with an offset (``2025-03-01T10:00:00+03:00``), stored in UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
#: A moment given in the query string.
QueryMoment = Annotated[AwareDatetime, BeforeValidator(_restore_plus), AfterValidator(_in_range)]
Day = Annotated[date, AfterValidator(_date_in_range)]

#: An id in a request body: a JSON integer.
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
#: An id in the query string.
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
#: An id in the path.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]

#: An amount of money: a JSON number or a string ("1500.50"), up to 12 digits before the point.
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False),
    AfterValidator(lambda amount: amount.quantize(Decimal("0.01"))),
]
#: A currency code: three letters (ISO 4217), stored upper-case.
Currency = Annotated[
    StrictStr, StringConstraints(pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)
]


class Input(Schema):
    """A request body: unknown fields are refused and named."""

    model_config = ConfigDict(extra="forbid")


class Error(Schema):
    """A refusal: a code a program can branch on, a message for a person, the fields at fault."""

    code: str
    message: str
    fields: dict[str, str]


class Window(Schema):
    """Which slice of a list to return."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class Page(Schema):
    """A slice of a list. ``has_more`` says whether another page follows; nothing is counted."""

    limit: int
    offset: int
    has_more: bool


#: The refusals a read may answer with.
READ_ERRORS = {401: Error, 404: Error, 422: Error}
#: The refusals a write may answer with.
WRITE_ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 422: Error}


def page(queryset, window: Window) -> dict:
    """One slice of an ordered queryset; one row more than asked tells whether more follow."""
    rows = list(queryset[window.offset : window.offset + window.limit + 1])
    return {
        "items": rows[: window.limit],
        "limit": window.limit,
        "offset": window.offset,
        "has_more": len(rows) > window.limit,
    }
