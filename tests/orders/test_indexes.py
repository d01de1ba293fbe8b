"""The order tables carry no index another one already covers (each is written on every
insert), and the foreign keys whose own indexes went are still constraints."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def _foreign_keys(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.conrelid = %s::regclass",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def test_no_order_index_is_the_prefix_of_another():
    for table in ("orders_order", "orders_orderline", "orders_orderevent"):
        definitions = _indexes(table).values()
        columns = [
            d.split(" USING btree (")[1].rstrip(")").replace(" DESC", "")
            for d in definitions
            if " USING btree (" in d and " WHERE " not in d
        ]
        for one in columns:
            for other in columns:
                assert one == other or not other.startswith(one + ","), (table, one, other)
        assert not [d for d in definitions if "pattern_ops" in d], table


def test_the_foreign_keys_whose_indexes_went_are_still_enforced():
    assert {"customer_id", "sales_manager_id"} <= _foreign_keys("orders_order")
    assert "order_id" in _foreign_keys("orders_orderline")
    assert "order_id" in _foreign_keys("orders_orderevent")
