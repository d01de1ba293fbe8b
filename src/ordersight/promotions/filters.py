"""The promotions lists' filters (codes, redemptions, a segment's members), for their pages,
API and exports."""

import django_filters
from django.db.models import Q, QuerySet

from ordersight.core.filtering import AnyOfFilter, DateOrDateTimeFilter, IdFilter, ListFilterSet
from ordersight.core.validation import normal_code
from ordersight.customers.models import Customer
from ordersight.promotions.models import (
    DiscountCode,
    DiscountKind,
    DiscountTarget,
    Redemption,
    RedemptionStatus,
    Segment,
)
from ordersight.promotions.segments import compile_rules


class DiscountCodeFilterSet(ListFilterSet):
    q = django_filters.CharFilter(method="search", label="Code contains")
    kind = AnyOfFilter(choices=DiscountKind.choices, label="Kind")
    target = AnyOfFilter(choices=DiscountTarget.choices, label="Applies to")
    is_active = django_filters.BooleanFilter(label="Active")
    batch = django_filters.CharFilter(label="Generated in batch")

    class Meta:
        model = DiscountCode
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(code__contains=normal_code(value))


class RedemptionFilterSet(ListFilterSet):
    code = django_filters.CharFilter(method="by_code", label="Discount code")
    status = AnyOfFilter(choices=RedemptionStatus.choices, label="Status")
    customer = IdFilter(field_name="customer_id", label="Customer id")
    redeemed_after = DateOrDateTimeFilter(
        field_name="redeemed_at", lookup_expr="gte", label="Redeemed at or after"
    )
    redeemed_before = DateOrDateTimeFilter(
        field_name="redeemed_at", lookup_expr="lt", label="Redeemed before"
    )

    class Meta:
        model = Redemption
        fields: list[str] = []

    def by_code(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(code__code=normal_code(value)))


class SegmentMemberFilterSet(ListFilterSet):
    """A segment's members: the customers its rules select now. The segment comes from the
    page's or the endpoint's address (the views set it), not from a person's filter."""

    segment = IdFilter(method="by_rules", label="Segment id")

    class Meta:
        model = Customer
        fields: list[str] = []

    def by_rules(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        rules = Segment.objects.filter(pk=value).values_list("rules", flat=True).first()
        if rules is None:
            return queryset.none()
        return queryset.filter(compile_rules(rules).q)


class SegmentFilterSet(ListFilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Segment
        fields: list[str] = []
