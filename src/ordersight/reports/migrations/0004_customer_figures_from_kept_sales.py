"""A kept sale carries its units, refunds, fees and funds credited; the report by customer
sums kept sales, and the rollups' customer rows (a row per sale, four times over) go.

The new columns are filled from each kept sale's parts. An install that has sales but no
kept sales yet (its orders came before the reports app) gets its rollups counted here with
today's rebuild, the step 0001 had: a later migration of reports that changes what the
rebuild writes must move this step after it. Going back needs `ordersight reports rebuild`
to write the customer rows again.
"""

from decimal import Decimal

from django.db import migrations, models

_FROM_PARTS = """
UPDATE reports_reportedorder SET
  units = COALESCE((SELECT sum((l ->> 2)::bigint)
                    FROM jsonb_array_elements(parts -> 'lines') AS l), 0),
  refunds = COALESCE((SELECT sum((i ->> 2)::numeric)
                      FROM jsonb_array_elements(parts -> 'invoices') AS i), 0),
  fees = COALESCE((SELECT sum((i ->> 3)::numeric)
                   FROM jsonb_array_elements(parts -> 'invoices') AS i), 0),
  funds_credited = COALESCE((SELECT sum((i ->> 4)::numeric)
                             FROM jsonb_array_elements(parts -> 'invoices') AS i), 0)
"""


def _fill_from_parts(apps, schema_editor):
    ReportedOrder = apps.get_model("reports", "ReportedOrder")
    sales = apps.get_model("orders", "Order").objects.filter(status="completed")
    if not ReportedOrder.objects.exists():
        if sales.exists():
            from ordersight.reports.services import rebuild_rollups

            rebuild_rollups()
        return
    SalesRollup = apps.get_model("reports", "SalesRollup")
    SalesRollup.objects.filter(dimension="customer").delete()
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_FROM_PARTS)
        return
    # Elsewhere (SQLite, one process, a demo's data) through Python's decimals.
    filled = []
    for sale in ReportedOrder.objects.all().iterator(chunk_size=2000):
        invoices = sale.parts.get("invoices", [])
        sale.units = sum(int(line[2]) for line in sale.parts.get("lines", []))
        sale.refunds = sum((Decimal(i[2]) for i in invoices), Decimal(0))
        sale.fees = sum((Decimal(i[3]) for i in invoices), Decimal(0))
        sale.funds_credited = sum((Decimal(i[4]) for i in invoices), Decimal(0))
        filled.append(sale)
    ReportedOrder.objects.bulk_update(
        filled, ["units", "refunds", "fees", "funds_credited"], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [
        # The rebuild below reads today's orders, lines, invoices and customers.
        ("customers", "0002_search_by_trigram"),
        ("orders", "0010_order_external_id_index"),
        ("payments", "0003_stripe_provider"),
        ("reports", "0003_customer_sales_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportedorder",
            name="fees",
            field=models.DecimalField(decimal_places=4, db_default=0, max_digits=18),
        ),
        migrations.AddField(
            model_name="reportedorder",
            name="funds_credited",
            field=models.DecimalField(decimal_places=4, db_default=0, max_digits=18),
        ),
        migrations.AddField(
            model_name="reportedorder",
            name="refunds",
            field=models.DecimalField(decimal_places=4, db_default=0, max_digits=18),
        ),
        migrations.AddField(
            model_name="reportedorder",
            name="units",
            field=models.BigIntegerField(db_default=0),
        ),
        migrations.RunPython(_fill_from_parts, migrations.RunPython.noop, elidable=False),
    ]
