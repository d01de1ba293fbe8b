"""Orders and invoices draw their numbers from PostgreSQL sequences (see core/sequences.py).

Each sequence continues where its `Sequence` row left off, or starts at the series' first
number (orders 1001, invoices 5001, as the services define them today). Nothing happens on
other databases, which keep using the rows.
"""

from django.db import migrations

# (series, sequence, first number) as of this migration.
SERIES = (("order", "core_order_number", 1001), ("invoice", "core_invoice_number", 5001))


def create_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Sequence = apps.get_model("core", "Sequence")
    with schema_editor.connection.cursor() as cursor:
        for name, sequence, first in SERIES:
            row = Sequence.objects.filter(name=name).first()
            last = row.last_value if row is not None and row.last_value else first - 1
            cursor.execute(f"CREATE SEQUENCE {sequence} AS bigint MINVALUE 1")
            cursor.execute("SELECT setval(%s::regclass, %s)", [sequence, last])


def drop_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Sequence = apps.get_model("core", "Sequence")
    with schema_editor.connection.cursor() as cursor:
        for name, sequence, _ in SERIES:
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            last, called = cursor.fetchone()
            Sequence.objects.update_or_create(
                name=name, defaults={"last_value": last if called else last - 1}
            )
            cursor.execute(f"DROP SEQUENCE {sequence}")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_sequences, drop_sequences)]
