"""OrderFilterSet: the one definition of "which orders" for the UI list, the API and exports."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef, Q, QuerySet

from ordersight.core.filtering import AnyOfFilter, DateOrDateTimeFilter, IdFilter, ListFilterSet
from ordersight.core.money import CURRENCY_CODES
from ordersight.core.validation import MAX_ID, MAX_NUMBER, ascii_int, is_id, normal_code
from ordersight.orders.choices import order_type_choices, source_choices
from ordersight.orders.models import (
    FulfillmentStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderType,
    PaymentStatus,
    RefundStatus,
)

_METADATA_KEY = re.compile(
    r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}(\.[A-Za-z0-9_][A-Za-z0-9_\-]{0,63})*$"
)


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
    # What the API schema documents (http.query_schemas.query_schema).
    value_pattern = _METADATA_KEY.pattern[:-1] + r"=[^\x00]*$"

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
        finite = not isinstance(literal, float) or math.isfinite(literal)
        if isinstance(literal, bool | int | float) and finite and abs(literal) <= MAX_ID:
            match |= Q(**{path: literal})
        return qs.filter(match)


class SalesManagerField(forms.Field):
    def to_python(self, value: str | None) -> int | str | None:
        if value in (None, ""):
            return None
        value = value.strip()
        if value == "system":
            return value
        if (number := ascii_int(value)) is not None:
            return number
        raise forms.ValidationError("use a user id, or 'system' for sales without a manager")


class SalesManagerFilter(django_filters.Filter):
    field_class = SalesManagerField
    value_pattern = r"^(system|[1-9][0-9]{0,8})$"

    def filter(self, qs: QuerySet, value: int | str | None) -> QuerySet:
        if value is None:
            return qs
        if value == "system":
            return qs.filter(sales_manager__isnull=True)
        return qs.filter(sales_manager_id=value)


def _choices(enum: type) -> list[tuple[str, str]]:
    return list(enum.choices)


# Which payment system took an order's money is for payments to say, and payments sits above
# orders: it installs the condition when the project starts (`ordersight.apps`), as the
# lifecycle's handlers are installed, rather than orders naming its tables or relations.
PaidThrough = Callable[..., Q]  # paid_through(code=…)
_paid_through: PaidThrough | None = None


def install_paid_through(condition: PaidThrough) -> None:
    """Set how "took money through the payment system with this code" reads as a condition
    on orders."""
    global _paid_through
    _paid_through = condition


def _installed_paid_through() -> PaidThrough:
    if _paid_through is None:
        raise ImproperlyConfigured(
            "The payment system filter of orders is not installed: add 'ordersight' to "
            "INSTALLED_APPS."
        )
    return _paid_through


class OrderFilterSet(ListFilterSet):
    status = AnyOfFilter(choices=_choices(OrderStatus), label="Status")
    payment_status = AnyOfFilter(choices=_choices(PaymentStatus), label="Order payment type")
    refund_status = AnyOfFilter(choices=_choices(RefundStatus), label="Refund")
    fulfillment_status = AnyOfFilter(choices=_choices(FulfillmentStatus), label="Fulfilment")
    created_after = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after"
    )
    created_before = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before"
    )
    customer = IdFilter(field_name="customer_id", label="Customer")
    # Callables: the account's own sources and order types count as soon as they are added.
    source = AnyOfFilter(choices=source_choices, label="Source")
    order_type = AnyOfFilter(choices=order_type_choices, label="Order type")
    currency = AnyOfFilter(choices=[(c, c) for c in sorted(CURRENCY_CODES)], label="Currency")
    recurring = django_filters.BooleanFilter(
        method="of_recurring_orders",
        label="Recurring",
        help_text="true: payments of recurring orders; false: one-off orders",
    )
    offer = IdFilter(
        limit=MAX_NUMBER,
        method="with_offer",
        label="Offer",
        help_text="Has a line of this offer number",
    )
    category = IdFilter(
        limit=MAX_NUMBER,
        method="with_category",
        label="Category",
        help_text="Has a line in this category number",
    )
    sales_manager = SalesManagerFilter(
        label="Sales manager", help_text="A user id, or 'system' for sales without a manager"
    )
    sales_confirmed = django_filters.BooleanFilter(
        field_name="sales_confirmed_at",
        lookup_expr="isnull",
        exclude=True,
        label="Sale confirmed",
        help_text="true: the sales attribution was confirmed; false: it awaits confirmation",
    )
    payment_system = django_filters.CharFilter(
        method="paid_through",
        label="Payment system",
        help_text="Took money through this payment system (its code)",
    )
    first_sale = django_filters.BooleanFilter(
        method="customer_first_sale",
        label="Customer's first sale",
        help_text="true: the customer's first completed order (a new customer)",
    )
    customer_bought_before = DateOrDateTimeFilter(
        method="customer_bought_before_filter",
        label="Customer bought before",
        help_text="The customer has a completed order placed before this time (returning)",
    )
    metadata = MetadataFilter(label="Metadata (key=value)")
    external_id = django_filters.CharFilter(field_name="external_id", label="External id")
    coupon_code = django_filters.CharFilter(method="with_code", label="Coupon code")
    referral_code = django_filters.CharFilter(
        method="with_code", label="Referral code", help_text="The affiliate link code (ref)"
    )
    q = django_filters.CharFilter(
        method="search", label="Search", help_text="Order number, customer name or email"
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def of_recurring_orders(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        # Billing makes every order of a recurring order (the initial one too) of this type.
        if value:
            return queryset.filter(order_type=OrderType.RECURRING)
        return queryset.exclude(order_type=OrderType.RECURRING)

    def with_offer(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        lines = OrderLine.objects.filter(order=OuterRef("pk"), offer_number=value)
        return queryset.filter(Exists(lines))

    def with_category(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        lines = OrderLine.objects.filter(order=OuterRef("pk"), category_number=value)
        return queryset.filter(Exists(lines))

    def paid_through(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(_installed_paid_through()(code=value.strip()))

    def customer_first_sale(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        # An earlier sale of the same customer (placed before, or at the same time with a
        # lower id): the same order as the reports' definition of a first sale.
        earlier = Order.objects.filter(
            customer=OuterRef("customer"), status=OrderStatus.COMPLETED
        ).filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
        )
        first = Q(status=OrderStatus.COMPLETED, customer__isnull=False) & ~Exists(earlier)
        return queryset.filter(first if value else ~first)

    def customer_bought_before_filter(
        self, queryset: QuerySet, name: str, value: datetime | None
    ) -> QuerySet:
        if value is None:
            return queryset
        earlier = Order.objects.filter(
            customer=OuterRef("customer"), status=OrderStatus.COMPLETED, created_at__lt=value
        )
        return queryset.filter(Exists(earlier))

    def with_code(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{name: normal_code(value)})

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        match = Q(customer__name__icontains=value) | Q(customer__email__icontains=value)
        if is_id(number := ascii_int(value.lstrip("#"))):
            match |= Q(number=number)
        return queryset.filter(match)
