"""Every write to the money trail: invoices, payment results, refunds, confirm and decline.

Lock order is always order first, then invoice, so concurrent writers cannot deadlock.
`recompute_order_payments` is the only place that sets an order's payment and refund status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict, Invalid, Unavailable
from ordersight.core.money import ZERO, quantum, round_money
from ordersight.core.sequences import reserve_numbers
from ordersight.core.validation import amount_error
from ordersight.orders.events import record_event
from ordersight.orders.models import (
    Order,
    OrderEventKind,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
)
from ordersight.orders.services import transition_order
from ordersight.payments.gateways import GatewayUnavailable, gateway_for
from ordersight.payments.models import FeeRule, Invoice, InvoiceStatus, PaymentSystem, Refund

INVOICE_NUMBER_START = 5001
MAX_INSTALLMENTS = 24
CAPTURED = (InvoiceStatus.SUCCEEDED, InvoiceStatus.REFUNDED)
OPEN_FOR_PAYMENT = (OrderStatus.DRAFT, OrderStatus.OPEN)


def _money(amount: Decimal, currency: str) -> str:
    return str(round_money(amount, currency))


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _lock_invoice(invoice: Invoice) -> tuple[Order, Invoice]:
    order = _lock_order(invoice.order)
    return order, Invoice.objects.select_for_update(of=("self",)).select_related(
        "payment_system"
    ).get(pk=invoice.pk)


def compute_fee(payment_system: PaymentSystem, amount: Decimal, currency: str) -> Decimal:
    """The provider's fee: percent of the amount plus a fixed part, never more than the amount."""
    rule = FeeRule.objects.filter(payment_system=payment_system, currency=currency).first()
    if rule is None:
        return ZERO
    fee = round_money(amount * rule.percent / 100 + rule.fixed, currency)
    return min(fee, amount)


def _check_amount(amount: Decimal, currency: str, field: str = "amount") -> None:
    problem = amount_error(amount, currency, allow_zero=False)
    if problem:
        raise Invalid(f"{field} {problem}.", fields={field: problem})


