"""`ordersight gendata`: realistic, consistent data, counted into the rollups."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from ordersight.orders.models import Order
from ordersight.payments.models import Invoice, Refund
from tests.reports.conftest import raw_figures, stored_figures


def test_gendata_writes_consistent_orders_and_counts_them(db, capsys):
    call_command("gendata", "--orders", "400", "--offers", "30", "--seed", "3")
    assert "Wrote 400 orders" in capsys.readouterr().out
    orders = Order.objects.all()
    assert orders.count() == 400
    assert {o.currency for o in orders} == {"EUR", "USD", "GBP"}
    statuses = Counter(o.status for o in orders)
    assert statuses["completed"] > 200 and statuses["cancelled"] > 0
    assert len({o.source for o in orders}) >= 3
    for order in orders.filter(status="completed"):
        lines = order.lines.aggregate(t=Sum("total"))["t"]
        assert lines == order.total
        captured = sum(
            i.amount
            for i in Invoice.objects.filter(order=order, status__in=("succeeded", "refunded"))
        )
        assert order.payment_status == ("paid" if captured >= order.total else "partially_paid")
        refunded = sum((r.amount for r in Refund.objects.filter(order=order)), Decimal(0))
        assert refunded == sum(i.refunded_amount for i in order.invoices.all())
    assert Refund.objects.exists()
    assert orders.filter(sales_confirmed_at__isnull=False).exists()
    assert orders.filter(sales_manager__isnull=False, sales_confirmed_at__isnull=True).exists()
    # The history arrived outside the services; the rebuild counted it exactly.
    assert stored_figures() == raw_figures()
    # And the customers' purchase figures (what segments read) were counted too.
    from tests.promotions.conftest import stored_customer_figures
    from tests.promotions.test_figures_property import raw_figures as raw_customer_figures

    assert stored_customer_figures() == raw_customer_figures()
    assert stored_customer_figures()[1]


def test_gendata_refuses_nonsense(db, capsys):
    import pytest

    with pytest.raises(SystemExit):
        call_command("gendata", "--orders", "0")


def test_a_rebuild_in_many_small_batches_gives_the_same_rows(db, monkeypatch):
    from ordersight.reports import services
    from ordersight.reports.models import SalesRollup

    call_command("gendata", "--orders", "300", "--offers", "12", "--seed", "5")

    def rows():
        return sorted(
            SalesRollup.objects.values_list(
                "grain",
                "period",
                "currency",
                "source",
                "order_type",
                "dimension",
                "key",
                "confirmed",
                "orders",
                "units",
                "gross",
                "refunds",
                "fees",
                "funds_credited",
                "new_customers",
            )
        )

    whole = rows()
    # Each batch ends mid-history, so days and months are written as they complete.
    monkeypatch.setattr(services, "REBUILD_BATCH", 7)
    services.rebuild_rollups()
    assert rows() == whole
    assert stored_figures() == raw_figures()


def test_returning_customers_counted_two_ways_agree(db):
    """The dashboard counts returning customers by prev_day; it must equal buyers less new
    customers, counted with a DISTINCT, on any period."""
    from datetime import date, timedelta

    from ordersight.reports import selectors
    from ordersight.reports.params import today

    call_command("gendata", "--orders", "600", "--offers", "12", "--customers", "40")
    end = today()
    for days in (1, 7, 30, 90, 365):
        query = selectors.SalesQuery(end - timedelta(days=days - 1), end)
        previous = query.previous()
        new = sum(f.new_customers for f in selectors.totals(query=query).values())
        new_before = sum(f.new_customers for f in selectors.totals(query=previous).values())
        assert selectors._returning(query, new, new_before) == (
            selectors._buyers(query) - new,
            selectors._buyers(previous) - new_before,
        ), days
    assert selectors._returning(selectors.SalesQuery(date(2000, 1, 1), end), 0, 0) == (0, 0)


@pytest.mark.postgres_only
def test_gendata_gives_the_planner_statistics_of_what_it_wrote(db):
    # Without them (autovacuum off, or not yet round) the rollups' reads of the invoices
    # plan as scans of tables PostgreSQL believes empty.
    call_command("gendata", "--orders", "300", "--offers", "20", "--seed", "4")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN "
            "('orders_order', 'orders_orderline', 'payments_invoice', 'reports_reportedorder')"
        )
        estimates = dict(cursor.fetchall())
    assert estimates["orders_order"] == 300
    assert estimates["orders_orderline"] >= 300
    assert estimates["payments_invoice"] > 0 and estimates["reports_reportedorder"] > 0
