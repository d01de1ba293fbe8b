"""What each moment of an order's life costs on PostgreSQL: statements and time.

    python benchmarks/moments.py --database-url postgres://…/os_load [--orders 100]

Against an existing store (one `ordersight gendata` filled, so it holds a million orders and
their kept figures), through the services as the API calls them, for `--orders` new orders
of four catalog lines with a customer who already bought: create, pay in full by a manual
payment (which completes the order: a sale), refund part of it, Check who made the sale,
cancel another new order, and decline a third with a pending invoice. Each moment's median
wall time and its statements (every statement the moment sends, its transaction's
included), counted on the first orders apart from the timed ones. The orders stay in the
store.

Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

# Of the orders, the first this many have their statements counted, the rest are timed.
COUNTED = 5


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 50)
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an existing store, added to")
    parser.add_argument("--orders", type=int, default=100, help="at least 11")
    args = parser.parse_args()
    _setup_django(args.database_url)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ordersight.catalog.models import Variant
    from ordersight.core.actors import Actor
    from ordersight.orders import attribution
    from ordersight.orders.models import Order
    from ordersight.orders.pricing import LineInput, OrderInput
    from ordersight.orders.services import create_order, transition_order
    from ordersight.payments.models import PaymentSystem
    from ordersight.payments.services import (
        issue_invoices,
        record_manual_payment,
        refund_invoice,
    )

    system = Actor.system()
    skus = list(
        Variant.objects.filter(is_active=True, offer__is_active=True, offer__currency="EUR")
        .order_by("pk")
        .values_list("sku", flat=True)[:400]
    )
    buyers = list(
        Order.objects.filter(status="completed", customer__isnull=False)
        .order_by("-pk")
        .values_list("customer_id", flat=True)[: args.orders * 3]
    )
    manual = PaymentSystem.objects.filter(provider="manual", is_active=True).first()
    if manual is None or len(skus) < 4 or len(buyers) < args.orders * 3:
        raise SystemExit("The store needs a manual payment system, EUR SKUs and buyers.")

    times: dict[str, list[float]] = {}
    statements: dict[str, list[int]] = {}
    counting = [True]

    def measured(moment: str, call: Callable[[], Any]) -> Any:
        # The first orders' moments are counted, the others timed: Django's query capture
        # formats every statement's SQL, which a production process never does.
        if counting[0]:
            with CaptureQueriesContext(connection) as queries:
                result = call()
            statements.setdefault(moment, []).append(len(queries))
            return result
        start = time.perf_counter()
        result = call()
        times.setdefault(moment, []).append(time.perf_counter() - start)
        return result

    def new_order(n: int) -> Order:
        lines = [LineInput(sku=skus[(n * 4 + i) % len(skus)]) for i in range(4)]
        data = OrderInput(lines=lines, customer_id=buyers[n], currency="EUR")
        return measured("create", lambda: create_order(data=data, actor=system))

    for n in range(args.orders):
        counting[0] = n < COUNTED
        order = new_order(n)
        invoice = measured(
            "pay in full (completes it)",
            lambda o=order: record_manual_payment(order=o, payment_system=manual, actor=system),
        )
        order.refresh_from_db()
        if order.status != "completed":
            transition_order(order=order, to="completed", actor=system)
        invoice.refresh_from_db()
        measured(
            "refund part",
            lambda i=invoice: refund_invoice(invoice=i, amount=Decimal("1.00"), actor=system),
        )
        measured(
            "Check who made the sale",
            lambda o=order: attribution.confirm_sales_attribution(
                order=o, manager_id=None, actor=system
            ),
        )
        other = new_order(args.orders + n)
        measured(
            "cancel",
            lambda o=other: transition_order(order=o, to="cancelled", actor=system),
        )
        # A decline fails the order's pending invoice: a second moment, recorded by the
        # payments reaction to the first.
        unpaid = new_order(args.orders * 2 + n)
        issue_invoices(order=unpaid, actor=system)
        measured(
            "decline with a pending invoice",
            lambda o=unpaid: transition_order(order=o, to="declined", actor=system),
        )

    print("| moment | median ms | statements |")
    print("| --- | --- | --- |")
    for moment, runs in times.items():
        ms = statistics.median(runs) * 1000
        print(f"| {moment} | {ms:.1f} | {statistics.median(statements[moment]):.0f} |")


if __name__ == "__main__":
    main()
