"""How payments react to an order's lifecycle (declared in `ordersight/lifecycle.py`)."""

from __future__ import annotations

from django.utils import timezone

from ordersight.orders.lifecycle import OrderChange
from ordersight.orders.services import lock_order
from ordersight.payments.models import InvoiceStatus
from ordersight.payments.services.capture import apply_failure
from ordersight.payments.services.settlement import recompute_order_payments


def recompute_after_lines_replaced(change: OrderChange) -> None:
    """New lines mean a new total: the same captured money may now be partial, full or more."""
    recompute_order_payments(order=lock_order(change.order), actor=change.actor)


def fail_pending_invoices(change: OrderChange) -> None:
    """A declined order's pending invoices fail, so nobody pays them later."""
    order = change.order
    now = timezone.now()
    for invoice in order.invoices.select_for_update(no_key=True).filter(
        status=InvoiceStatus.PENDING
    ):
        apply_failure(
            order,
            invoice,
            payment_system=None,
            code="declined",
            message="The order was declined.",
            at=now,
            actor=change.actor,
        )
