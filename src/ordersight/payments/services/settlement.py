"""An order's money state: payment and refund status derived from its invoices.

`recompute_order_payments` is the only place that sets an order's payment and refund status.
Lock order is always order first, then invoice, so concurrent writers cannot deadlock.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict, Invalid
from ordersight.core.money import format_money
from ordersight.core.validation import amount_error
from ordersight.orders.events import record_event
from ordersight.orders.models import (
    Order,
    OrderEventKind,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
)
from ordersight.orders.services import PAID_IN_FULL, lock_order, transition_order
from ordersight.payments.models import Invoice
from ordersight.payments.selectors import order_money

OPEN_FOR_PAYMENT = (OrderStatus.DRAFT, OrderStatus.OPEN)


def lock_invoice(*, invoice: Invoice) -> tuple[Order, Invoice]:
    """Lock the invoice's order, then the invoice (always in this order)."""
    order = lock_order(order=invoice.order)
    return order, Invoice.objects.select_for_update(no_key=True, of=("self",)).select_related(
        "payment_system"
    ).get(pk=invoice.pk)


def check_amount(*, amount: Decimal, currency: str, field: str = "amount") -> None:
    problem = amount_error(amount, currency, allow_zero=False)
    if problem:
        raise Invalid(f"{field} {problem}.", fields={field: problem})


def refuse_payment_on_closed_order(*, order: Order) -> None:
    if order.status in (OrderStatus.CANCELLED, OrderStatus.DECLINED):
        raise Conflict(
            _("Order {order} is {status}; it takes no payments.").format(
                order=order.number, status=order.status
            ),
            fields={"status": order.status},
        )


def _payment_status(net: Decimal, total: Decimal) -> str:
    if net <= 0:
        return PaymentStatus.UNPAID
    if net < total:
        return PaymentStatus.PARTIALLY_PAID
    if net == total:
        return PaymentStatus.PAID
    return PaymentStatus.OVERPAID


def _refund_status(captured: Decimal, refunded: Decimal) -> str:
    if refunded <= 0:
        return RefundStatus.NONE
    return RefundStatus.FULL if refunded >= captured else RefundStatus.PARTIAL


def recompute_order_payments(*, order: Order, actor: Actor) -> Order:
    """Derive payment and refund status from the invoices; complete an order paid in full.

    The caller holds the order's row lock.
    """
    money = order_money(order=order)
    payment_status = _payment_status(money["net"], order.total)
    refund_status = _refund_status(money["captured"], money["refunded"])
    if (payment_status, refund_status) != (order.payment_status, order.refund_status):
        record_event(
            order,
            OrderEventKind.PAYMENT_STATUS_CHANGED,
            actor,
            payment_status={"from": order.payment_status, "to": payment_status},
            refund_status={"from": order.refund_status, "to": refund_status},
            net=format_money(money["net"], order.currency),
        )
        order.payment_status = payment_status
        order.refund_status = refund_status
        order.save(update_fields=["payment_status", "refund_status", "updated_at"])
    fully_paid = payment_status in (PaymentStatus.PAID, PaymentStatus.OVERPAID)
    if fully_paid and order.status in OPEN_FOR_PAYMENT:
        order = transition_order(
            order=order, to=OrderStatus.COMPLETED, actor=actor, reason=PAID_IN_FULL
        )
    return order
