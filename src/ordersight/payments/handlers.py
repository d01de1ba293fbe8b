"""How payments react to an order's lifecycle (declared in `ordersight/lifecycle.py`)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from ordersight.orders.lifecycle import OrderChange
from ordersight.orders.services import lock_order
from ordersight.payments.models import InvoiceStatus
from ordersight.payments.services.adjustment import follow_order_total, void_pending_invoices
from ordersight.payments.services.capture import apply_failure
from ordersight.payments.services.settlement import recompute_order_payments


def follow_new_total(change: OrderChange) -> None:
    """New lines or a discount mean a new total: the pending invoices ask for the change
    (or the change is refused while one is with the payment provider), and the same
    captured money may now be partial, full or more."""
    order = lock_order(change.order)
    payload = change.event.payload
    previous = payload.get("previous_total")
    follow_order_total(
        order=order,
        previous_total=Decimal(previous) if previous is not None else None,
        previous_currency=payload.get("previous_currency", order.currency),
        actor=change.actor,
    )
    recompute_order_payments(order=order, actor=change.actor)


def void_invoices_of_cancelled_order(change: OrderChange) -> None:
    """A cancelled order asks for nothing more: its pending invoices are voided."""
    void_pending_invoices(order=change.order, actor=change.actor)


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
