"""Running a FilterSet for any caller (UI, API, export) and turning its errors into `Invalid`."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime, time
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from ordersight.core.errors import Invalid
from ordersight.core.validation import MAX_ID
from ordersight.core.zones import utc_bound

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


class ListFilterSet(django_filters.FilterSet):
    """A FilterSet that builds only the filters the data names, each copied shallowly.

    django-filter deep-copies every filter a FilterSet declares, and its form every field
    again (a currency filter's 180 choices twice), for each request: more time than the
    page's SQL. A filter the data does not name chooses no rows, so building only the
    others changes no answer; and a filter or a field is only read while validating and
    filtering, so a shallow copy (its own `parent` and `model`) is enough.
    """

    def __init__(
        self,
        data: QueryDict | None = None,
        queryset: QuerySet | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
    ) -> None:
        # As django-filter's own, but with the filters the data names, copied shallowly.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, flt in self.base_filters.items():
            if name in self.data:
                own = copy.copy(flt)
                own.model = queryset.model
                own.parent = self
                if own.method is not None:
                    own.method = own.method  # its FilterMethod must call this copy's parent
                self.filters[name] = own

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            fields = {name: flt.field for name, flt in self.filters.items()}
            self._form = _FilterForm(self.data if self.is_bound else None, fields)
        return self._form


class _FilterForm(forms.Form):
    """Validates a request's filter values; never rendered, so its fields (made for this
    request by its filters) are used as they are rather than deep-copied again."""

    def __init__(self, data: QueryDict | None, fields: dict[str, forms.Field]) -> None:
        super().__init__(data)
        self.fields = fields


def reject_unknown_params(
    filterset_class: type[django_filters.FilterSet],
    params: Iterable[str],
    extra: Iterable[str] = LIST_PARAMS,
) -> None:
    known = set(filterset_class.base_filters) | set(extra)
    unknown = sorted(set(params) - known)
    if unknown:
        raise Invalid(
            _("Unknown filter: {names}.").format(names=", ".join(unknown)),
            fields={name: _("unknown filter") for name in unknown},
        )


def apply_filterset(
    filterset_class: type[django_filters.FilterSet],
    filters: Mapping[str, Any],
    queryset: QuerySet,
) -> QuerySet:
    """Filter `queryset`; bad values raise `Invalid` naming each offending filter."""
    filterset = filterset_class(_as_querydict(filters), queryset=queryset)
    if not filterset.filters:
        return queryset  # no filter named: every row
    if not filterset.is_valid():
        fields = {name: " ".join(str(m) for m in msgs) for name, msgs in filterset.errors.items()}
        raise Invalid(
            _("Invalid filter: {names}.").format(names=", ".join(sorted(fields))), fields=fields
        )
    return filterset.qs


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
        return utc_bound(moment)


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