def order_money(order: Order) -> dict[str, Decimal]:
    """Captured, refunded and net amounts of an order, in the order's one currency."""
    sums = Invoice.objects.filter(order=order, status__in=CAPTURED).aggregate(
        captured=Sum("amount"), refunded=Sum("refunded_amount")
    )
    captured = sums["captured"] or ZERO
    refunded = sums["refunded"] or ZERO
    invoiced = (
        Invoice.objects.filter(
            order=order, status__in=(InvoiceStatus.PENDING, *CAPTURED)
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return {
        "captured": captured,
        "refunded": refunded,
        "net": captured - refunded,
        "invoiced": invoiced,
    }


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
    money = order_money(order)
    payment_status = _payment_status(money["net"], order.total)
    refund_status = _refund_status(money["captured"], money["refunded"])
    if (payment_status, refund_status) != (order.payment_status, order.refund_status):
        record_event(
            order,
            OrderEventKind.PAYMENT_STATUS_CHANGED,
            actor,
            payment_status={"from": order.payment_status, "to": payment_status},
            refund_status={"from": order.refund_status, "to": refund_status},
            net=_money(money["net"], order.currency),
        )
        order.payment_status = payment_status
        order.refund_status = refund_status
        order.save(update_fields=["payment_status", "refund_status", "updated_at"])
    fully_paid = payment_status in (PaymentStatus.PAID, PaymentStatus.OVERPAID)
    if fully_paid and order.status in OPEN_FOR_PAYMENT:
        order = transition_order(
            order=order, to=OrderStatus.COMPLETED, actor=actor, reason="paid in full"
        )
    return order


def _allows_partial_payments(order: Order) -> bool:
    lines = list(order.lines.select_related("offer"))
    return bool(lines) and all(line.offer and line.offer.allow_partial_payments for line in lines)


def _split(total: Decimal, parts: int, currency: str) -> list[Decimal]:
    """Equal installments in minor units; the remainder goes to the first one."""
    unit = quantum(currency)
    units = int(total / unit)
    base, remainder = divmod(units, parts)
    amounts = [Decimal(base) * unit for _ in range(parts)]
    amounts[0] += Decimal(remainder) * unit
    return amounts


def _new_invoices(
    order: Order, amounts: Sequence[Decimal], first_installment: int, **fields: object
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


@transaction.atomic
def issue_invoices(
    *,
    order: Order,
    installments: int | None = None,
    amounts: Sequence[Decimal] | None = None,
    actor: Actor,
) -> list[Invoice]:
    """Invoice what is not yet invoiced: one invoice, or a plan when the offer allows it."""
    order = _lock_order(order)
    if order.status not in OPEN_FOR_PAYMENT:
        raise Conflict(
            f"Order {order.number} is {order.status}; it cannot be invoiced.",
            fields={"status": order.status},
        )
    if installments is not None and amounts is not None:
        raise Invalid(
            "Give installments or amounts, not both.",
            fields={"installments": "give installments or amounts, not both"},
        )
    outstanding = order.total - order_money(order)["invoiced"]
    if outstanding <= 0:
        raise Conflict(
            f"Order {order.number} is fully invoiced.", fields={"order": "nothing left to invoice"}
        )
    if amounts is not None:
        plan = list(amounts)
        if not plan:
            raise Invalid("Give at least one amount.", fields={"amounts": "empty"})
        for i, amount in enumerate(plan):
            _check_amount(amount, order.currency, f"amounts[{i}]")
        if sum(plan) != outstanding:
            raise Invalid(
                f"The amounts add up to {_money(sum(plan), order.currency)}; "
                f"{_money(outstanding, order.currency)} is left to invoice.",
                fields={"amounts": f"must add up to {_money(outstanding, order.currency)}"},
            )
    else:
        count = installments or 1
        if not 1 <= count <= MAX_INSTALLMENTS:
            raise Invalid(
                f"Installments must be 1 to {MAX_INSTALLMENTS}.",
                fields={"installments": f"1 to {MAX_INSTALLMENTS}"},
            )
        if count > outstanding / quantum(order.currency):
            raise Invalid(
                "More installments than minor units to split.",
                fields={"installments": "too many for the amount"},
            )
        plan = _split(outstanding, count, order.currency)
    if len(plan) > 1 and not _allows_partial_payments(order):
        raise Conflict(
            f"Order {order.number} has an offer without partial payments; it takes one invoice.",
            fields={"installments": "partial payments are not allowed for this order"},
        )
    first = (
        order.invoices.order_by("-installment").values_list("installment", flat=True).first() or 0
    ) + 1
    invoices = _new_invoices(order, plan, first)
    record_event(
        order,
        OrderEventKind.INVOICE_ISSUED,
        actor,
        invoices=[i.number for i in invoices],
        amounts=[_money(i.amount, order.currency) for i in invoices],
    )
    return invoices


def _apply_success(
    order: Order,
    invoice: Invoice,
    *,
    payment_system: PaymentSystem,
    paid_in_one_click: bool,
    transaction_id: str,
    at: datetime,
    actor: Actor,
) -> None:
    invoice.status = InvoiceStatus.SUCCEEDED
    invoice.payment_system = payment_system
    invoice.fee = compute_fee(payment_system, invoice.amount, invoice.currency)
    invoice.funds_credited = invoice.amount - invoice.fee
    invoice.paid_in_one_click = paid_in_one_click and payment_system.supports_one_click
    invoice.transaction_id = transaction_id or invoice.transaction_id
    invoice.failure_code = invoice.failure_message = ""
    invoice.attempted_at = invoice.attempted_at or at
    invoice.paid_at = invoice.status_at = at
    invoice.save()
    record_event(
        order,
        OrderEventKind.PAYMENT_SUCCEEDED,
        actor,
        invoice=invoice.number,
        amount=_money(invoice.amount, invoice.currency),
        payment_system=payment_system.name,
        one_click=invoice.paid_in_one_click,
    )


def _apply_failure(
    order: Order,
    invoice: Invoice,
    *,
    payment_system: PaymentSystem | None,
    code: str,
    message: str,
    at: datetime,
    actor: Actor,
) -> None:
    invoice.status = InvoiceStatus.FAILED
    invoice.payment_system = payment_system or invoice.payment_system
    invoice.failure_code = code[:50]
    invoice.failure_message = message[:500]
    invoice.attempted_at = invoice.status_at = at
    invoice.save()
    record_event(
        order,
        OrderEventKind.PAYMENT_FAILED,
        actor,
        invoice=invoice.number,
        code=invoice.failure_code,
        message=invoice.failure_message,
    )


def _refuse_payment_on_closed_order(order: Order) -> None:
    if order.status in (OrderStatus.CANCELLED, OrderStatus.DECLINED):
        raise Conflict(
            f"Order {order.number} is {order.status}; it takes no payments.",
            fields={"status": order.status},
        )


@transaction.atomic
def record_manual_payment(
    *,
    order: Order,
    payment_system: PaymentSystem,
    amount: Decimal | None = None,
    currency: str | None = None,
    invoice: Invoice | None = None,
    buyer_comment: str = "",
    actor: Actor,
) -> Invoice:
    """A person records money received outside a gateway (bank transfer, pay by invoice)."""
    order = _lock_order(order)
    _refuse_payment_on_closed_order(order)
    if not payment_system.is_manual:
        raise Invalid(
            f"{payment_system.name} is not a manual payment method.",
            fields={"payment_system": "not a manual payment method"},
        )
    if currency is not None and currency.upper() != order.currency:
        raise Invalid(
            f"Order {order.number} is in {order.currency}, not {currency}.",
            fields={"currency": f"must be {order.currency}"},
        )
    if invoice is not None:
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.order_id != order.pk:
            raise Invalid(
                "The invoice belongs to another order.", fields={"invoice": "other order"}
            )
        if invoice.status != InvoiceStatus.PENDING:
            raise Conflict(
                f"Invoice {invoice.number} is {invoice.status}.", fields={"invoice": invoice.status}
            )
        if amount is not None and amount != invoice.amount:
            raise Invalid(
                "A manual payment settles the whole invoice.",
                fields={"amount": f"must be {_money(invoice.amount, order.currency)}"},
            )
    else:
        if amount is None:
            amount = order.total - order_money(order)["invoiced"]
            if amount <= 0:
                raise Invalid(
                    "Nothing is left to pay; give an amount.", fields={"amount": "required"}
                )
        _check_amount(amount, order.currency)
        pending = order.invoices.filter(status=InvoiceStatus.PENDING, amount=amount)
        invoice = pending.select_for_update().order_by("installment").first()
        if invoice is None:
            first = (
                order.invoices.order_by("-installment")
                .values_list("installment", flat=True)
                .first()
                or 0
            ) + 1
            (invoice,) = _new_invoices(order, [amount], first)
    invoice.buyer_comment = (buyer_comment or "")[:2000]
    _apply_success(
        order,
        invoice,
        payment_system=payment_system,
        paid_in_one_click=False,
        transaction_id="",
        at=timezone.now(),
        actor=actor,
    )
    recompute_order_payments(order=order, actor=actor)
    return invoice


@transaction.atomic
def charge_invoice(
    *,
    invoice: Invoice,
    payment_system: PaymentSystem,
    card_token: str,
    one_click: bool = False,
    actor: Actor,
) -> Invoice:
    """Charge a pending invoice through the payment system's gateway.

    The row lock is held across the gateway call, and the call's idempotency key is the
    invoice number, so neither a second worker nor a retry can charge the invoice twice.
    """
    order, invoice = _lock_invoice(invoice)
    _refuse_payment_on_closed_order(order)
    if invoice.status != InvoiceStatus.PENDING:
        hint = " Retry it to make a new attempt." if invoice.status == InvoiceStatus.FAILED else ""
        raise Conflict(
            f"Invoice {invoice.number} is {invoice.status}.{hint}",
            fields={"invoice": invoice.status},
        )
    gateway = gateway_for(payment_system.provider)
    if gateway is None or not payment_system.is_active:
        raise Invalid(
            f"{payment_system.name} cannot charge cards.",
            fields={"payment_system": "not a card gateway"},
        )
    if one_click and not payment_system.supports_one_click:
        raise Invalid(
            f"{payment_system.name} has no one-click payments.",
            fields={"one_click": "not supported by this payment system"},
        )
    now = timezone.now()
    try:
        result = gateway.charge(
            amount=invoice.amount,
            currency=invoice.currency,
            token=card_token,
            idempotency_key=f"invoice-{invoice.number}",
            one_click=one_click,
        )
    except GatewayUnavailable as exc:
        invoice.attempted_at = now
        invoice.payment_system = payment_system
        invoice.save(update_fields=["attempted_at", "payment_system"])
        raise Unavailable(
            f"{payment_system.name} is unavailable: {exc}. The invoice is still "
            "pending; try again.",
            fields={"payment_system": "unavailable"},
        ) from None
    if result.succeeded:
        _apply_success(
            order,
            invoice,
            payment_system=payment_system,
            paid_in_one_click=result.one_click,
            transaction_id=result.transaction_id,
            at=now,
            actor=actor,
        )
    else:
        _apply_failure(
            order,
            invoice,
            payment_system=payment_system,
            code=result.failure_code,
            message=result.failure_message,
            at=now,
            actor=actor,
        )
    recompute_order_payments(order=order, actor=actor)
    return invoice


@transaction.atomic
def retry_invoice(*, invoice: Invoice, actor: Actor) -> Invoice:
    """A failed attempt stays on record; the retry is a new invoice for the same installment."""
    order, invoice = _lock_invoice(invoice)
    _refuse_payment_on_closed_order(order)
    if invoice.status != InvoiceStatus.FAILED:
        raise Conflict(
            f"Invoice {invoice.number} is {invoice.status}; only a failed one is retried.",
            fields={"invoice": invoice.status},
        )
    (new,) = _new_invoices(order, [invoice.amount], invoice.installment)
    record_event(
        order,
        OrderEventKind.INVOICE_ISSUED,
        actor,
        invoices=[new.number],
        retry_of=invoice.number,
        amounts=[_money(new.amount, order.currency)],
    )
    return new


@transaction.atomic
def record_gateway_result(
    *,
    invoice: Invoice,
    succeeded: bool,
    payment_system: PaymentSystem,
    occurred_at: datetime,
    paid_in_one_click: bool = False,
    transaction_id: str = "",
    failure_code: str = "",
    failure_message: str = "",
    actor: Actor,
) -> bool:
    """Apply a provider's word on an invoice; False when it is older than what we know.

    Captured money is never un-captured by a failure report, and an event older than the
    one that set the current status changes nothing, so events may arrive in any order.
    """
    order, invoice = _lock_invoice(invoice)
    if invoice.status in CAPTURED:
        return False
    if invoice.status_at is not None and occurred_at <= invoice.status_at:
        return False
    if succeeded:
        _apply_success(
            order,
            invoice,
            payment_system=payment_system,
            paid_in_one_click=paid_in_one_click,
            transaction_id=transaction_id,
            at=occurred_at,
            actor=actor,
        )
    else:
        _apply_failure(
            order,
            invoice,
            payment_system=payment_system,
            code=failure_code or "failed",
            message=failure_message,
            at=occurred_at,
            actor=actor,
        )
    recompute_order_payments(order=order, actor=actor)
    return True


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
        amount=_money(amount, invoice.currency),
        reason=refund.reason,
    )
    recompute_order_payments(order=order, actor=actor)
    return refund


def check_refundable(invoice: Invoice, amount: Decimal) -> None:
    """Raise unless `amount` can be refunded from the invoice now (checked again under lock)."""
    if invoice.status not in CAPTURED:
        raise Conflict(
            f"Invoice {invoice.number} is {invoice.status}; nothing was captured.",
            fields={"invoice": invoice.status},
        )
    _check_amount(amount, invoice.currency)
    refundable = invoice.amount - invoice.refunded_amount
    if amount > refundable:
        raise Invalid(
            f"At most {_money(refundable, invoice.currency)} {invoice.currency} of invoice "
            f"{invoice.number} can be refunded.",
            fields={"amount": f"at most {_money(refundable, invoice.currency)}"},
        )


@transaction.atomic
def refund_invoice(*, invoice: Invoice, amount: Decimal, reason: str = "", actor: Actor) -> Refund:
    """Refund part or all of what an invoice captured, never more than is left of it."""
    order, invoice = _lock_invoice(invoice)
    check_refundable(invoice, amount)
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
                f"Refund not made: {exc}; try again.", fields={"payment_system": "unavailable"}
            ) from None
        transaction_id = result.transaction_id
    return _add_refund(
        order, invoice, amount, reason=reason, transaction_id=transaction_id, actor=actor
    )


@transaction.atomic
def record_provider_refund(
    *, invoice: Invoice, amount: Decimal, transaction_id: str, actor: Actor
) -> Refund | None:
    """A refund the provider reports; None when we already hold it (we made it ourselves)."""
    order, invoice = _lock_invoice(invoice)
    if transaction_id and invoice.refunds.filter(transaction_id=transaction_id).exists():
        return None
    check_refundable(invoice, amount)
    return _add_refund(
        order,
        invoice,
        amount,
        reason="reported by the payment provider",
        transaction_id=transaction_id,
        actor=actor,
    )


@transaction.atomic
def confirm_order(*, order: Order, actor: Actor) -> Order:
    """Mark an order with partial payments as completed: a sale, though not paid in full."""
    order = _lock_order(order)
    if order.payment_status != PaymentStatus.PARTIALLY_PAID:
        raise Conflict(
            f"Order {order.number} is {order.payment_status.replace('_', ' ')}; only an order "
            "with partial payments is confirmed by hand.",
            fields={"payment_status": order.payment_status},
        )
    return transition_order(
        order=order, to=OrderStatus.COMPLETED, actor=actor, reason="confirmed with partial payments"
    )


@transaction.atomic
def decline_order(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Decline an order; its pending invoices fail so nobody pays them later."""
    order = _lock_order(order)
    order = transition_order(order=order, to=OrderStatus.DECLINED, actor=actor, reason=reason)
    now = timezone.now()
    for invoice in order.invoices.select_for_update().filter(status=InvoiceStatus.PENDING):
        _apply_failure(
            order,
            invoice,
            payment_system=None,
            code="declined",
            message="The order was declined.",
            at=now,
            actor=actor,
        )
    return order


def has_captured_payments(order: Order) -> bool:
    return Invoice.objects.filter(order=order, status__in=CAPTURED).exists()
