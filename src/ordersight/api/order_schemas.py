"""API shapes for orders: what callers send and what they get back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from ordersight.api.payment_schemas import InvoiceOut, RefundOut, invoice_out
from ordersight.core.money import format_money
from ordersight.core.schemas import (
    ID_OR_NULL,
    VISIBLE,
    Amount,
    Code,
    CurrencyOrNone,
    JsonObject,
    StrictIn,
    decimals_by_currency,
)
from ordersight.core.validation import EXTERNAL_ID_MAX
from ordersight.orders.models import Order, OrderEvent, OrderSource, OrderType
from ordersight.orders.pricing import (
    EARLIEST,
    LATEST,
    MAX_LINES,
    MAX_QUANTITY,
    NOTES_MAX,
    LineInput,
    OrderInput,
)
from ordersight.orders.services import CREATE_STATUSES


def _doc(schema: dict[str, Any]) -> Any:
    """Stated in the schema only: pricing checks it and names the field in its own words."""
    return WithJsonSchema(schema)


def _built_in(choices: type, what: str, listed_at: str) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(choices.values),
        "description": f"A built-in {what}, or one the account added (GET {listed_at})",
    }


# Years whose every moment, at any UTC offset, falls in what pricing accepts (1970 to 2100).
_CREATED_AT = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^(197[1-9]|19[89][0-9]|20[0-8][0-9]|209[0-8])-",
    "description": f"Between {EARLIEST.year} and {LATEST.year} (UTC); a time without an "
    "offset is read as UTC",
}
_FREE_SKU = {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 0}]}
_CATALOG_LINE = {"required": ["sku"], "properties": {"sku": {"type": "string", "minLength": 1}}}


class LineIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                _CATALOG_LINE,
                {
                    "required": ["name", "unit_price"],
                    "properties": {
                        "sku": _FREE_SKU,
                        "name": {"type": "string", "pattern": VISIBLE},
                        "unit_price": {"type": "string"},
                    },
                },
            ],
            "description": "A catalog line (sku) or a free line (name and unit_price)",
        }
    )

    sku: str | None = Field(None, max_length=100, description="Catalog SKU; price from catalog")
    name: str | None = Field(None, max_length=300, description="Name of a free line")
    unit_price: Amount | None = Field(
        None, description="Required for a free line; for a SKU, if given, the catalog price"
    )
    quantity: Annotated[int, _doc({"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY})] = 1
    discount: Amount = Field(
        Decimal(0), description="At most unit_price × quantity, in the order's currency"
    )


class OrderIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    # The currency comes from the SKUs, or must be given.
                    "anyOf": [
                        {
                            "required": ["currency"],
                            "properties": {"currency": {"type": "string"}},
                        },
                        {"properties": {"lines": {"contains": _CATALOG_LINE}}},
                    ]
                },
                {
                    "not": {
                        "required": ["sales_manager_id", "sales_manager"],
                        "properties": {
                            "sales_manager_id": {"type": "integer"},
                            "sales_manager": {"type": "string", "minLength": 1},
                        },
                    },
                    "description": "sales_manager_id or sales_manager, not both",
                },
                decimals_by_currency(
                    "currency",
                    lambda pattern: {
                        "properties": {
                            "lines": {
                                "items": {
                                    "properties": {
                                        "unit_price": {"pattern": pattern},
                                        "discount": {"pattern": pattern},
                                    }
                                }
                            },
                            **{
                                name: {"pattern": pattern}
                                for name in ("subtotal", "discount_total", "total")
                            },
                        }
                    },
                ),
            ]
        }
    )

    lines: list[LineIn] = Field(..., json_schema_extra={"minItems": 1, "maxItems": MAX_LINES})
    currency: CurrencyOrNone = Field(None, description="ISO 4217; taken from SKUs when omitted")
    customer_id: Annotated[int | None, _doc(ID_OR_NULL)] = None
    customer_external_id: str | None = Field(
        None,
        description="The customer's id in the order's source system, or in another source "
        "when exactly one customer has it there",
    )
    source: Annotated[str, _doc(_built_in(OrderSource, "order source", "/order-sources"))] = "api"
    order_type: Annotated[str, _doc(_built_in(OrderType, "order type", "/order-types"))] = (
        "standard"
    )
    status: Annotated[str, _doc({"type": "string", "enum": sorted(CREATE_STATUSES)})] = "open"
    external_id: Annotated[
        str | None,
        _doc(
            {
                "anyOf": [
                    {"type": "string", "minLength": 1, "maxLength": EXTERNAL_ID_MAX},
                    {"type": "null"},
                ]
            }
        ),
    ] = None
    metadata: JsonObject = None
    notes: Annotated[str, _doc({"type": "string", "maxLength": NOTES_MAX})] = ""
    coupon_code: Code = Field("", description="The coupon code the buyer entered")
    referral_code: Code = Field(
        "", description="The affiliate link code: the storefront's `ref` URL parameter"
    )
    created_at: Annotated[datetime | None, _doc({"anyOf": [_CREATED_AT, {"type": "null"}]})] = None
    sales_manager_id: Annotated[int | None, _doc(ID_OR_NULL)] = None
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
    metadata: JsonObject = None
    notes: Annotated[
        str | None, _doc({"anyOf": [{"type": "string", "maxLength": NOTES_MAX}, {"type": "null"}]})
    ] = None
    order_type: Annotated[str, _doc(_built_in(OrderType, "order type", "/order-types"))] = None
    coupon_code: Code | None = None
    referral_code: Code | None = None


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
