"""Filtering builds only the filters a request names: the same rows and the same refusals
as django-filter's own FilterSet, which builds all of them."""

from __future__ import annotations

from datetime import timedelta

import django_filters
import pytest
from django.http import QueryDict
from django.utils import timezone

from ordersight.core.errors import Invalid
from ordersight.core.filtering import apply_filterset
from ordersight.orders.filters import OrderFilterSet
from ordersight.orders.models import Order
from tests import factories


class EveryFilterBuilt(OrderFilterSet):
    """OrderFilterSet as django-filter runs it: every filter and field deep-copied."""

    __init__ = django_filters.FilterSet.__init__
    form = django_filters.FilterSet.form


def _plain(query: str) -> list[int] | dict[str, list[str]]:
    filterset = EveryFilterBuilt(QueryDict(query), queryset=Order.objects.order_by("pk"))
    if not filterset.is_valid():
        return {name: list(messages) for name, messages in filterset.errors.items()}
    return list(filterset.qs.values_list("pk", flat=True))


def _ours(query: str) -> list[int] | dict[str, list[str]]:
    try:
        rows = apply_filterset(OrderFilterSet, QueryDict(query), Order.objects.order_by("pk"))
    except Invalid as exc:
        return {name: [message] for name, message in exc.fields.items()}
    return list(rows.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=",
        "status=completed",
        "status=completed&status=draft&currency=EUR",
        "currency=USD&q=",
        "q=ada&source=shopify",
        "offer=101&recurring=false",
        "first_sale=true",
        "sales_manager=system&sales_confirmed=false",
        "metadata=channel%3Dweb",
        "customer=&offer=",
        "status=shipped",
        "customer=abc&currency=XYZ",
        "created_after=yesterday",
    ],
)
def test_only_the_given_filters_choose_the_same_rows_and_refusals(catalog, query):
    now = timezone.now()
    ada = factories.CustomerFactory(name="Ada", email="ada@example.com")
    factories.OrderFactory(customer=ada, status="completed", created_at=now - timedelta(days=3))
    factories.OrderFactory(
        customer=ada, status="draft", currency="USD", metadata={"channel": "web"}
    )
    factories.OrderFactory(source="shopify", status="completed")
    plain, ours = _plain(query), _ours(query)
    if isinstance(plain, dict):
        assert isinstance(ours, dict) and ours.keys() == plain.keys()
        assert all(ours[name] == [" ".join(plain[name])] for name in plain)
    else:
        assert ours == plain


def test_a_method_filter_runs_on_the_filterset_of_its_own_request(catalog):
    # Filters are copied shallowly per request: each copy must call its own FilterSet.
    bob = factories.CustomerFactory(name="Bob", email="bob@example.com")
    mine = factories.OrderFactory(customer=bob)
    factories.OrderFactory()
    first = OrderFilterSet(QueryDict("q=bob"), queryset=Order.objects.all())
    second = OrderFilterSet(QueryDict("q=nobody"), queryset=Order.objects.all())
    assert first.filters["q"].parent is first and second.filters["q"].parent is second
    assert list(first.qs) == [mine] and list(second.qs) == []
    assert not hasattr(OrderFilterSet.base_filters["q"], "parent")
