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


# What any endpoint may answer, whatever it does: a body that is not JSON (400), no or bad
# credentials (401), a refusal (403), an unknown object (404), a state that forbids it (409),
# a body over the size limit (413), invalid input (422), too many requests (429).
STANDARD_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429)


def error_responses(*extra_codes: int) -> dict[int, type[ErrorOut]]:
    """The `response=` entries documenting the standard error answers (and `extra_codes`)."""
    return dict.fromkeys(sorted({*STANDARD_ERRORS, *extra_codes}), ErrorOut)
