from django.db import migrations, models

from ordersight.core.schema import AddIndexWithoutLocking


class Migration(migrations.Migration):
    # The index is built concurrently on PostgreSQL, which cannot happen in a transaction.
    atomic = False

    dependencies = [
        ("orders", "0009_orderevent_invoices_adjusted"),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="order",
            index=models.Index(
                condition=models.Q(("external_id__isnull", False)),
                fields=["external_id"],
                name="order_external_id_idx",
            ),
        ),
    ]
