"""RecurringOrderFilterSet: "which recurring orders" for the tab, its API and its export."""

import django_filters
from django.db.models import Q, QuerySet

from ordersight.core.filtering import DateOrDateTimeFilter, IdFilter, ListFilterSet
from ordersight.core.validation import MAX_NUMBER
from ordersight.subscriptions.models import IntervalUnit, RecurringOrder, RecurringStatus


class RecurringOrderFilterSet(ListFilterSet):
    status = django_filters.ChoiceFilter(choices=RecurringStatus.choices)
    customer = IdFilter(field_name="customer_id", label="Customer")
    q = django_filters.CharFilter(method="search", label="Customer name or email contains")
    offer = IdFilter(field_name="offer__number", label="Offer number", limit=MAX_NUMBER)
    currency = django_filters.CharFilter(method="in_currency", label="Currency")
    interval_unit = django_filters.ChoiceFilter(choices=IntervalUnit.choices, label="Every")
    open_ended = django_filters.BooleanFilter(
        field_name="total_payments", lookup_expr="isnull", label="Open-ended"
    )
    next_payment_after = DateOrDateTimeFilter(
        field_name="next_payment_at", lookup_expr="gte", label="Next payment at or after"
    )
    next_payment_before = DateOrDateTimeFilter(
        field_name="next_payment_at", lookup_expr="lt", label="Next payment before"
    )

    class Meta:
        model = RecurringOrder
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(customer__name__icontains=value) | Q(customer__email__icontains=value)
        )

    def in_currency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(currency=value.strip().upper())
