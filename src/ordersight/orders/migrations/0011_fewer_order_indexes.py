"""Drop indexes that a composite index already covers, and the LIKE twins of the code
indexes (codes are matched whole). Every index is written on every insert.

The state changes as Django's own operations would make it; the database is changed by
hand, so a store with millions of orders keeps taking orders meanwhile: Django's AlterField
would drop and re-add each foreign key constraint (checking every row again) and rebuild the
orders table on SQLite, and AddIndex would block writes while it builds. On PostgreSQL the
plain code indexes are renamed (instant) and the rest dropped CONCURRENTLY.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (index, table, column): the foreign keys' own indexes, as 0001 named them.
FOREIGN_KEY_INDEXES = (
    ("orders_order_customer_id_0b76f6a4", "orders_order", "customer_id"),
    ("orders_order_sales_manager_id_acc32250", "orders_order", "sales_manager_id"),
    ("orders_orderevent_order_id_b26297f3", "orders_orderevent", "order_id"),
    ("orders_orderline_order_id_17f8f3ef", "orders_orderline", "order_id"),
)
# (old index, new index, column) of the codes.
CODE_INDEXES = (
    ("orders_order_coupon_code_3b435141", "order_coupon_code_idx", "coupon_code"),
    ("orders_order_referral_code_49def41e", "order_referral_code_idx", "referral_code"),
)


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    concurrently = "CONCURRENTLY " if postgres else ""
    statements = []
    for old, new, column in CODE_INDEXES:
        if postgres:
            statements += [
                f'ALTER INDEX IF EXISTS "{old}" RENAME TO "{new}"',
                f'DROP INDEX CONCURRENTLY IF EXISTS "{old}_like"',
            ]
        else:
            statements += [
                f'DROP INDEX IF EXISTS "{old}"',
                f'CREATE INDEX "{new}" ON "orders_order" ("{column}")',
            ]
    statements += [f'DROP INDEX {concurrently}IF EXISTS "{i}"' for i, _, _ in FOREIGN_KEY_INDEXES]
    _run(schema_editor, statements)


def backwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    concurrently = "CONCURRENTLY " if postgres else ""
    statements = []
    for old, new, column in CODE_INDEXES:
        if postgres:
            statements += [
                f'ALTER INDEX IF EXISTS "{new}" RENAME TO "{old}"',
                f'CREATE INDEX CONCURRENTLY "{old}_like" ON "orders_order" '
                f'("{column}" varchar_pattern_ops)',
            ]
        else:
            statements += [
                f'DROP INDEX IF EXISTS "{new}"',
                f'CREATE INDEX "{old}" ON "orders_order" ("{column}")',
            ]
    statements += [
        f'CREATE INDEX {concurrently}"{index}" ON "{table}" ("{column}")'
        for index, table, column in FOREIGN_KEY_INDEXES
    ]
    _run(schema_editor, statements)


class Migration(migrations.Migration):
    # CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("customers", "0002_search_by_trigram"),
        ("orders", "0010_order_external_id_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="coupon_code",
                    field=models.CharField(blank=True, db_default="", default="", max_length=64),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="referral_code",
                    field=models.CharField(blank=True, db_default="", default="", max_length=64),
                ),
                migrations.AddIndex(
                    model_name="order",
                    index=models.Index(fields=["coupon_code"], name="order_coupon_code_idx"),
                ),
                migrations.AddIndex(
                    model_name="order",
                    index=models.Index(fields=["referral_code"], name="order_referral_code_idx"),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="customer",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="sales_manager",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="managed_orders",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="orderevent",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="orders.order",
                    ),
                ),
                migrations.AlterField(
                    model_name="orderline",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="orders.order",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
