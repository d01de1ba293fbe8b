"""OrderFilterSet: the one definition of "which orders" for the UI list, the API and exports."""

from __future__ import annotations

import json
import re
from datetime import datetime, time

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ordersight.core.filtering import AnyOfFilter
from ordersight.core.money import CURRENCY_CODES
from ordersight.orders.models import (
    FulfillmentStatus,
    Order,
    OrderLine,
    OrderSource,
    OrderStatus,
    OrderType,
    PaymentStatus,
    RefundStatus,
)

_METADATA_KEY = re.compile(
    r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}(\.[A-Za-z0-9_][A-Za-z0-9_\-]{0,63})*$"
)


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


class MetadataField(forms.Field):
    """`key=value`, where key may be dotted for nested objects (`shipping.country=PL`)."""

    def to_python(self, value: str | None) -> tuple[str, str] | None:
        if value in (None, ""):
            return None
        key, sep, expected = value.partition("=")
        if not sep or not _METADATA_KEY.match(key):
            raise forms.ValidationError("use key=value, with a key of letters, digits, _ - .")
        return key, expected


class MetadataFilter(django_filters.Filter):
    field_class = MetadataField

    def filter(self, qs: QuerySet, value: tuple[str, str] | None) -> QuerySet:
        if value is None:
            return qs
        key, expected = value
        path = "metadata__" + key.replace(".", "__")
        match = Q(**{path: expected})
        # `count=3` should also find the number 3, and `gift=true` the boolean true.
        try:
            literal = json.loads(expected)
        except ValueError:
            literal = None
        if isinstance(literal, bool | int | float) and not isinstance(literal, str):
            match |= Q(**{path: literal})
        return qs.filter(match)


class SalesManagerField(forms.Field):
    def to_python(self, value: str | None) -> int | str | None:
        if value in (None, ""):
            return None
        value = value.strip()
        if value == "system":
            return value
        if value.isdigit():
            return int(value)
        raise forms.ValidationError("use a user id, or 'system' for sales without a manager")


class SalesManagerFilter(django_filters.Filter):
    field_class = SalesManagerField

    def filter(self, qs: QuerySet, value: int | str | None) -> QuerySet:
        if value is None:
            return qs
        if value == "system":
            return qs.filter(sales_manager__isnull=True)
        return qs.filter(sales_manager_id=value)


def _choices(enum: type) -> list[tuple[str, str]]:
    return list(enum.choices)


class OrderFilterSet(django_filters.FilterSet):
    status = AnyOfFilter(choices=_choices(OrderStatus))
    payment_status = AnyOfFilter(choices=_choices(PaymentStatus))
    refund_status = AnyOfFilter(choices=_choices(RefundStatus))
    fulfillment_status = AnyOfFilter(choices=_choices(FulfillmentStatus))
    created_after = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after"
    )
    created_before = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before"
    )
    customer = django_filters.NumberFilter(field_name="customer_id", label="Customer id")
    source = AnyOfFilter(choices=_choices(OrderSource))
    order_type = AnyOfFilter(choices=_choices(OrderType))
    currency = AnyOfFilter(choices=[(c, c) for c in sorted(CURRENCY_CODES)])
    offer = django_filters.NumberFilter(method="with_offer", label="Has a line of offer number")
    category = django_filters.NumberFilter(
        method="with_category", label="Has a line in category number"
    )
    sales_manager = SalesManagerFilter(label="Sales manager user id, or 'system'")
    metadata = MetadataFilter(label="Metadata key=value")
    external_id = django_filters.CharFilter(field_name="external_id", label="External id")
    q = django_filters.CharFilter(method="search", label="Number, customer name or email")

    class Meta:
        model = Order
        fields: list[str] = []

    def with_offer(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        lines = OrderLine.objects.filter(order=OuterRef("pk"), offer_number=value)
        return queryset.filter(Exists(lines))

    def with_category(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        lines = OrderLine.objects.filter(order=OuterRef("pk"), category_number=value)
        return queryset.filter(Exists(lines))

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        match = Q(customer__name__icontains=value) | Q(customer__email__icontains=value)
        if value.lstrip("#").isdigit():
            match |= Q(number=int(value.lstrip("#")))
        return queryset.filter(match)
