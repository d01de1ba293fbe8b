from django.db import migrations

from ordersight.core.schema import AddTrigramIndex


class Migration(migrations.Migration):
    # Searching orders and customers by part of a name, an e-mail or a phone number
    # (`icontains`) reads these on PostgreSQL instead of every customer. Built concurrently,
    # which cannot happen in a transaction.
    atomic = False

    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        AddTrigramIndex("customer", "name", "customer_name_trgm"),
        AddTrigramIndex("customer", "email", "customer_email_trgm"),
        AddTrigramIndex("customer", "phone", "customer_phone_trgm"),
    ]
