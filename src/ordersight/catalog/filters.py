"""Filter sets for catalog lists."""

import django_filters
from django.db.models import Q, QuerySet

from ordersight.catalog.models import Offer, Variant
from ordersight.core.filtering import IdFilter, ListFilterSet
from ordersight.core.money import CURRENCY_CODES
from ordersight.core.validation import MAX_NUMBER

_CURRENCIES = [(c, c) for c in sorted(CURRENCY_CODES)]


class OfferFilterSet(ListFilterSet):
    q = django_filters.CharFilter(method="search", label="Name contains")
    category = IdFilter(field_name="category__number", label="Category number", limit=MAX_NUMBER)
    currency = django_filters.ChoiceFilter(choices=_CURRENCIES)
    is_active = django_filters.BooleanFilter()
    external_id = django_filters.CharFilter(
        field_name="external_ids__external_id", distinct=True, label="External product id"
    )

    class Meta:
        model = Offer
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(name__icontains=value)


class VariantFilterSet(ListFilterSet):
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")
    offer = IdFilter(field_name="offer__number", label="Offer number", limit=MAX_NUMBER)
    external_id = django_filters.CharFilter(
        method="with_external_id", label="External variant or product id"
    )

    class Meta:
        model = Variant
        fields: list[str] = []

    def with_external_id(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(external_ids__external_id=value) | Q(offer__external_ids__external_id=value)
        ).distinct()
