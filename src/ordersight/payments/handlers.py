"""How payments react to an order's lifecycle (declared in `ordersight/lifecycle.py`)."""

from __future__ import annotations

from decimal import Decimal

from ordersight.orders.lifecycle import OrderChange
from ordersight.orders.services import lock_order
from ordersight.payments.services import adjustment
from ordersight.payments.services.adjustment import follow_order_total, void_pending_invoices
from ordersight.payments.services.settlement import recompute_order_payments


def follow_new_total(change: OrderChange) -> None:
    """New lines or a discount mean a new total: the pending invoices ask for the change
    (or the change is refused while one is with the payment provider), and the same
    captured money may now be partial, full or more."""
    order = lock_order(order=change.order)
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


def void_invoices_of_declined_order(change: OrderChange) -> None:
    """A declined order asks for nothing more: its pending invoices are voided, so nobody
    pays them later and a payment the provider still reports for one is recorded."""
    adjustment.void_invoices_of_declined_order(order=change.order, actor=change.actor)
