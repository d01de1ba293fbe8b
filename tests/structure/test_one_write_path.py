"""One write path per thing, checked over the source: new orders are inserted by
`orders.services.save_new_orders` alone (whichever door they come through: one order, a
billing batch, bulk ingest and store sync), and an order's status is written by the
services of orders alone (`transition_order`, `confirm_order`, `complete_paid_orders`), which
judge every move against the transition table."""

from __future__ import annotations

import re
from pathlib import Path

import ordersight

SOURCE = Path(ordersight.__file__).parent
ORDER_SERVICES = SOURCE / "orders" / "services.py"
# Generated data for benchmarks writes rows as they would have ended up, in bulk.
EXEMPT = {SOURCE / "gendata.py"}

INSERTS_ORDERS = re.compile(
    r"insert_many\(\s*Order\s*,|\bOrder\.objects\.(create|bulk_create|get_or_create)\("
)
WRITES_STATUS = re.compile(
    r"\border\.status\s*=[^=]|\.status\s*,\s*[\w.]+\.payment_status\s*=[^=]"
    r"|\bOrder\.objects[^\n]*\.update\([^)]*\bstatus="
    # Any queryset's update to an order's own statuses (`ready.update(status=…)`).
    r"|\.update\([^)]*\b(status=OrderStatus|payment_status=PaymentStatus)\."
)


def _sources() -> list[Path]:
    return [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.parts and path not in EXEMPT and path != ORDER_SERVICES
    ]


def _found(pattern: re.Pattern) -> list[str]:
    """Where `pattern` matches in the source, as file:line."""
    return [
        f"{path.relative_to(SOURCE)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path in _sources()
        for text in [path.read_text()]
        for match in pattern.finditer(text)
    ]


def test_new_orders_are_inserted_by_one_service():
    assert _found(INSERTS_ORDERS) == [], "insert orders through orders.services.save_new_orders"


def test_an_orders_status_is_written_by_the_orders_services_alone():
    assert _found(WRITES_STATUS) == [], (
        "move an order's status through orders.services (the transition table)"
    )


def test_the_checks_see_what_they_look_for():
    assert INSERTS_ORDERS.search("insert_many(Order, orders)")
    assert INSERTS_ORDERS.search("Order.objects.create(number=1)")
    assert WRITES_STATUS.search("order.status = OrderStatus.COMPLETED")
    assert WRITES_STATUS.search("item.order.status, item.order.payment_status = a, b")
    assert WRITES_STATUS.search("Order.objects.filter(pk=1).update(status='completed')")
    assert not WRITES_STATUS.search("order.status == OrderStatus.COMPLETED")
    assert WRITES_STATUS.search("ready.update(\n  status=OrderStatus.COMPLETED, updated_at=now\n)")
    assert not WRITES_STATUS.search("invoice.status = InvoiceStatus.PAID")
    assert not WRITES_STATUS.search("invoices.update(status=InvoiceStatus.FAILED)")
    assert not WRITES_STATUS.search("RecurringOrder.objects.filter().update(status='active')")
    assert not INSERTS_ORDERS.search("RecurringOrder.objects.create(customer=c)")
