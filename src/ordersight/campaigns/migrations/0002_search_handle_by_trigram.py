from django.db import migrations

from ordersight.core.schema import AddTrigramIndex


class Migration(migrations.Migration):
    # The search box looks for part of a creator's handle (`icontains`): on PostgreSQL this index
    # answers instead of a scan. Built concurrently, which cannot happen in a transaction.
    atomic = False

    dependencies = [
        ("campaigns", "0001_initial"),
    ]

    operations = [
        AddTrigramIndex("creator", "handle", "creator_handle_trgm"),
    ]
