"""Issuing invoices: one for the balance, a plan of installments, and retries of failures."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid
from ordersight.core.money import format_money, quantum, round_down_money, share_money
from ordersight.core.sequences import reserve_numbers
from ordersight.orders.events import record_event
from ordersight.orders.models import Order, OrderEventKind
from ordersight.orders.services import lock_order
from ordersight.payments.models import VOIDED, Invoice, InvoiceStatus
from ordersight.payments.selectors import order_money
from ordersight.payments.services.settlement import (
    OPEN_FOR_PAYMENT,
    check_amount,
    lock_invoice,
    refuse_payment_on_closed_order,
)

INVOICE_NUMBER_START = 5001
MAX_INSTALLMENTS = 24


def _allows_partial_payments(order: Order) -> bool:
    lines = list(order.lines.select_related("offer"))
    return bool(lines) and all(line.offer and line.offer.allow_partial_payments for line in lines)


def next_installment(*, order: Order) -> int:
    last = order.invoices.order_by("-installment").values_list("installment", flat=True).first()
    return (last or 0) + 1


def new_invoices(
    *, order: Order, amounts: Sequence[Decimal], first_installment: int, **fields: object
) -> list[Invoice]:
    numbers = reserve_numbers("invoice", len(amounts), start=INVOICE_NUMBER_START)
    invoices = [
        Invoice(
            number=number,
            order=order,
            installment=first_installment + i,
            amount=amount,
            currency=order.currency,
            **fields,
        )
        for i, (number, amount) in enumerate(zip(numbers, amounts, strict=True))
    ]
    Invoice.objects.bulk_create(invoices)
    return invoices


def _plan(
    order: Order,
    outstanding: Decimal,
    installments: int | None,
    amounts: Sequence[Decimal] | None,
) -> list[Decimal]:
    """The invoice amounts: as given (adding up to what is outstanding), or N equal parts."""
    if amounts is not None:
        plan = list(amounts)
        if not plan:
            raise Invalid(_("Give at least one amount."), fields={"amounts": _("empty")})
        for i, amount in enumerate(plan):
            check_amount(amount=amount, currency=order.currency, field=f"amounts[{i}]")
        if sum(plan) != outstanding:
            left = format_money(outstanding, order.currency)
            raise Invalid(
                _("The amounts add up to {total}; {left} is left to invoice.").format(
                    total=format_money(sum(plan), order.currency), left=left
                ),
                fields={"amounts": _("must add up to {left}").format(left=left)},
            )
    else:
        count = installments or 1
        if not 1 <= count <= MAX_INSTALLMENTS:
            raise Invalid(
                _("Installments must be 1 to {most}.").format(most=MAX_INSTALLMENTS),
                fields={"installments": _("1 to {most}").format(most=MAX_INSTALLMENTS)},
            )
        if count > outstanding / quantum(order.currency):
            raise Invalid(
                _("More installments than minor units to split."),
                fields={"installments": _("too many for the amount")},
            )
        plan = share_money(outstanding, [Decimal(1)] * count, order.currency)
    return plan


@retry_on_deadlock
@transaction.atomic
def issue_invoices(
    *,
    order: Order,
    installments: int | None = None,
    amounts: Sequence[Decimal] | None = None,
    actor: Actor,
) -> list[Invoice]:
    """Invoice what is not yet invoiced: one invoice, or a plan when the offer allows it."""
    order = lock_order(order=order)
    if order.status not in OPEN_FOR_PAYMENT:
        raise Conflict(
            _("Order {order} is {status}; it cannot be invoiced.").format(
                order=order.number, status=order.status
            ),
            fields={"status": order.status},
        )
    if installments is not None and amounts is not None:
        raise Invalid(
            _("Give installments or amounts, not both."),
            fields={"installments": _("give installments or amounts, not both")},
        )
    outstanding = order.total - order_money(order=order)["invoiced"]
    if outstanding <= 0:
        raise Conflict(
            _("Order {order} is fully invoiced.").format(order=order.number),
            fields={"order": _("nothing left to invoice")},
        )
    plan = _plan(order, outstanding, installments, amounts)
    if len(plan) > 1 and not _allows_partial_payments(order):
        raise Conflict(
            _("Order {order} has an offer without partial payments; it takes one invoice.").format(
                order=order.number
            ),
            fields={"installments": _("partial payments are not allowed for this order")},
        )
    invoices = new_invoices(
        order=order, amounts=plan, first_installment=next_installment(order=order)
    )
    record_event(
        order,
        OrderEventKind.INVOICE_ISSUED,
        actor,
        invoices=[i.number for i in invoices],
        amounts=[format_money(i.amount, order.currency) for i in invoices],
    )
    return invoices


@retry_on_deadlock
@transaction.atomic
def retry_invoice(*, invoice: Invoice, actor: Actor) -> Invoice:
    """A failed attempt stays on record; the retry is a new invoice for the same installment."""
    order, invoice = lock_invoice(invoice=invoice)
    refuse_payment_on_closed_order(order=order)
    if invoice.status != InvoiceStatus.FAILED:
        raise Conflict(
            _("Invoice {number} is {status}; only a failed one is retried.").format(
                number=invoice.number, status=invoice.status
            ),
            fields={"invoice": invoice.status},
        )
    if invoice.failure_code in VOIDED:
        raise Conflict(
            _("Invoice {number} was voided ({reason}); it is not retried.").format(
                number=invoice.number, reason=invoice.failure_message
            ),
            fields={"invoice": invoice.failure_code},
        )
    # The retry asks for the failed amount, but never for more than is left to invoice:
    # another invoice may have been issued for it meanwhile.
    left = order.total - order_money(order=order)["invoiced"]
    amount = round_down_money(min(invoice.amount, left), order.currency)
    if amount <= 0:
        raise Conflict(
            _("Order {order} is fully invoiced; invoice {invoice} is not retried.").format(
                order=order.number, invoice=invoice.number
            ),
            fields={"invoice": _("nothing left to invoice")},
        )
    (new,) = new_invoices(order=order, amounts=[amount], first_installment=invoice.installment)
    record_event(
        order,
        OrderEventKind.INVOICE_ISSUED,
        actor,
        invoices=[new.number],
        retry_of=invoice.number,
        amounts=[format_money(new.amount, order.currency)],
    )
    return new
