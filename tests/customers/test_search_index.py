"""On PostgreSQL, a search for part of a customer's name, e-mail or phone number (orders'
`q` and customers' `q`) can read a trigram index instead of every customer."""

from __future__ import annotations

import pytest
from django.db import connection

from ordersight.customers.filters import CustomerFilterSet
from ordersight.customers.models import Customer
from ordersight.orders.filters import OrderFilterSet
from ordersight.orders.models import Order

pytestmark = pytest.mark.postgres_only


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # With sequential scans priced out, the plan shows whether an index can serve the
        # query Django writes (an empty test table would be scanned otherwise).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("term", ["lovel", "ada@exa", "+4477"])
def test_the_customer_search_can_read_the_trigram_indexes(db, term):
    customers = CustomerFilterSet({"q": term}, queryset=Customer.objects.all()).qs
    # Unsorted: walking the primary key backwards is the other way to a sorted page.
    plan = _plan(customers.order_by())
    for index in ("customer_name_trgm", "customer_email_trgm", "customer_phone_trgm"):
        assert index in plan, plan


def test_the_order_search_compares_what_the_indexes_hold(db):
    # Whether the planner walks the orders by date or the matching customers first depends
    # on the data; what must hold is that the order search compares the indexed
    # expressions, so the second way is open to it.
    orders = OrderFilterSet({"q": "lovel"}, queryset=Order.objects.all()).qs
    sql = str(orders.query)
    for column in ("name", "email"):
        assert f'UPPER("customers_customer"."{column}"::text) LIKE UPPER(' in sql, sql
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname IN "
            "('customer_name_trgm', 'customer_email_trgm') ORDER BY indexname"
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert [d.split("USING ")[1] for d in definitions] == [
        "gin (upper((email)::text) gin_trgm_ops)",
        "gin (upper((name)::text) gin_trgm_ops)",
    ]


def test_the_indexes_find_what_a_scan_finds(db):
    from tests import factories

    factories.CustomerFactory(name="Ada Lovelace", email="ada@example.com", phone="+447700")
    factories.CustomerFactory(name="Grace Hopper", email="grace@example.com", phone="+1555")
    for term in ("LOVEL", "ada@EXA", "7700", "ace", "hopper"):
        found = CustomerFilterSet({"q": term}, queryset=Customer.objects.all()).qs
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            names = sorted(found.values_list("name", flat=True))
        expected = sorted(
            c.name
            for c in Customer.objects.all()
            if any(term.upper() in v.upper() for v in (c.name, c.email, c.phone))
        )
        assert names == expected, term
