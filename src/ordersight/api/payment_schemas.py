"""API shapes for invoices, refunds and payment actions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from ordersight.core.money import format_money
from ordersight.http.schemas import ID_OR_NULL, Amount, CurrencyOrNone, PositiveAmount, StrictIn
from ordersight.payments.models import Invoice, Refund, payment_percent, refundable_amount
from ordersight.payments.selectors import InvoiceRow, RefundRow
from ordersight.payments.services.invoicing import MAX_INSTALLMENTS


class IssueInvoicesIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["installments", "amounts"],
                "properties": {"installments": {"type": "integer"}, "amounts": {"type": "array"}},
            },
            "description": "installments or amounts, not both; amounts in the order's currency",
        }
    )

    installments: Annotated[
        int | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": MAX_INSTALLMENTS},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(None, description="Split the balance into N invoices")
    amounts: list[PositiveAmount] | None = Field(
        None,
        json_schema_extra={"minItems": 1},
        description="Or give each invoice's amount; they add up to what is left to invoice",
    )


class ManualPaymentIn(StrictIn):
    payment_system: str = Field(..., description="Code of a manual payment system")
    amount: PositiveAmount | None = Field(
        None, description="Defaults to the invoice or the balance; in the order's currency"
    )
    currency: CurrencyOrNone = Field(None, description="The order's currency, if given")
    invoice: Annotated[int | None, WithJsonSchema(ID_OR_NULL)] = Field(
        None, description="The pending invoice this settles"
    )
    buyer_comment: str = Field("", max_length=2000)


class ChargeIn(StrictIn):
    payment_system: str
    card_token: str = Field(..., min_length=1, max_length=200)
    one_click: bool = False


class RefundIn(StrictIn):
    amount: Amount
    reason: str = Field("", max_length=500)


class RefundOut(Schema):
    id: int
    invoice_number: int
    amount: str
    currency: str
    reason: str
    transaction_id: str
    actor: str
    created_at: datetime


class InvoiceOut(Schema):
    number: int
    order_number: int
    installment: int
    status: str
    amount: str
    currency: str
    fee: str
    funds_credited: str
    refunded: str
    refundable: str
    payment_percent: str
    payment_system: str | None
    payment_system_code: str | None
    paid_in_one_click: bool
    buyer_comment: str
    transaction_id: str
    failure_code: str
    failure_message: str
    created_at: datetime
    attempted_at: datetime | None
    paid_at: datetime | None
    refunds: list[RefundOut]


def refund_out(refund: Refund) -> dict[str, Any]:
    return refund_answer(refund, refund.invoice.number)


def refund_answer(refund: Refund | RefundRow, invoice_number: int) -> dict[str, Any]:
    """A refund's API form, from the model or from a row of `invoices_of_orders`."""
    return {
        "id": refund.id,
        "invoice_number": invoice_number,
        "amount": format_money(refund.amount, refund.currency),
        "currency": refund.currency,
        "reason": refund.reason,
        "transaction_id": refund.transaction_id,
        "actor": refund.actor_label,
        "created_at": refund.created_at,
    }


def invoice_out(invoice: Invoice) -> dict[str, Any]:
    system = invoice.payment_system
    return invoice_answer(
        invoice,
        order_number=invoice.order.number,
        order_total=invoice.order.total,
        system=(system.name, system.code) if system else (None, None),
        refunds=invoice.refunds.all(),
    )


def invoice_row_out(row: InvoiceRow, *, order_number: int, order_total: Decimal) -> dict[str, Any]:
    """`invoice_out` of an invoice read by `invoices_of_orders`."""
    return invoice_answer(
        row,
        order_number=order_number,
        order_total=order_total,
        system=(row.payment_system_name, row.payment_system_code),
        refunds=row.refunds,
    )


def invoice_answer(
    invoice: Invoice | InvoiceRow,
    *,
    order_number: int,
    order_total: Decimal,
    system: tuple[str | None, str | None],
    refunds: Iterable[Refund | RefundRow],
) -> dict[str, Any]:
    """An invoice's API form, the one definition for the model and for a row."""
    c = invoice.currency
    return {
        "number": invoice.number,
        "order_number": order_number,
        "installment": invoice.installment,
        "status": invoice.status,
        "amount": format_money(invoice.amount, c),
        "currency": c,
        "fee": format_money(invoice.fee, c),
        "funds_credited": format_money(invoice.funds_credited, c),
        "refunded": format_money(invoice.refunded_amount, c),
        "refundable": format_money(
            refundable_amount(invoice.status, invoice.amount, invoice.refunded_amount), c
        ),
        "payment_percent": str(payment_percent(invoice.amount, order_total)),
        "payment_system": system[0],
        "payment_system_code": system[1],
        "paid_in_one_click": invoice.paid_in_one_click,
        "buyer_comment": invoice.buyer_comment,
        "transaction_id": invoice.transaction_id,
        "failure_code": invoice.failure_code,
        "failure_message": invoice.failure_message,
        "created_at": invoice.created_at,
        "attempted_at": invoice.attempted_at,
        "paid_at": invoice.paid_at,
        "refunds": [refund_answer(r, invoice.number) for r in refunds],
    }
