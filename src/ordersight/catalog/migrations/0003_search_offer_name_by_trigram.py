from django.db import migrations

from ordersight.core.schema import AddTrigramIndex


class Migration(migrations.Migration):
    # The offer pickers look for part of an offer's name (`icontains`): with a catalog of
    # tens of thousands of offers this index answers instead of a scan. Built
    # concurrently, which cannot happen in a transaction.
    atomic = False

    dependencies = [
        ("catalog", "0002_search_sku_by_trigram"),
    ]

    operations = [
        AddTrigramIndex("offer", "name", "offer_name_trgm"),
    ]
