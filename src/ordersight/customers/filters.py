"""CustomerFilterSet: the one definition of "which customers" for every list and export."""

import django_filters
from django.db.models import Q, QuerySet

from ordersight.core.filtering import DateOrDateTimeFilter, ListFilterSet
from ordersight.customers.models import Customer


class CustomerFilterSet(ListFilterSet):
    q = django_filters.CharFilter(method="search", label="Name, email or phone contains")
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
    tag = django_filters.CharFilter(method="with_tag", label="Has tag")
    external_id = django_filters.CharFilter(method="with_external_id", label="External id")
    source = django_filters.CharFilter(
        field_name="external_ids__source", distinct=True, label="Has an external id from source"
    )
    created_after = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after"
    )
    created_before = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before"
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(phone__icontains=value)
        )

    def with_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(tags__name=value.strip().lower())

    def with_external_id(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(external_ids__external_id=value).distinct()
