"""How the recount reads the kept sales on PostgreSQL: by index, whatever the table's size."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ordersight.reports.services import _link_previous_sales


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
