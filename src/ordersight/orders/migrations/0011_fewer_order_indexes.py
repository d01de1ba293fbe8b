"""Drop indexes that a composite index already covers, and the LIKE twins of the code
indexes (codes are matched whole). Every index is written on every insert.

The foreign keys' own indexes go by name, leaving their constraints alone: Django's way
(AlterField) drops and re-adds each constraint, which checks every row of the table again.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _drop_fk_index(model: str, field: str, index: str, table: str, column: str, **kw):
    """The field's state without an index; in the database only that index dropped."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(
                model_name=model,
                name=field,
                field=models.ForeignKey(db_index=False, **kw),
            )
        ],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
            )
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_search_by_trigram"),
        ("orders", "0010_order_external_id_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
        _drop_fk_index(
            "order",
            "customer",
            "orders_order_customer_id_0b76f6a4",
            "orders_order",
            "customer_id",
            blank=True,
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="orders",
            to="customers.customer",
        ),
        _drop_fk_index(
            "order",
            "sales_manager",
            "orders_order_sales_manager_id_acc32250",
            "orders_order",
            "sales_manager_id",
            blank=True,
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="managed_orders",
            to=settings.AUTH_USER_MODEL,
        ),
        _drop_fk_index(
            "orderevent",
            "order",
            "orders_orderevent_order_id_b26297f3",
            "orders_orderevent",
            "order_id",
            on_delete=django.db.models.deletion.CASCADE,
            related_name="events",
            to="orders.order",
        ),
        _drop_fk_index(
            "orderline",
            "order",
            "orders_orderline_order_id_17f8f3ef",
            "orders_orderline",
            "order_id",
            on_delete=django.db.models.deletion.CASCADE,
            related_name="lines",
            to="orders.order",
        ),
    ]
