"""Reads for payments: the invoice list behind the Payments tab, its API and its export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from ordersight.core.csv_stream import IsoTimestamp, money_text, neutralised, yes_no
from ordersight.core.errors import Invalid, NotFound
from ordersight.core.lists import ListSpec
from ordersight.core.money import ZERO
from ordersight.core.related_rows import RelatedRows
from ordersight.core.validation import ascii_int, is_id
from ordersight.orders.models import Order
from ordersight.payments.filters import InvoiceFilterSet
from ordersight.payments.models import CAPTURED, Invoice, InvoiceStatus, PaymentSystem, Refund


def _base() -> QuerySet[Invoice]:
    return Invoice.objects.select_related(
        "order", "payment_system", "order__customer"
    ).prefetch_related("refunds")


# The Payments tab lists invoices (payment attempts); one name per column everywhere.
INVOICE_LIST = ListSpec(
    name="payments",
    filterset=InvoiceFilterSet,
    base=_base,
    sorts={"created_at": "created_at", "invoice_number": "number", "amount": "amount"},
    default_sort="-created_at",
    columns=(
        ("invoice_number", "number"),
        ("order_number", "order__number"),
        ("installment", "installment"),
        ("created_at", IsoTimestamp("created_at")),
        ("attempted_at", IsoTimestamp("attempted_at")),
        ("status", "status"),
        ("amount", money_text("amount")),
        ("currency", "currency"),
        ("fee", money_text("fee")),
        ("funds_credited", money_text("funds_credited")),
        ("refunded", money_text("refunded_amount")),
        ("payment_system", neutralised("payment_system__name")),
        ("one_click", yes_no("paid_in_one_click")),
        ("customer_name", neutralised("order__customer__name")),
        ("buyer_comment", neutralised("buyer_comment")),
        ("failure_code", neutralised("failure_code")),
    ),
    filename="payments.csv",
)


def paid_through(*, code: str) -> Q:
    """Orders that took money (an invoice that succeeded, or was refunded since) through
    the payment system with this code: the orders list's filter, installed into it."""
    captured = Invoice.objects.filter(
        order=OuterRef("pk"), payment_system__code=code, status__in=CAPTURED
    )
    return Q(Exists(captured))


def invoices_of_order(*, order: Order) -> list[Invoice]:
    """An order's invoices as its page shows them, with their payment systems and refunds."""
    return list(
        Invoice.objects.filter(order=order)
        .select_related("payment_system")
        .prefetch_related("refunds")
    )


def list_invoices(*, filters: Mapping[str, Any]) -> QuerySet[Invoice]:
    """The invoices matching `filters`: behind the Payments tab, `GET /payments`, the export."""
    return INVOICE_LIST.rows(filters)


def order_money(*, order: Order) -> dict[str, Decimal]:
    """Captured, refunded, net and invoiced amounts of an order, in its one currency."""
    sums = Invoice.objects.filter(order=order).aggregate(
        captured=Sum("amount", filter=Q(status__in=CAPTURED)),
        refunded=Sum("refunded_amount", filter=Q(status__in=CAPTURED)),
        invoiced=Sum("amount", filter=Q(status__in=(InvoiceStatus.PENDING, *CAPTURED))),
    )
    captured = sums["captured"] or ZERO
    refunded = sums["refunded"] or ZERO
    return {
        "captured": captured,
        "refunded": refunded,
        "net": captured - refunded,
        "invoiced": sums["invoiced"] or ZERO,
    }


def payment_totals(*, queryset: QuerySet[Invoice]) -> dict[str, dict[str, Any]]:
    """Captured, refunded, net, fees and funds credited per currency, never across currencies."""
    captured = Q(status__in=("succeeded", "refunded"))
    rows = (
        queryset.order_by()
        .values("currency")
        .annotate(
            captured=Sum("amount", filter=captured),
            refunded=Sum("refunded_amount", filter=captured),
            fees=Sum("fee", filter=captured),
            funds_credited=Sum("funds_credited", filter=captured),
        )
    )
    totals = {}
    for row in rows:
        captured_sum = row["captured"] or 0
        refunded_sum = row["refunded"] or 0
        totals[row["currency"]] = {
            "captured": captured_sum,
            "refunded": refunded_sum,
            "net": captured_sum - refunded_sum,
            "fees": row["fees"] or 0,
            "funds_credited": row["funds_credited"] or 0,
        }
    return totals


