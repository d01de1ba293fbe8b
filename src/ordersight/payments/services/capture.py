"""Money coming in: card charges through a gateway, manual payments, providers' results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ordersight.core.actors import Actor
from ordersight.core.bulk import insert_many
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid, Unavailable
from ordersight.core.money import ZERO, format_money, round_money
from ordersight.core.sequences import reserve_numbers
from ordersight.orders.events import record_event, record_events
from ordersight.orders.lifecycle import merged_moments
from ordersight.orders.models import (
    Order,
    OrderEventKind,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
)
from ordersight.orders.pricing import OrderInput
from ordersight.orders.services import (
    complete_paid_orders,
    created_payload,
    lock_order,
    prepare_orders,
    save_new_orders,
)
from ordersight.payments.gateways import (
    ChargeRequest,
    Gateway,
    GatewayUnavailable,
    gateway_for,
)
from ordersight.payments.models import (
    CAPTURED,
    VOIDED,
    FeeRule,
    Invoice,
    InvoiceStatus,
    PaymentSystem,
)
from ordersight.payments.selectors import order_money
from ordersight.payments.services.adjustment import fit_pending_invoices
from ordersight.payments.services.invoicing import (
    INVOICE_NUMBER_START,
    new_invoices,
    next_installment,
)
from ordersight.payments.services.settlement import (
    check_amount,
    lock_invoice,
    recompute_order_payments,
    refuse_payment_on_closed_order,
)


def compute_fee(*, payment_system: PaymentSystem, amount: Decimal, currency: str) -> Decimal:
    """The provider's fee: percent of the amount plus a fixed part, never more than the amount."""
    rule = FeeRule.objects.filter(payment_system=payment_system, currency=currency).first()
    return _fee(rule, amount, currency)


def _fee(rule: FeeRule | None, amount: Decimal, currency: str) -> Decimal:
    if rule is None:
        return ZERO
    fee = round_money(amount * rule.percent / 100 + rule.fixed, currency)
    return min(fee, amount)


def apply_success(
    *,
    order: Order,
    invoice: Invoice,
    payment_system: PaymentSystem,
    paid_in_one_click: bool,
    transaction_id: str,
    at: datetime,
    actor: Actor,
) -> None:
    invoice.status = InvoiceStatus.SUCCEEDED
    invoice.payment_system = payment_system
    invoice.fee = compute_fee(
        payment_system=payment_system, amount=invoice.amount, currency=invoice.currency
    )
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
        amount=format_money(invoice.amount, invoice.currency),
        payment_system=payment_system.name,
        one_click=invoice.paid_in_one_click,
    )


