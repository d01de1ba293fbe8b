"""Keyset (cursor) pagination: stable pages that never skip or repeat rows as new ones arrive.

A cursor holds the sort values of the last row of a page. The next page is "rows strictly
after those values" in the same ordering, so the cost of a page does not grow with its depth
and rows inserted meanwhile cannot shift what comes next. The last ordering field must be
unique (the primary key) so that ties are broken the same way every time.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from ordersight.core.errors import Invalid
from ordersight.core.validation import COLUMN_AMOUNT_LIMIT, MAX_ID

T = TypeVar("T", bound=Model)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode(value: Any) -> Any:
    if isinstance(value, date):  # a moment, or a day (a campaign's start)
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(ordering: Sequence[str], values: Sequence[Any]) -> str:
    payload = json.dumps({"o": list(ordering), "v": [_encode(v) for v in values]})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _field(queryset: QuerySet, name: str) -> Any:
    """The model field, or the annotation's output field, that a sort name refers to."""
    if name in queryset.query.annotations:
        return queryset.query.annotations[name].output_field
    return queryset.model._meta.get_field(name)


def decode_cursor(cursor: str, ordering: Sequence[str], queryset: QuerySet) -> list[Any]:
    bad = Invalid(
        _("The cursor is not one this list gave out."), fields={"cursor": _("invalid cursor")}
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(payload, dict) or payload.get("o") != list(ordering):
        raise Invalid(
            _("The cursor belongs to a different sort order; start again without it."),
            fields={"cursor": _("cursor does not match the sort order")},
        )
    values = payload.get("v")
    if not isinstance(values, list) or len(values) != len(ordering):
        raise bad
    decoded = []
    for name, value in zip(ordering, values, strict=True):
        field = _field(queryset, name.lstrip("-"))
        try:
            python = field.to_python(value)
        except (ValidationError, TypeError, ValueError, ArithmeticError):
            raise bad from None
        if not _storable(python):
            raise bad
        decoded.append(python)
    return decoded


def _storable(value: Any) -> bool:
    """A value the database can compare with: never null, no overflowing or NaN numbers."""
    if value is None:
        return False
    if isinstance(value, Decimal):
        return value.is_finite() and abs(value) < COLUMN_AMOUNT_LIMIT
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= MAX_ID
    return True


def _after(ordering: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows that sort strictly after `values`: (a > x) or (a = x and b > y) or ...

    The same bound on the leading column alone (a >= x) is added in front: it says nothing
    new, but it is what lets the database start an index range scan at the cursor instead
    of reading and discarding every row before it (measured in BENCHMARKS.md).
    """
    condition = Q(pk__in=[])
    for i, name in enumerate(ordering):
        field = name.lstrip("-")
        op = "lt" if name.startswith("-") else "gt"
        step = Q(**{f"{field}__{op}": values[i]})
        for prev_name, prev_value in zip(ordering[:i], values[:i], strict=True):
            step &= Q(**{prev_name.lstrip("-"): prev_value})
        condition |= step
    lead = ordering[0]
    lead_op = "lte" if lead.startswith("-") else "gte"
    return Q(**{f"{lead.lstrip('-')}__{lead_op}": values[0]}) & condition


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise Invalid(
            _("limit must be between 1 and {max}.").format(max=MAX_LIMIT),
            fields={"limit": _("must be between 1 and {max}").format(max=MAX_LIMIT)},
        )
    return limit


def paginate(
    queryset: QuerySet[T],
    *,
    ordering: Sequence[str],
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[T]:
    """Return one page of `queryset` in `ordering`, starting after `cursor`."""
    size = clamp_limit(limit)
    if ordering[-1].lstrip("-") not in ("id", "pk"):
        raise ValueError("keyset ordering must end with the primary key")
    qs = queryset.order_by(*ordering)
    if cursor:
        qs = qs.filter(_after(ordering, decode_cursor(cursor, ordering, queryset)))
    rows = list(qs[: size + 1])
    items = rows[:size]
    next_cursor = None
    if len(rows) > size:
        last = items[-1]
        next_cursor = encode_cursor(
            ordering, [getattr(last, name.lstrip("-")) for name in ordering]
        )
    return Page(items=items, next_cursor=next_cursor)
