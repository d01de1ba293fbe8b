"""Running a FilterSet for any caller (UI, API, export) and turning its errors into `Invalid`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pydantic import BaseModel, Field, create_model

from ordersight.core.errors import Invalid
from ordersight.core.validation import MAX_ID

# Query parameters that steer the list itself rather than choosing rows.
LIST_PARAMS = frozenset({"cursor", "limit", "sort"})


class AnyOfFilter(django_filters.MultipleChoiceFilter):
    """`?status=open&status=draft`: rows whose column is any of the values.

    django-filter adds DISTINCT to every multiple-choice filter in case it spans a join;
    on a column of the row itself that only costs a sort of the whole result, so here
    it is off.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


def _as_querydict(filters: Mapping[str, Any]) -> QueryDict:
    if isinstance(filters, QueryDict):
        return filters
    data = QueryDict(mutable=True)
    for key, value in filters.items():
        if isinstance(value, list | tuple):
            data.setlist(key, [str(v) for v in value])
        elif value is not None:
            data[key] = str(value)
    return data


def reject_unknown_params(
    filterset_class: type[django_filters.FilterSet],
    params: Iterable[str],
    extra: Iterable[str] = LIST_PARAMS,
) -> None:
    known = set(filterset_class.base_filters) | set(extra)
    unknown = sorted(set(params) - known)
    if unknown:
        raise Invalid(
            f"Unknown filter: {', '.join(unknown)}.",
            fields={name: "unknown filter" for name in unknown},
        )


def apply_filterset(
    filterset_class: type[django_filters.FilterSet],
    filters: Mapping[str, Any],
    queryset: QuerySet,
) -> QuerySet:
    """Filter `queryset`; bad values raise `Invalid` naming each offending filter."""
    filterset = filterset_class(_as_querydict(filters), queryset=queryset)
    if not filterset.is_valid():
        fields = {name: " ".join(str(m) for m in msgs) for name, msgs in filterset.errors.items()}
        raise Invalid(f"Invalid filter: {', '.join(sorted(fields))}.", fields=fields)
    return filterset.qs


def query_schema(
    filterset_class: type[django_filters.FilterSet], name: str, *, keyset: bool = True
) -> type[BaseModel]:
    """A pydantic model of the FilterSet's parameters, so OpenAPI documents every filter.

    Only the documentation comes from here: values are validated by the FilterSet itself.
    """
    fields: dict[str, Any] = {}
    if keyset:
        fields["cursor"] = (str | None, Field(default=None, description="next_cursor of a page"))
        fields["limit"] = (int | None, Field(default=None, description="1 to 500, default 50"))
        fields["sort"] = (str | None, Field(default=None, description="e.g. -created_at"))
    for filter_name, flt in filterset_class.base_filters.items():
        many = isinstance(flt, django_filters.MultipleChoiceFilter)
        annotation = list[str] | None if many else str | None
        description = str(flt.extra.get("help_text") or flt.label or "")
        fields[filter_name] = (annotation, Field(default=None, description=description))
    return create_model(name, **fields)


class DateOrDateTimeField(forms.Field):
    """Accepts 2026-11-01 (start of that day, in the site's time zone) or a full ISO time."""

    def to_python(self, value: str | None) -> datetime | None:
        if value in (None, ""):
            return None
        value = value.strip()
        try:
            moment = parse_datetime(value)
            if moment is None:
                day = parse_date(value)
                if day is None:
                    raise ValueError
                moment = datetime.combine(day, time.min)
        except ValueError:
            raise forms.ValidationError("use a date (2026-11-01) or an ISO 8601 time") from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField


class IdFilter(django_filters.NumberFilter):
    """A row id or number: a whole number from 1 to what the column holds, or the filter
    is refused by name (a huge number would otherwise overflow in the database)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, limit: int = MAX_ID, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", limit)
        super().__init__(*args, **kwargs)
