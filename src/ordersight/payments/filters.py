"""InvoiceFilterSet: the one definition of "which payments" for the Payments list and export."""

import django_filters
from django.db.models import QuerySet

from ordersight.core.filtering import AnyOfFilter, DateOrDateTimeFilter, IdFilter, ListFilterSet
from ordersight.core.money import CURRENCY_CODES
from ordersight.payments.models import Invoice, InvoiceStatus


class InvoiceFilterSet(ListFilterSet):
    status = AnyOfFilter(choices=InvoiceStatus.choices)
    payment_system = django_filters.CharFilter(method="by_system", label="Payment system code")
    currency = AnyOfFilter(choices=[(c, c) for c in sorted(CURRENCY_CODES)])
    created_after = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after"
    )
    created_before = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before"
    )
    one_click = django_filters.BooleanFilter(
        field_name="paid_in_one_click", label="Paid in one click"
    )
    order = IdFilter(field_name="order__number", label="Order number")
    customer = IdFilter(field_name="order__customer_id", label="Customer")
    partial = django_filters.BooleanFilter(
        method="by_partial", label="Belongs to an order with several invoices"
    )

    class Meta:
        model = Invoice
        fields: list[str] = []

    def by_system(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(payment_system__code=value)

    def by_partial(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        partial = queryset.filter(installment__gt=1).values("order_id")
        if value:
            return queryset.filter(order_id__in=partial)
        return queryset.exclude(order_id__in=partial)
