"""`field__any=[…]` selects the same rows as `__in`, with one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from ordersight.orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


def test_any_selects_the_rows_in_the_list():
    first, second, other = (factories.OrderFactory() for _ in range(3))
    wanted = [first.pk, second.pk, first.pk]  # repeats are harmless
    assert set(Order.objects.filter(pk__any=wanted).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert list(Order.objects.filter(pk__any=wanted).order_by("pk")) == list(
        Order.objects.filter(pk__in=wanted).order_by("pk")
    )
    assert not Order.objects.filter(pk__any=[]).exists()
    # On relations, by the related row's id.
    assert Order.objects.filter(customer__any=[other.customer_id]).get() == other
    assert Order.objects.filter(customer_id__any={other.customer_id}).get() == other


def test_any_sends_one_parameter_on_postgresql():
    sql, params = Order.objects.filter(pk__any=[1, 2, 3]).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and params == ([1, 2, 3],)
    else:
        assert " IN (" in sql and params == (1, 2, 3)


@pytest.mark.postgres_only
def test_in_with_more_values_than_a_statement_may_hold_still_answers():
    """PostgreSQL binds parameters itself and a statement holds at most 65,535: `__in` with
    a longer list (a year's customers, say) goes as one array there, with the values Django
    prepares for `IN` (strings for numbers, None, instances, repeats)."""
    first, second = factories.OrderFactory(), factories.OrderFactory()
    many = [*range(10**9, 10**9 + 70_000), None, str(first.pk), first.pk]
    assert set(Order.objects.filter(pk__in=many).values_list("pk", flat=True)) == {first.pk}
    customers = [first.customer, *range(10**9, 10**9 + 70_000)]
    assert Order.objects.filter(customer__in=customers).get() == first
    others = [*customers[1:], second.customer_id]
    assert Order.objects.filter(customer_id__in=others).get() == second
    Order.objects.filter(pk=second.pk).update(external_id="store-7")
    texts = [f"store-{n}" for n in range(8, 70_000)] + ["store-7"]
    assert Order.objects.filter(external_id__in=texts).get() == second
    # A short list is left as Django writes it.
    assert " IN (" in str(Order.objects.filter(pk__in=[1, 2]).query)