def apply_failure(
    *,
    order: Order,
    invoice: Invoice,
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


@dataclass(frozen=True)
class GatewayOutcome:
    """What a payment provider said about one attempt, by its answer or its webhook."""

    succeeded: bool
    payment_system: PaymentSystem
    at: datetime
    one_click: bool = False
    transaction_id: str = ""
    failure_code: str = ""
    failure_message: str = ""


@merged_moments()
def _settle(
    order: Order, invoice: Invoice, outcome: GatewayOutcome, actor: Actor, *, strict: bool = False
) -> None:
    """Record the outcome on the invoice, then derive the order's payment state again; the
    figures hear the payment and the completion it may bring once, together.

    Money that arrived outside the pending invoices (a manual payment, a provider's late
    success on a failed one) leaves them asking for what is left at most; `strict` refuses
    instead when one of them is with the payment provider (see `fit_pending_invoices`)."""
    if outcome.succeeded:
        apply_success(
            order=order,
            invoice=invoice,
            payment_system=outcome.payment_system,
            paid_in_one_click=outcome.one_click,
            transaction_id=outcome.transaction_id,
            at=outcome.at,
            actor=actor,
        )
        fit_pending_invoices(order=order, actor=actor, strict=strict)
    else:
        apply_failure(
            order=order,
            invoice=invoice,
            payment_system=outcome.payment_system,
            code=outcome.failure_code,
            message=outcome.failure_message,
            at=outcome.at,
            actor=actor,
        )
    recompute_order_payments(order=order, actor=actor)


def _refuse_more_than_due(order: Order, amount: Decimal) -> None:
    """A manual payment settles what is still due, never more: recording the same bank
    transfer twice, or one larger than the order, is refused instead of overpaying."""
    due = order.total - order_money(order=order)["net"]
    if amount > due:
        left = format_money(max(due, Decimal(0)), order.currency)
        raise Conflict(
            _(
                "Order {order} has {left} {currency} left to pay; a manual payment "
                "of {amount} would pay it more than once."
            ).format(
                order=order.number,
                left=left,
                currency=order.currency,
                amount=format_money(amount, order.currency),
            ),
            fields={"amount": _("at most {left}").format(left=left)},
        )


def _invoice_to_settle(order: Order, amount: Decimal | None, invoice: Invoice | None) -> Invoice:
    """The invoice a manual payment settles: the one named, a pending one of that amount,
    or a new one (for the balance when no amount is given)."""
    if invoice is not None:
        invoice = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
        if invoice.order_id != order.pk:
            raise Invalid(
                _("The invoice belongs to another order."), fields={"invoice": _("other order")}
            )
        if invoice.status != InvoiceStatus.PENDING:
            raise Conflict(
                _("Invoice {number} is {status}.").format(
                    number=invoice.number, status=invoice.status
                ),
                fields={"invoice": invoice.status},
            )
        if amount is not None and amount != invoice.amount:
            raise Invalid(
                _("A manual payment settles the whole invoice."),
                fields={
                    "amount": _("must be {amount}").format(
                        amount=format_money(invoice.amount, order.currency)
                    )
                },
            )
        return invoice
    if amount is None:
        amount = order.total - order_money(order=order)["invoiced"]
        if amount <= 0:
            # The order's state, not the request, leaves no default: a conflict.
            raise Conflict(
                _(
                    "Order {order} has nothing left to invoice; give an amount or the "
                    "pending invoice this payment settles."
                ).format(order=order.number),
                fields={"amount": _("required: nothing is left to invoice")},
            )
    check_amount(amount=amount, currency=order.currency)
    pending = order.invoices.filter(status=InvoiceStatus.PENDING, amount=amount)
    found = pending.select_for_update(no_key=True).order_by("installment").first()
    if found is not None:
        return found
    (new,) = new_invoices(
        order=order, amounts=[amount], first_installment=next_installment(order=order)
    )
    return new


@retry_on_deadlock
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
    order = lock_order(order=order)
    refuse_payment_on_closed_order(order=order)
    if not payment_system.is_manual:
        raise Invalid(
            _("{system} is not a manual payment method.").format(system=payment_system.name),
            fields={"payment_system": _("not a manual payment method")},
        )
    if currency is not None and currency.upper() != order.currency:
        raise Invalid(
            _("Order {order} is in {currency}, not {given}.").format(
                order=order.number, currency=order.currency, given=currency
            ),
            fields={"currency": _("must be {currency}").format(currency=order.currency)},
        )
    invoice = _invoice_to_settle(order, amount, invoice)
    _refuse_more_than_due(order, invoice.amount)
    invoice.buyer_comment = (buyer_comment or "")[:2000]
    outcome = GatewayOutcome(succeeded=True, payment_system=payment_system, at=timezone.now())
    _settle(order, invoice, outcome, actor, strict=True)
    return invoice


@retry_on_deadlock
@transaction.atomic
def mark_order_paid(
    *, order: Order, payment_system: PaymentSystem, buyer_comment: str = "", actor: Actor
) -> list[Invoice]:
    """Record that all still due was received by a manual method: each pending invoice
    settled in turn, then one manual payment for what is left. Returns what it settled."""
    order = lock_order(order=order)
    refuse_payment_on_closed_order(order=order)
    if order.total - order_money(order=order)["net"] <= 0:
        raise Conflict(
            _("Order {order} is paid already.").format(order=order.number),
            fields={"order": _("nothing left to pay")},
        )
    settled = []
    pending = order.invoices.filter(status=InvoiceStatus.PENDING).order_by("installment")
    for invoice in pending:
        settled.append(
            record_manual_payment(
                order=order,
                payment_system=payment_system,
                invoice=invoice,
                buyer_comment=buyer_comment,
                actor=actor,
            )
        )
    left = order.total - order_money(order=order)["net"]
    if left > 0:
        settled.append(
            record_manual_payment(
                order=order,
                payment_system=payment_system,
                amount=left,
                buyer_comment=buyer_comment,
                actor=actor,
            )
        )
    return settled


def _gateway_to_charge(
    order: Order, invoice: Invoice, payment_system: PaymentSystem, one_click: bool
) -> Gateway:
    """The gateway that may charge this invoice now; raises naming what stands in the way."""
    refuse_payment_on_closed_order(order=order)
    if invoice.status != InvoiceStatus.PENDING:
        if invoice.status == InvoiceStatus.FAILED:
            message = _("Invoice {number} is {status}. Retry it to make a new attempt.")
        else:
            message = _("Invoice {number} is {status}.")
        raise Conflict(
            message.format(number=invoice.number, status=invoice.status),
            fields={"invoice": invoice.status},
        )
    gateway = gateway_for(payment_system.provider)
    if gateway is None or not payment_system.is_active:
        raise Invalid(
            _("{system} cannot charge cards.").format(system=payment_system.name),
            fields={"payment_system": _("not a card gateway")},
        )
    if one_click and not payment_system.supports_one_click:
        raise Invalid(
            _("{system} has no one-click payments.").format(system=payment_system.name),
            fields={"one_click": _("not supported by this payment system")},
        )
    return gateway


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
    When the gateway gives no answer, the attempt stays on the invoice (`attempted_at`):
    the provider may have taken the money, so until it answers the invoice is not
    re-issued (see `adjustment.with_provider`); then Unavailable is raised.
    """
    invoice, outage = _charge(
        invoice=invoice,
        payment_system=payment_system,
        card_token=card_token,
        one_click=one_click,
        actor=actor,
    )
    if outage is not None:
        raise Unavailable(
            _("{system} is unavailable: {outage}. The invoice is still pending; try again.").format(
                system=payment_system.name, outage=outage
            ),
            fields={"payment_system": _("unavailable")},
        )
    return invoice


@retry_on_deadlock
@transaction.atomic
def _charge(
    *,
    invoice: Invoice,
    payment_system: PaymentSystem,
    card_token: str,
    one_click: bool,
    actor: Actor,
) -> tuple[Invoice, str | None]:
    """The charge, committed whatever the gateway says; the outage's words if it said
    nothing (raising in here would roll back the attempt it must keep)."""
    order, invoice = lock_invoice(invoice=invoice)
    gateway = _gateway_to_charge(order, invoice, payment_system, one_click)
    now = timezone.now()
    try:
        result = gateway.charge(
            ChargeRequest(
                amount=invoice.amount,
                currency=invoice.currency,
                token=card_token,
                idempotency_key=f"invoice-{invoice.number}",
                one_click=one_click,
            )
        )
    except GatewayUnavailable as exc:
        invoice.attempted_at = now
        invoice.payment_system = payment_system
        invoice.save(update_fields=["attempted_at", "payment_system"])
        return invoice, str(exc)
    _settle(
        order,
        invoice,
        GatewayOutcome(
            succeeded=result.succeeded,
            payment_system=payment_system,
            at=now,
            one_click=result.one_click,
            transaction_id=result.transaction_id,
            failure_code=result.failure_code,
            failure_message=result.failure_message,
        ),
        actor,
    )
    return invoice, None


@dataclass(frozen=True)
class ChargedOrder:
    """An open order a gateway has charged in full."""

    order: Order
    payment_system: PaymentSystem
    transaction_id: str


@dataclass(frozen=True)
class NewChargedOrder:
    """A new order a gateway has already charged in full (a recurring payment)."""

    order: OrderInput
    payment_system: PaymentSystem
    transaction_id: str


def _insert_succeeded_invoices(charges: Sequence[ChargedOrder], at: datetime) -> list[Invoice]:
    """One succeeded invoice for the whole of each order, its fee included, inserted."""
    fees: dict[tuple[int, str], FeeRule | None] = {}
    invoices = []
    numbers = reserve_numbers("invoice", len(charges), start=INVOICE_NUMBER_START)
    for number, charge in zip(numbers, charges, strict=True):
        order, system = charge.order, charge.payment_system
        key = (system.pk, order.currency)
        if key not in fees:
            fees[key] = FeeRule.objects.filter(
                payment_system=system, currency=order.currency
            ).first()
        fee = _fee(fees[key], order.total, order.currency)
        invoices.append(
            Invoice(
                number=number,
                order=order,
                installment=1,
                status=InvoiceStatus.SUCCEEDED,
                amount=order.total,
                currency=order.currency,
                fee=fee,
                funds_credited=order.total - fee,
                payment_system=system,
                transaction_id=charge.transaction_id,
                attempted_at=at,
                paid_at=at,
                status_at=at,
            )
        )
    insert_many(Invoice, invoices, batch_size=500)
    return invoices


def _charged_events(
    charges: Sequence[ChargedOrder], invoices: Sequence[Invoice], completions: Sequence[dict]
) -> list[tuple[Order, OrderEventKind, dict]]:
    """The events issuing each invoice, its payment and the completion it brings record
    one by one (`issue_invoices`, a charge, `recompute_order_payments`); `completions` are
    the orders' status moves (`complete_paid_orders`)."""
    entries: list[tuple[Order, OrderEventKind, dict]] = []
    for charge, invoice, completion in zip(charges, invoices, completions, strict=True):
        order = charge.order
        amount = format_money(invoice.amount, invoice.currency)
        entries += [
            (
                order,
                OrderEventKind.INVOICE_ISSUED,
                {"invoices": [invoice.number], "amounts": [amount]},
            ),
            (
                order,
                OrderEventKind.PAYMENT_SUCCEEDED,
                {
                    "invoice": invoice.number,
                    "amount": amount,
                    "payment_system": charge.payment_system.name,
                    "one_click": False,
                },
            ),
            (
                order,
                OrderEventKind.PAYMENT_STATUS_CHANGED,
                {
                    "payment_status": {"from": PaymentStatus.UNPAID, "to": PaymentStatus.PAID},
                    "refund_status": {"from": RefundStatus.NONE, "to": RefundStatus.NONE},
                    "net": amount,
                },
            ),
            (order, OrderEventKind.STATUS_CHANGED, completion),
        ]
    return entries


@retry_on_deadlock
@transaction.atomic
def record_charged_orders(
    *, charges: Sequence[ChargedOrder], at: datetime, actor: Actor
) -> list[Invoice]:
    """A batch of open orders, each charged in full by a gateway (orders a store sync
    brought in paid): one succeeded invoice each, paid, completed, with the events and
    lifecycle handlers `issue_invoices`, a charge and `recompute_order_payments` give one by
    one. The orders must be open, unpaid and uninvoiced.
    """
    if not charges:
        return []
    ids = [c.order.pk for c in charges]
    # Locked as they are now, in id order (a count would lock nothing: PostgreSQL takes no
    # row lock for an aggregate), and judged on what the rows hold, not on the callers'
    # objects: a cancel that came first leaves its order cancelled.
    locked = {
        order.pk: order
        for order in Order.objects.select_for_update(no_key=True).filter(pk__any=ids).order_by("pk")
    }
    ready = [
        order
        for order in locked.values()
        if order.status == OrderStatus.OPEN and order.payment_status == PaymentStatus.UNPAID
    ]
    if len(ready) != len(set(ids)) or Invoice.objects.filter(order_id__any=ids).exists():
        raise Conflict(_("Only new, open, uninvoiced orders are recorded as charged in a batch."))
    charges = [
        ChargedOrder(locked[c.order.pk], c.payment_system, c.transaction_id) for c in charges
    ]
    completions = complete_paid_orders(orders=[c.order for c in charges], actor=actor)
    invoices = _insert_succeeded_invoices(charges, at)
    record_events(_charged_events(charges, invoices, completions), actor)
    return invoices


@retry_on_deadlock
@transaction.atomic
def create_charged_orders(
    *, charges: Sequence[NewChargedOrder], at: datetime, actor: Actor
) -> list[tuple[Order, Invoice]]:
    """New orders a gateway has charged in full (the billing engine's batch), written as
    they end up: completed and paid, each with its succeeded invoice, and with every event
    creating, invoicing, paying and completing them one by one records. The handlers run
    once for the batch, and no order row is written twice. All or none: an invalid order
    raises Invalid naming its fields by index (`prepare_orders`).
    """
    if not charges:
        return []
    prepared = prepare_orders(data=[c.order for c in charges], actor=actor)
    opened = [created_payload(order=item.order) for item in prepared]  # as one by one: open first
    # Open → completed, "paid in full", before the rows are written: each is written once.
    completions = complete_paid_orders(
        orders=[item.order for item in prepared], actor=actor, saved=False
    )
    orders = save_new_orders(prepared=prepared)
    charged = [
        ChargedOrder(order, c.payment_system, c.transaction_id)
        for order, c in zip(orders, charges, strict=True)
    ]
    invoices = _insert_succeeded_invoices(charged, at)
    created = [
        (order, OrderEventKind.CREATED, payload)
        for order, payload in zip(orders, opened, strict=True)
    ]
    record_events(created + _charged_events(charged, invoices, completions), actor)
    return list(zip(orders, invoices, strict=True))


@retry_on_deadlock
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
    order, invoice = lock_invoice(invoice=invoice)
    if invoice.status in CAPTURED:
        return False
    # An invoice voided here (re-issued, or its order cancelled) says nothing about the
    # provider's side: money the provider took under its number really arrived.
    voided_here = invoice.failure_code in VOIDED
    if (
        invoice.status_at is not None
        and occurred_at <= invoice.status_at
        and not (succeeded and voided_here)
    ):
        return False
    if voided_here and not succeeded:
        return False
    outcome = GatewayOutcome(
        succeeded=succeeded,
        payment_system=payment_system,
        at=occurred_at,
        one_click=paid_in_one_click,
        transaction_id=transaction_id,
        failure_code=failure_code or "failed",
        failure_message=failure_message,
    )
    _settle(order, invoice, outcome, actor)
    return True
