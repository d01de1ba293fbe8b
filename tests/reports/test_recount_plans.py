"""The kept sales at a store's size on PostgreSQL: the recount reads them by index, and a
report names as many customers as they hold."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ordersight.customers.models import CustomerExternalId
from ordersight.reports.definitions import GroupBy
from ordersight.reports.selectors import BreakdownRow, Figures, _label
from ordersight.reports.services import _link_previous_sales
from tests import factories


def _plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        # The test's table is tiny, where a scan of it wins; without scans the planner shows
        # which index serves the statement, as it would at a million kept sales.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        return json.dumps(cursor.fetchone()[0])


@pytest.mark.postgres_only
def test_linking_a_batchs_customers_reads_their_sales_by_index(db):
    with CaptureQueriesContext(connection) as captured:
        _link_previous_sales({11, 12, 13})
    [update] = [q["sql"] for q in captured.captured_queries if "LAG" in q["sql"]]
    plan = _plan_of(update)
    # Their sales from the index, in the window's order: not a scan of every kept sale with
    # the batch's customers tested on each row (1.8 s a batch of 1,000 at 720,000 sales).
    assert "reported_customer_sales" in plan


@pytest.mark.postgres_only
def test_a_report_names_more_customers_than_a_statement_may_have_parameters(db):
    """A year by customer at a million orders has rows for some 200,000 customers: their
    names are read with the ids as one array (a statement holds at most 65,535 parameters
    once PostgreSQL binds them itself)."""
    ada = factories.CustomerFactory(name="Ada")
    CustomerExternalId.objects.create(customer=ada, source="shop", external_id="ADA-9")
    refs = [str(ada.pk), *(str(n) for n in range(10**9, 10**9 + 70_000)), "none"]
    rows = [BreakdownRow(key=r, label=r, currency="EUR", figures=Figures(), ref=r) for r in refs]
    _label(GroupBy.CUSTOMER, rows)
    assert (rows[0].key, rows[0].label) == ("ADA-9", "Ada")
    assert (rows[-1].key, rows[-1].label) == ("none", "No customer")
