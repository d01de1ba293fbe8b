"""API shapes for orders: what callers send and what they get back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from ordersight.api.payment_schemas import InvoiceOut, RefundOut, invoice_out
from ordersight.core.money import format_money
from ordersight.core.schemas import Amount, StrictIn
from ordersight.orders.models import Order, OrderEvent
from ordersight.orders.pricing import LineInput, OrderInput


class LineIn(StrictIn):
    sku: str | None = Field(None, max_length=100, description="Catalog SKU; price from catalog")
    name: str | None = Field(None, max_length=300, description="Name of a free line")
    unit_price: Amount | None = Field(None, description="Required for a free line")
    quantity: int = Field(1, description="Greater than zero")
    discount: Amount = Decimal(0)


class OrderIn(StrictIn):
    lines: list[LineIn]
    currency: str | None = Field(None, description="ISO 4217; taken from SKUs when omitted")
    customer_id: int | None = None
    customer_external_id: str | None = Field(
        None,
        description="The customer's id in the order's source system, or in another source "
        "when exactly one customer has it there",
    )
    source: str = "api"
    order_type: str = "standard"
    status: str = "open"
    external_id: str | None = None
    metadata: Any = Field(None, description="A JSON object of at most 16 KB")
    notes: str = ""
    coupon_code: str = Field("", description="The coupon code the buyer entered")
    referral_code: str = Field(
        "", description="The affiliate link code: the storefront's `ref` URL parameter"
    )
    created_at: datetime | None = None
    sales_manager_id: int | None = None
    sales_manager: str | None = Field(
        None, max_length=150, description="The sales manager's username (see GET /users)"
    )
    subtotal: Amount | None = Field(None, description="Optional check of our computed subtotal")
    discount_total: Amount | None = None
    total: Amount | None = Field(None, description="Optional check of our computed total")

    def to_input(self) -> OrderInput:
        data = self.model_dump(exclude={"lines"})
        return OrderInput(lines=[LineInput(**line.model_dump()) for line in self.lines], **data)


class OrderUpdateIn(StrictIn):
    metadata: Any = None
    notes: str | None = None
    order_type: str | None = None
    coupon_code: str | None = None
    referral_code: str | None = None


class TransitionIn(StrictIn):
    reason: str = Field("", max_length=500)


class BulkIn(StrictIn):
    orders: list[dict[str, Any]] = Field(..., max_length=1000, description="At most 1,000")


class CustomerRef(Schema):
    id: int
    name: str
    email: str


class UserRef(Schema):
    id: int
    username: str
    name: str


class LineOut(Schema):
    position: int
    sku: str
    name: str
    offer_number: int | None
    category_number: int | None
    unit_price: str
    quantity: int
    discount: str
    total: str


class OrderOut(Schema):
    number: int
    external_id: str | None
    source: str
    order_type: str
    created_at: datetime
    updated_at: datetime
    status: str
    payment_status: str
    refund_status: str
    fulfillment_status: str
    badge: str
    currency: str
    subtotal: str
    discount_total: str
    total: str
    customer: CustomerRef | None
    sales_manager: UserRef | None
    sales_confirmed_by: UserRef | None
    sales_confirmed_at: datetime | None
    metadata: dict[str, Any]
    notes: str
    coupon_code: str
    referral_code: str
    lines: list[LineOut]
    invoices: list[InvoiceOut]
    refunds: list[RefundOut]


class EventOut(Schema):
    id: int
    kind: str
    actor_type: str
    actor: str
    payload: dict[str, Any]
    created_at: datetime


def _user(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()}


def order_out(order: Order) -> dict[str, Any]:
    c = order.currency
    customer = order.customer
    invoices = [invoice_out(invoice) for invoice in order.invoices.all()]
    return {
        "number": order.number,
        "external_id": order.external_id,
        "source": order.source,
        "order_type": order.order_type,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "status": order.status,
        "payment_status": order.payment_status,
        "refund_status": order.refund_status,
        "fulfillment_status": order.fulfillment_status,
        "badge": order.badge,
        "currency": c,
        "subtotal": format_money(order.subtotal, c),
        "discount_total": format_money(order.discount_total, c),
        "total": format_money(order.total, c),
        "customer": (
            {"id": customer.pk, "name": customer.name, "email": customer.email}
            if customer
            else None
        ),
        "sales_manager": _user(order.sales_manager),
        "sales_confirmed_by": _user(order.sales_confirmed_by),
        "sales_confirmed_at": order.sales_confirmed_at,
        "metadata": order.metadata,
        "notes": order.notes,
        "coupon_code": order.coupon_code,
        "referral_code": order.referral_code,
        "lines": [
            {
                "position": line.position,
                "sku": line.sku,
                "name": line.name,
                "offer_number": line.offer_number,
                "category_number": line.category_number,
                "unit_price": format_money(line.unit_price, c),
                "quantity": line.quantity,
                "discount": format_money(line.discount, c),
                "total": format_money(line.total, c),
            }
            for line in order.lines.all()
        ],
        "invoices": invoices,
        "refunds": [refund for invoice in invoices for refund in invoice["refunds"]],
    }


def event_out(event: OrderEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "actor_type": event.actor_type,
        "actor": event.actor_label,
        "payload": event.payload,
        "created_at": event.created_at,
    }