def get_invoice(*, number: int, field: str | None = None) -> Invoice:
    """The invoice with this number. Named in the URL it is a 404; named in a body field
    (`field`) it is an invalid field."""
    invoice = list_invoices(filters={}).filter(number=number).first() if is_id(number) else None
    if invoice is None:
        if field is not None:
            raise Invalid(
                _("No invoice {number}.").format(number=number),
                fields={field: _("unknown invoice")},
            )
        raise NotFound(
            _("No invoice {number}.").format(number=number), fields={"number": _("not found")}
        )
    return invoice


def list_payment_systems() -> QuerySet[PaymentSystem]:
    return PaymentSystem.objects.prefetch_related("fee_rules").order_by("name")


def get_payment_system(
    *, code: str, field: str = "payment_system", missing: bool = False
) -> PaymentSystem:
    """The payment system with this code. Named in a body it is an invalid field; named in
    the URL (`missing=True`) it is a 404."""
    system = list_payment_systems().filter(code=code).first()
    if system is None:
        if missing:
            raise NotFound(
                _("No payment system {code}.").format(code=repr(code)),
                fields={"code": _("not found")},
            )
        raise Invalid(
            _("No payment system {code}.").format(code=repr(code)),
            fields={field: _("unknown payment system")},
        )
    return system


class RefundRow(NamedTuple):
    id: int
    amount: Decimal
    currency: str
    reason: str
    transaction_id: str
    actor_label: str
    created_at: datetime


class InvoiceRow(NamedTuple):
    """An order's invoice as the API shows it, with its refunds (oldest first)."""

    order_id: int
    id: int
    number: int
    installment: int
    status: str
    amount: Decimal
    currency: str
    fee: Decimal
    funds_credited: Decimal
    refunded_amount: Decimal
    paid_in_one_click: bool
    buyer_comment: str
    transaction_id: str
    failure_code: str
    failure_message: str
    created_at: datetime
    attempted_at: datetime | None
    paid_at: datetime | None
    payment_system_name: str | None
    payment_system_code: str | None
    refunds: list[RefundRow]


_INVOICES_OF_ORDERS = RelatedRows(
    lambda ids: (
        Invoice.objects.filter(order_id__in=ids)
        .order_by("order_id", "installment", "number")
        .values_list(*InvoiceRow._fields[:-3], "payment_system__name", "payment_system__code")
    )
)
# By the refunds' own order id: joined to the invoices instead, PostgreSQL scanned every
# refund to hash them.
_REFUNDS_OF_ORDERS = RelatedRows(
    lambda ids: (
        Refund.objects.filter(order_id__in=ids)
        .order_by("order_id", "created_at", "id")
        .values_list("order_id", "invoice_id", *RefundRow._fields)
    )
)


def invoices_of_orders(*, order_ids: Sequence[int]) -> dict[int, list[InvoiceRow]]:
    """The invoices of a page of orders with their refunds, by order id, in the invoices'
    own order (installment, number): one query, and one for the refunds of the orders that
    have any."""
    invoices = _INVOICES_OF_ORDERS.of(order_ids)
    # An invoice has refunds exactly when it shows refunded money: every refund is recorded
    # by `services.refunds._add_refund`, which adds it to its invoice in the same
    # transaction (tests/payments/test_properties.py holds the two equal). Most pages of
    # orders have none to read.
    refunded = [
        order_id
        for order_id, rows in invoices.items()
        if any(row[_REFUNDED_COLUMN] for row in rows)
    ]
    refunds: dict[int, list[RefundRow]] = {}
    for rows in _REFUNDS_OF_ORDERS.of(refunded).values() if refunded else ():
        for row in rows:
            refunds.setdefault(row[1], []).append(RefundRow._make(row[2:]))
    return {
        order_id: [InvoiceRow(*row, refunds.get(row[1], [])) for row in rows]
        for order_id, rows in invoices.items()
    }


_REFUNDED_COLUMN = InvoiceRow._fields.index("refunded_amount")


def find_invoices(*, term: str, limit: int) -> list[Invoice]:
    """The invoice a search names by its number (a leading # allowed): one index probe."""
    digits = term.strip().removeprefix("#")
    number = ascii_int(digits)
    if not is_id(number):
        return []
    rows = Invoice.objects.filter(number=number).select_related("order")
    return list(rows[:limit])
