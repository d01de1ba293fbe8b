"""Indexes added to big tables do not stop the store's writes (core.schema)."""

from __future__ import annotations

import pytest
from django.db import NotSupportedError, connection, transaction
from django.db.migrations.loader import MigrationLoader

from ordersight.core.schema import AddIndexWithoutLocking

pytestmark = pytest.mark.django_db(transaction=True)
MIGRATION = ("orders", "0008_customer_sale_index")


def _states():
    loader = MigrationLoader(connection)
    (operation,) = loader.get_migration(*MIGRATION).operations
    before = loader.project_state(("orders", "0007_alter_orderevent_kind"), at_end=True)
    return loader.get_migration(*MIGRATION), operation, before, loader.project_state(MIGRATION)


def _sql(operation, before, after, *, forwards: bool = True) -> str:
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        if forwards:
            operation.database_forwards("orders", editor, before, after)
        else:
            operation.database_backwards("orders", editor, after, before)
    return " ".join(editor.collected_sql)


def test_the_first_sale_index_exists_after_migrating_and_its_migration_is_not_atomic():
    migration, operation, _, _ = _states()
    assert isinstance(operation, AddIndexWithoutLocking) and migration.atomic is False
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "orders_order")
    assert found["order_customer_sale_idx"]["columns"] == ["customer_id", "created_at", "id"]


def test_the_index_is_built_and_dropped_concurrently_on_postgres_and_plainly_elsewhere():
    _, operation, before, after = _states()
    create, drop = _sql(operation, before, after), _sql(operation, before, after, forwards=False)
    concurrently = connection.vendor == "postgresql"
    assert ("CREATE INDEX CONCURRENTLY" in create) is concurrently and "CREATE INDEX" in create
    assert ("DROP INDEX CONCURRENTLY" in drop) is concurrently and "DROP INDEX" in drop
    if concurrently:
        # In a transaction PostgreSQL would refuse CONCURRENTLY: say why, up front.
        with pytest.raises(NotSupportedError, match="atomic = False"), transaction.atomic():
            _sql(operation, before, after)
