from django.db import migrations

from ordersight.core.schema import AddTrigramIndex


class Migration(migrations.Migration):
    # The search box looks for part of a SKU (`icontains`): on PostgreSQL this index
    # answers instead of a scan. Built concurrently, which cannot happen in a transaction.
    atomic = False

    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        AddTrigramIndex("variant", "sku", "variant_sku_trgm"),
    ]
