"""Which conversions (the Performance tab, its API and exports) and which sales the all-sales
download holds."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from ordersight.campaigns.models import (
    Approval,
    Campaign,
    CodeKind,
    Conversion,
    ConversionStatus,
    Creator,
    Membership,
)
from ordersight.core.filtering import AnyOfFilter, DateOrDateTimeFilter, IdFilter, ListFilterSet
from ordersight.core.validation import ascii_int, is_id
from ordersight.core.zones import day_bounds
from ordersight.orders.models import Order

MAX_SELECTED = 1000


class IdListField(forms.Field):
    """Selected rows: `?ids=3&ids=5` or `?ids=3,5`, at most 1,000."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int] | None:
        if not value:
            return None
        parts = [p.strip() for item in value for p in str(item).split(",") if p.strip()]
        if not parts:
            return None
        if len(parts) > MAX_SELECTED:
            raise forms.ValidationError(f"select at most {MAX_SELECTED} rows")
        ids = [ascii_int(p) for p in parts]
        if any(i is None or not is_id(i) for i in ids):
            raise forms.ValidationError("conversion ids, e.g. 3,5")
        return ids  # type: ignore[return-value]


class IdListFilter(django_filters.Filter):
    field_class = IdListField
    # What the API schema documents (http.query_schemas.query_schema).
    value_pattern = r"^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8}){0,999}$"

    def filter(self, qs: QuerySet, value: list[int] | None) -> QuerySet:
        return qs if value is None else qs.filter(pk__in=value)


class ConversionFilterSet(ListFilterSet):
    campaign = IdFilter(field_name="campaign_id", label="Campaign id")
    creator = django_filters.CharFilter(method="by_creator", label="Creator handle")
    status = AnyOfFilter(choices=ConversionStatus.choices, label="Status")
    approval = AnyOfFilter(choices=Approval.choices, label="Conversion approval")
    via = AnyOfFilter(choices=CodeKind.choices, label="Tracked by")
    currency = django_filters.CharFilter(method="in_currency", label="Currency")
    ordered_after = DateOrDateTimeFilter(
        field_name="ordered_at", lookup_expr="gte", label="Ordered at or after"
    )
    ordered_before = DateOrDateTimeFilter(
        field_name="ordered_at", lookup_expr="lt", label="Ordered before"
    )
    order = IdFilter(field_name="order__number", label="Order number")
    ids = IdListFilter(label="Selected rows", help_text="Conversion ids, e.g. 3,5")

    class Meta:
        model = Conversion
        fields: list[str] = []

    def by_creator(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(creator__handle=value.strip().lstrip("@").lower())

    def in_currency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(currency=value.strip().upper())


class PerformanceFilterSet(ConversionFilterSet):
    """The Performance tab's: a campaign's conversions by the creators who are its members
    now (a removed creator's sales leave the campaign's views)."""

    campaign = IdFilter(method="by_current_members", label="Campaign id")

    def by_current_members(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        # The members as a list of ids, not a subquery: the planner then walks the campaign's
        # (ordered_at, id) index in order instead of joining every conversion first.
        members = list(
            Membership.objects.filter(campaign_id=value, removed_at__isnull=True).values_list(
                "creator_id", flat=True
            )
        )
        return queryset.filter(campaign_id=value, creator_id__in=members)


class CreatorSaleFilterSet(ListFilterSet):
    """The all-sales download of creators' sales: the days they were placed on, both
    included (the views resolve a preset or from/to into these)."""

    placed_from = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    placed_to = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = Conversion
        fields: list[str] = []


class StoreSaleFilterSet(ListFilterSet):
    """The all-sales download of every sale of the store, by the store's days."""

    placed_from = django_filters.DateFilter(method="placed_on_or_after")
    placed_to = django_filters.DateFilter(method="placed_on_or_before")

    class Meta:
        model = Order
        fields: list[str] = []

    def placed_on_or_after(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(created_at__gte=day_bounds(value, value)[0])

    def placed_on_or_before(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(created_at__lt=day_bounds(value, value)[1])


class CreatorFilterSet(ListFilterSet):
    q = django_filters.CharFilter(method="search", label="Name or handle contains")

    class Meta:
        model = Creator
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        text = value.strip().lstrip("@")
        return queryset.filter(Q(name__icontains=text) | Q(handle__icontains=text.lower()))


class CampaignFilterSet(ListFilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    running_on = django_filters.DateFilter(method="running", label="Running on this day")

    class Meta:
        model = Campaign
        fields: list[str] = []

    def running(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(
            Q(starts_on__lte=value), Q(ends_on__isnull=True) | Q(ends_on__gte=value)
        )
