"""Money going back: refunds we make through the gateway and refunds a provider reports."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid, Unavailable
from ordersight.core.money import format_money
from ordersight.orders.events import record_event
from ordersight.orders.models import Order, OrderEventKind
from ordersight.payments.gateways import GatewayRefused, GatewayUnavailable, gateway_for
from ordersight.payments.models import CAPTURED, Invoice, InvoiceStatus, Refund
from ordersight.payments.services.settlement import (
    check_amount,
    lock_invoice,
    recompute_order_payments,
)


def _add_refund(
    order: Order,
    invoice: Invoice,
    amount: Decimal,
    *,
    reason: str,
    transaction_id: str,
    actor: Actor,
) -> Refund:
    refund = Refund.objects.create(
        invoice=invoice,
        order=order,
        amount=amount,
        currency=invoice.currency,
        reason=reason[:500],
        transaction_id=transaction_id,
        actor_label=actor.label[:150],
        actor_user=actor.user,
    )
    invoice.refunded_amount += amount
    if invoice.refunded_amount == invoice.amount:
        invoice.status = InvoiceStatus.REFUNDED
    invoice.save(update_fields=["refunded_amount", "status"])
    record_event(
        order,
        OrderEventKind.REFUNDED,
        actor,
        invoice=invoice.number,
        amount=format_money(amount, invoice.currency),
        reason=refund.reason,
    )
    recompute_order_payments(order=order, actor=actor)
    return refund


def check_refundable(*, invoice: Invoice, amount: Decimal) -> None:
    """Raise unless `amount` can be refunded from the invoice now (checked again under lock)."""
    if invoice.status not in CAPTURED:
        raise Conflict(
            _("Invoice {number} is {status}; nothing was captured.").format(
                number=invoice.number, status=invoice.status
            ),
            fields={"invoice": invoice.status},
        )
    check_amount(amount=amount, currency=invoice.currency)
    refundable = invoice.amount - invoice.refunded_amount
    if amount > refundable:
        most = format_money(refundable, invoice.currency)
        raise Invalid(
            _("At most {most} {currency} of invoice {number} can be refunded.").format(
                most=most, currency=invoice.currency, number=invoice.number
            ),
            fields={"amount": _("at most {most}").format(most=most)},
        )


@retry_on_deadlock
@transaction.atomic
def refund_invoice(*, invoice: Invoice, amount: Decimal, reason: str = "", actor: Actor) -> Refund:
    """Refund part or all of what an invoice captured, never more than is left of it."""
    order, invoice = lock_invoice(invoice=invoice)
    check_refundable(invoice=invoice, amount=amount)
    transaction_id = ""
    gateway = gateway_for(invoice.payment_system.provider) if invoice.payment_system else None
    if gateway is not None:
        attempt = invoice.refunds.count() + 1
        try:
            result = gateway.refund(
                transaction_id=invoice.transaction_id,
                amount=amount,
                currency=invoice.currency,
                idempotency_key=f"refund-{invoice.number}-{attempt}",
            )
        except GatewayUnavailable as exc:
            raise Unavailable(
                _("Refund not made: {problem}; try again.").format(problem=exc),
                fields={"payment_system": _("unavailable")},
            ) from None
        except GatewayRefused as exc:
            raise Conflict(
                _("Refund not made: the payment provider refused it ({problem}).").format(
                    problem=exc
                ),
                fields={"invoice": _("refused by the payment provider")},
            ) from None
        transaction_id = result.transaction_id
    return _add_refund(
        order, invoice, amount, reason=reason, transaction_id=transaction_id, actor=actor
    )


@retry_on_deadlock
@transaction.atomic
def record_provider_refund(
    *, invoice: Invoice, amount: Decimal, transaction_id: str, actor: Actor
) -> Refund | None:
    """A refund the provider reports; None when we already hold it (we made it ourselves)."""
    order, invoice = lock_invoice(invoice=invoice)
    if transaction_id and invoice.refunds.filter(transaction_id=transaction_id).exists():
        return None
    check_refundable(invoice=invoice, amount=amount)
    return _add_refund(
        order,
        invoice,
        amount,
        reason="reported by the payment provider",
        transaction_id=transaction_id,
        actor=actor,
    )
