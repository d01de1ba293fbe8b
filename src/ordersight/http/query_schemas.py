"""The query parameters of an API list as a pydantic model, made from the list's FilterSet, so
that OpenAPI documents every filter and a request the schema admits is one the list accepts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import django_filters
from pydantic import BaseModel, Field, WithJsonSchema, create_model

from ordersight.core.filtering import DateOrDateTimeFilter
from ordersight.core.keyset import MAX_LIMIT
from ordersight.core.validation import MAX_ID


def query_schema(
    filterset_class: type[django_filters.FilterSet],
    name: str,
    *,
    keyset: bool = True,
    sorts: Iterable[str] | None = None,
    documented_choices: Mapping[str, Iterable[str]] | None = None,
) -> type[BaseModel]:
    """A pydantic model of the FilterSet's parameters, so OpenAPI documents every filter.

    The values are validated by the FilterSet itself; the model says exactly what it takes
    (choices as enums, ids and limits with their bounds, dates as dates, `sort` as one of
    `sorts` when the list sorts), so a request the schema admits is one the list accepts.
    Filters whose choices are the account's own (in the database) document
    `documented_choices`.
    """
    fields: dict[str, Any] = {}
    if keyset:
        fields["cursor"] = (
            str | None,
            Field(default=None, description="next_cursor of a page", pattern=CURSOR_PATTERN),
        )
        fields["limit"] = (
            int | None,
            Field(default=None, ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}, default 50"),
        )
    if keyset and sorts is not None:
        keys = sorted(sorts)
        sort_type = Annotated[
            str, WithJsonSchema({"type": "string", "enum": keys + [f"-{key}" for key in keys]})
        ]
        fields["sort"] = (sort_type | None, Field(default=None, description="e.g. -created_at"))
    for filter_name, flt in filterset_class.base_filters.items():
        description = str(flt.extra.get("help_text") or flt.label or "")
        annotation = _filter_type(flt, (documented_choices or {}).get(filter_name))
        fields[filter_name] = (annotation | None, Field(default=None, description=description))
    return create_model(name, **fields)


# What a cursor this API hands out looks like (URL-safe base64, unpadded); any other text
# is not a cursor. A cursor of this shape that the list did not give out is still refused.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"


def _filter_type(flt: django_filters.Filter, documented: Iterable[str] | None) -> Any:
    """The type of one filter's value as the schema states it, as precise as the filter's
    own form field; the FilterSet still reads the value, and names the filter if it is bad."""
    many = isinstance(flt, django_filters.MultipleChoiceFilter)
    if isinstance(flt, django_filters.ChoiceFilter | django_filters.MultipleChoiceFilter):
        values = documented if documented is not None else (v for v, _label in flt.extra["choices"])
        schema: dict[str, Any] = {"type": "string", "enum": list(values)}
    elif isinstance(flt, django_filters.BooleanFilter):
        schema = {"type": "boolean"}
    elif isinstance(flt, django_filters.NumberFilter):
        schema = {
            "type": "integer",
            "minimum": flt.extra.get("min_value", 1),
            "maximum": flt.extra.get("max_value", MAX_ID),
        }
    elif isinstance(flt, DateOrDateTimeFilter):
        schema = {"anyOf": [{"type": "string", "format": f} for f in ("date", "date-time")]}
    elif isinstance(flt, django_filters.DateFilter):
        schema = {"type": "string", "format": "date"}
    else:
        schema = {"type": "string", "pattern": getattr(flt, "value_pattern", NO_NUL)}
    one = Annotated[str, WithJsonSchema(schema)]
    return list[one] if many else one


# Text parameters: the NUL character is refused everywhere (http/control_characters.py).
NO_NUL = r"^[^\x00]*$"
