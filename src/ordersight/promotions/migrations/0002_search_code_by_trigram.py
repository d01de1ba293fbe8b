from django.db import migrations

from ordersight.core.schema import AddTrigramIndex


class Migration(migrations.Migration):
    # The search box looks for part of a discount code (`icontains`): on PostgreSQL this index
    # answers instead of a scan. Built concurrently, which cannot happen in a transaction.
    atomic = False

    dependencies = [
        ("promotions", "0001_initial"),
    ]

    operations = [
        AddTrigramIndex("discountcode", "code", "discount_code_trgm"),
    ]
