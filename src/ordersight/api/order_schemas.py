"""API shapes for orders: what callers send and what they get back."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from ordersight.api.payment_schemas import InvoiceOut, RefundOut, invoice_out, invoice_row_out
from ordersight.core.money import format_money
from ordersight.core.validation import EARLIEST, EXTERNAL_ID_MAX, LATEST
from ordersight.http.schemas import (
    ID_OR_NULL,
    VISIBLE,
    Amount,
    Code,
    CurrencyOrNone,
    JsonObject,
    StrictIn,
    decimals_by_currency,
)
from ordersight.orders import selectors
from ordersight.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderSource,
    OrderType,
    order_badge,
)
from ordersight.orders.pricing import (
    MAX_LINES,
    MAX_QUANTITY,
    NOTES_MAX,
    LineInput,
    OrderInput,
)
from ordersight.orders.selectors import LineRow
from ordersight.orders.services import CREATE_STATUSES
from ordersight.payments.selectors import invoices_of_order, invoices_of_orders


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


def order_out(order: Order) -> dict[str, Any]:
    """The API form of one order read as a model instance, its lines through its relation
    and its invoices from payments (what `orders_out` gives from rows; kept as the other
    side of the answer parity test)."""
    invoices = [invoice_out(invoice) for invoice in invoices_of_order(order=order)]
    return _order_answer(order_row(order), order.lines.all(), invoices)


# The columns of an order its answer shows, read as a row: a page of orders reads these
# alone, as tuples (model instances of 50 orders, their customers and managers cost more
# than their query; the customers' metadata and the users' passwords were read for nothing).
ORDER_ROW_FIELDS = (
    "id",
    "number",
    "external_id",
    "source",
    "order_type",
    "created_at",
    "updated_at",
    "status",
    "payment_status",
    "refund_status",
    "fulfillment_status",
    "currency",
    "subtotal",
    "discount_total",
    "total",
    "customer_id",
    "customer__name",
    "customer__email",
    *(
        f"{user}{field}"
        for user in ("sales_manager", "sales_confirmed_by")
        for field in ("_id", "__username", "__first_name", "__last_name")
    ),
    "sales_confirmed_at",
    "metadata",
    "notes",
    "coupon_code",
    "referral_code",
)
OrderRow = namedtuple("OrderRow", ORDER_ROW_FIELDS)  # type: ignore[misc]


def order_row(order: Order) -> Any:
    """An order as the row a page of orders reads (`ORDER_ROW_FIELDS`)."""
    values = []
    for name in ORDER_ROW_FIELDS:
        value: Any = order
        for part in name.split("__"):
            value = None if value is None else getattr(value, part)
        values.append(value)
    return OrderRow(*values)


def orders_out(rows: Sequence[Any], *, invoiced: bool = True) -> list[dict[str, Any]]:
    """The API form of a page of orders read as rows (`ORDER_ROW_FIELDS`), exactly as
    `order_out` gives each one; their lines, their invoices and the refunds of those that
    show refunded money are read in a query each for the whole page (no invoices for orders
    the caller knows have none yet: `invoiced=False`)."""
    ids = [row.id for row in rows]
    lines = selectors.lines_of_orders(order_ids=ids)
    invoices = invoices_of_orders(order_ids=ids) if invoiced else {}
    return [
        _order_answer(
            row,
            lines.get(row.id, ()),
            [
                invoice_row_out(invoice, order_number=row.number, order_total=row.total)
                for invoice in invoices.get(row.id, ())
            ],
        )
        for row in rows
    ]


def _user(user_id: int | None, username: str, first_name: str, last_name: str) -> Any:
    if user_id is None:
        return None
    # As AbstractUser.get_full_name gives it.
    return {"id": user_id, "username": username, "name": f"{first_name} {last_name}".strip()}


def _order_answer(
    row: Any, lines: Iterable[OrderLine | LineRow], invoices: list[dict[str, Any]]
) -> dict[str, Any]:
    c = row.currency
    return {
        "number": row.number,
        "external_id": row.external_id,
        "source": row.source,
        "order_type": row.order_type,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "status": row.status,
        "payment_status": row.payment_status,
        "refund_status": row.refund_status,
        "fulfillment_status": row.fulfillment_status,
        "badge": order_badge(row.status, row.refund_status, row.fulfillment_status),
        "currency": c,
        "subtotal": format_money(row.subtotal, c),
        "discount_total": format_money(row.discount_total, c),
        "total": format_money(row.total, c),
        "customer": (
            {"id": row.customer_id, "name": row.customer__name, "email": row.customer__email}
            if row.customer_id is not None
            else None
        ),
        "sales_manager": _user(
            row.sales_manager_id,
            row.sales_manager__username,
            row.sales_manager__first_name,
            row.sales_manager__last_name,
        ),
        "sales_confirmed_by": _user(
            row.sales_confirmed_by_id,
            row.sales_confirmed_by__username,
            row.sales_confirmed_by__first_name,
            row.sales_confirmed_by__last_name,
        ),
        "sales_confirmed_at": row.sales_confirmed_at,
        "metadata": row.metadata,
        "notes": row.notes,
        "coupon_code": row.coupon_code,
        "referral_code": row.referral_code,
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
            for line in lines
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
