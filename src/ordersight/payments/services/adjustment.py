"""Pending invoices follow what the order still owes: the one place that changes them.

A pending invoice asks the customer for money, so with what was captured the pending invoices
never ask for more than the order's total. When the total changes (a discount, lines replaced
by a re-ingest or a store sync), the pending invoices are re-issued for the old amount plus the
change, so a 10 % discount takes 10 % off what is still asked and a new line is asked for too.
When money arrives outside them (a manual payment, a provider's late success), they are
re-issued for what is left. Cancelling or declining an order voids them.

Re-issuing voids each invoice (failed, code `reissued`, naming its replacement) and issues new
numbers for the same installments, as a careful back office does with a document the customer
may already hold. An invoice a payment provider is already working on (a charge was sent and
its result is unknown) cannot be re-issued: the provider may still take the old amount under
its number. The change is then refused with a Conflict naming that invoice.

The caller holds the order's row lock; the invoices are locked here (order, then invoices).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict
from ordersight.core.money import ZERO, format_money, round_down_money, share_money
from ordersight.core.sequences import reserve_numbers
from ordersight.orders.events import record_event
from ordersight.orders.models import Order, OrderEventKind
from ordersight.payments.models import (
    ORDER_CANCELLED,
    ORDER_DECLINED,
    REISSUED,
    Invoice,
    InvoiceStatus,
)
from ordersight.payments.selectors import order_money
from ordersight.payments.services.invoicing import INVOICE_NUMBER_START


def with_provider(*, invoice: Invoice) -> bool:
    """A charge was sent for this pending invoice and its result is not known yet."""
    return invoice.status == InvoiceStatus.PENDING and invoice.attempted_at is not None


def _pending(order: Order) -> list[Invoice]:
    return list(
        order.invoices.select_for_update(no_key=True)
        .filter(status=InvoiceStatus.PENDING)
        .order_by("installment", "number")
    )


def _refuse(order: Order, busy: Sequence[Invoice], why: str) -> Conflict:
    invoice = busy[0]
    if invoice.payment_system:
        message = _(
            "Invoice {invoice} of order {order} is with the payment provider at {system} "
            "(a charge was sent and its result is not known yet), so {why}. Wait for "
            "the provider's answer, or charge the invoice again to learn it."
        ).format(
            invoice=invoice.number,
            order=order.number,
            system=invoice.payment_system.name,
            why=why,
        )
    else:
        message = _(
            "Invoice {invoice} of order {order} is with the payment provider "
            "(a charge was sent and its result is not known yet), so {why}. Wait for "
            "the provider's answer, or charge the invoice again to learn it."
        ).format(invoice=invoice.number, order=order.number, why=why)
    return Conflict(
        message,
        fields={
            "invoice": _("{invoice} is with the payment provider").format(invoice=invoice.number)
        },
    )


def _void(invoice: Invoice, code: str, message: str) -> None:
    invoice.status = InvoiceStatus.FAILED
    invoice.failure_code = code
    invoice.failure_message = message[:500]
    invoice.status_at = timezone.now()
    invoice.save(update_fields=["status", "failure_code", "failure_message", "status_at"])


def _reissue(
    order: Order, pending: Sequence[Invoice], target: Decimal, reason: str, actor: Actor
) -> list[Invoice]:
    """Void `pending` and issue `target` over the same installments, in proportion."""
    asked = sum((i.amount for i in pending), ZERO)
    amounts = (
        share_money(target, [i.amount for i in pending], order.currency)
        if target
        else [ZERO] * len(pending)
    )
    plan = [
        (old.installment, amount)
        for old, amount in zip(pending, amounts, strict=True)
        if amount > 0
    ]
    numbers = reserve_numbers("invoice", len(plan), start=INVOICE_NUMBER_START)
    new = Invoice.objects.bulk_create(
        Invoice(
            number=number,
            order=order,
            installment=installment,
            amount=amount,
            currency=order.currency,
        )
        for number, (installment, amount) in zip(numbers, plan, strict=True)
    )
    replaced_by = ", ".join(str(i.number) for i in new)
    note = f"Re-issued as invoice {replaced_by}" if new else "Voided, nothing is left to ask"
    for old in pending:
        _void(old, REISSUED, f"{note}: {reason}.")
    record_event(
        order,
        OrderEventKind.INVOICES_ADJUSTED,
        actor,
        voided=[i.number for i in pending],
        invoices=[i.number for i in new],
        amounts=[format_money(i.amount, order.currency) for i in new],
        asked={
            "from": format_money(asked, order.currency),
            "to": format_money(target, order.currency),
        },
        reason=reason,
    )
    return new


def follow_order_total(
    *,
    order: Order,
    previous_total: Decimal | None,
    actor: Actor,
    previous_currency: str | None = None,
) -> list[Invoice]:
    """The order's total changed from `previous_total`: its pending invoices ask for the
    change too, never for more than the total less what was captured. Returns the new
    invoices (none when nothing was pending or nothing changes). Conflict while one of them
    is with the payment provider, or when an invoiced order would change currency."""
    if previous_currency not in (None, order.currency):
        invoiced = order.invoices.exclude(status=InvoiceStatus.FAILED).first()
        if invoiced is not None:
            raise Conflict(
                _(
                    "Order {order} has invoice {invoice} in {previous}; "
                    "its currency cannot become {currency}."
                ).format(
                    order=order.number,
                    invoice=invoiced.number,
                    previous=previous_currency,
                    currency=order.currency,
                ),
                fields={"currency": _("invoiced in {currency}").format(currency=previous_currency)},
            )
    pending = _pending(order)
    if not pending:
        return []
    asked = sum((i.amount for i in pending), ZERO)
    change = order.total - previous_total if previous_total is not None else order.total
    due = order.total - order_money(order=order)["captured"]
    target = round_down_money(max(min(asked + change, due), ZERO), order.currency)
    if target == asked:
        return []
    busy = [i for i in pending if with_provider(invoice=i)]
    if busy:
        raise _refuse(order, busy, _("the order's total cannot change now"))
    previous = format_money(previous_total, order.currency) if previous_total is not None else "?"
    reason = (
        f"the order total changed from {previous} to "
        f"{format_money(order.total, order.currency)} {order.currency}"
    )
    return _reissue(order, pending, target, reason, actor)


def fit_pending_invoices(*, order: Order, actor: Actor, strict: bool) -> list[Invoice]:
    """Money arrived outside the pending invoices: they now ask for what is left at most.

    `strict` refuses (Conflict) when an invoice with the payment provider would have to
    change, before anything is recorded (a manual payment). Otherwise (money the provider
    reports: it arrived, whatever we think) those are left as they are and the others ask
    for what is left beside them."""
    pending = _pending(order)
    if not pending:
        return []
    due = round_down_money(
        max(order.total - order_money(order=order)["captured"], ZERO), order.currency
    )
    asked = sum((i.amount for i in pending), ZERO)
    if asked <= due:
        return []
    busy = [i for i in pending if with_provider(invoice=i)]
    if busy and strict:
        raise _refuse(order, busy, _("a payment outside it cannot be recorded now"))
    free = [i for i in pending if not with_provider(invoice=i)]
    target = max(due - sum((i.amount for i in busy), ZERO), ZERO)
    if not free:
        return []
    reason = (
        f"{format_money(order_money(order=order)['captured'], order.currency)} "
        f"{order.currency} of {format_money(order.total, order.currency)} was paid outside them"
    )
    return _reissue(order, free, target, reason, actor)


def void_pending_invoices(*, order: Order, actor: Actor) -> list[Invoice]:
    """A cancelled order asks for nothing: its pending invoices are voided. Refused while
    one is with the payment provider."""
    pending = _pending(order)
    busy = [i for i in pending if with_provider(invoice=i)]
    if busy:
        raise _refuse(order, busy, _("the order cannot be cancelled now"))
    return _void_all(order, pending, ORDER_CANCELLED, "cancelled", actor)


def void_invoices_of_declined_order(*, order: Order, actor: Actor) -> list[Invoice]:
    """A declined order asks for nothing: its pending invoices are voided, as a cancelled
    order's are. A decline is not refused while one is with the payment provider (it is
    often the provider's or the billing engine's own verdict); the provider's late success
    under a voided invoice is still recorded, leaving the order holding money to refund."""
    return _void_all(order, _pending(order), ORDER_DECLINED, "declined", actor)


def _void_all(
    order: Order, pending: Sequence[Invoice], code: str, status: str, actor: Actor
) -> list[Invoice]:
    if not pending:
        return []
    for invoice in pending:
        _void(invoice, code, f"The order was {status}.")
    asked = sum((i.amount for i in pending), ZERO)
    record_event(
        order,
        OrderEventKind.INVOICES_ADJUSTED,
        actor,
        voided=[i.number for i in pending],
        invoices=[],
        amounts=[],
        asked={
            "from": format_money(asked, order.currency),
            "to": format_money(ZERO, order.currency),
        },
        reason=f"the order was {status}",
    )
    return list(pending)
