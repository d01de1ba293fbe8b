"""Schema pieces shared by every API router."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from ninja import Schema
from pydantic import ConfigDict, Field

from ordersight.core.validation import MAX_ID, MAX_NUMBER

T = TypeVar("T")
# Whole numbers that name rows: refused by name when the column could not hold them.
Id = Annotated[int, Field(gt=0, le=MAX_ID)]
Number = Annotated[int, Field(gt=0, le=MAX_NUMBER)]


class StrictIn(Schema):
    """Input schemas refuse unknown fields, so a misspelt field is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


class PageOut(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, str]


class ErrorOut(Schema):
    error: ErrorDetail


def error_responses(*status_codes: int) -> dict[int, type[ErrorOut]]:
    """The `response=` entries documenting that an endpoint answers these codes with errors."""
    return dict.fromkeys(status_codes, ErrorOut)
