"""Reads for orders: the one list selector behind the UI list, the API list and the export."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import (
    DecimalField,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from ordersight.core.csv_stream import IsoTimestamp, as_text, money_text, neutralised
from ordersight.core.errors import NotFound
from ordersight.core.held import Held
from ordersight.core.lists import ListSpec
from ordersight.core.related_rows import CompiledRows, RelatedRows
from ordersight.core.validation import ascii_int, is_id
from ordersight.customers.models import Customer
from ordersight.orders.filters import OrderFilterSet
from ordersight.orders.models import Order, OrderEvent, OrderLine, SalesPlanEntry


def _base() -> QuerySet[Order]:
    # What a row of the list shows; an order's lines, invoices and refunds are read by
    # those who show them (`ORDER_DETAILS`), for the page's orders at once.
    return Order.objects.select_related("customer", "sales_manager")


# An order's details as the order page shows them, prefetched (its invoices are payments'
# to read: `payments.selectors.invoices_of_order`).
ORDER_DETAILS = (Prefetch("lines", queryset=OrderLine.objects.order_by("position")),)


def _not_null(field: str, empty: Any) -> Coalesce:
    # The lead line's columns are null on free lines; a sort key must not be null.
    if isinstance(empty, Decimal):
        return Coalesce(field, Value(empty), output_field=MONEY)
    return Coalesce(field, Value(empty))


MONEY = DecimalField(max_digits=18, decimal_places=4)

# All Orders: one name per column, the same in the table, its sort and the CSV. The lead
# line (position 1) stands for the order's items; `line_count` says how many there are.
ORDER_LIST = ListSpec(
    name="orders",
    filterset=OrderFilterSet,
    base=_base,
    sorts={
        "created_at": "created_at",
        "number": "number",
        "total": "total",
        "subtotal": "subtotal",
        "status": "status",
        "item": "lead_item",
        "customer_name": _not_null("customer__name", ""),
        "category_number": _not_null("lead_category_number", 0),
        "offer_number": _not_null("lead_offer_number", 0),
        "unit_price": _not_null("lead_unit_price", Decimal(0)),
        "quantity": _not_null("lead_quantity", 0),
        "sales_manager": _not_null("sales_manager__username", ""),
    },
    default_sort="-created_at",
    columns=(
        ("number", "number"),
        ("created_at", IsoTimestamp("created_at")),
        ("status", "status"),
        ("payment_status", "payment_status"),
        ("refund_status", "refund_status"),
        ("fulfillment_status", "fulfillment_status"),
        ("source", "source"),
        ("order_type", "order_type"),
        ("external_id", neutralised("external_id")),
        ("customer_id", "customer_id"),
        ("customer_name", neutralised("customer__name")),
        ("customer_email", neutralised("customer__email")),
        ("currency", "currency"),
        ("subtotal", money_text("subtotal")),
        ("discount_total", money_text("discount_total")),
        ("total", money_text("total")),
        ("line_count", "line_count"),
        ("item", neutralised("lead_item")),
        ("sku", neutralised("lead_sku")),
        ("offer_number", "lead_offer_number"),
        ("category_number", "lead_category_number"),
        ("unit_price", money_text("lead_unit_price")),
        ("quantity", "lead_quantity"),
        ("sales_manager", neutralised("sales_manager__username")),
        ("sales_confirmed_at", IsoTimestamp("sales_confirmed_at")),
        ("notes", neutralised("notes")),
        ("metadata", as_text("metadata")),
    ),
    filename="orders.csv",
)
ORDER_EXPORT_COLUMNS = ORDER_LIST.headers


def list_orders(*, filters: Mapping[str, Any]) -> QuerySet[Order]:
    """The orders matching `filters`: behind All Orders, `GET /orders` and the export."""
    return ORDER_LIST.rows(filters)


def get_order(*, number: int, details: bool = True) -> Order:
    """The order, with its details (`ORDER_DETAILS`) prefetched unless `details` is False
    (for a caller that reads them its own way)."""
    orders = _base().select_related("sales_confirmed_by")
    if details:
        orders = orders.prefetch_related(*ORDER_DETAILS)
    order = orders.filter(number=number).first() if is_id(number) else None
    if order is None:
        raise _no_order(number)
    return order


def _no_order(number: int) -> NotFound:
    return NotFound(
        _("No order {number}.").format(number=number), fields={"number": _("not found")}
    )


# One per set of columns asked for (the API's answer reads one); a few at most are kept.
_ORDER_ROWS: dict[tuple[str, ...], CompiledRows] = {}
_KEPT_ORDER_ROWS = 8


def get_order_row(*, number: int, fields: tuple[str, ...]) -> tuple[Any, ...]:
    """The order's `fields` (paths as `values_list` takes them) as one row, for a reader
    that shows columns rather than an object: its SQL is compiled once (core/related_rows.py),
    where an order with its relations spent two thirds of its read compiling. NotFound as
    `get_order`."""
    fields = tuple(fields)
    rows = _ORDER_ROWS.get(fields)
    if rows is None:
        rows = CompiledRows(
            lambda numbers: Order.objects.filter(number__in=numbers).values_list(*fields)
        )
        if len(_ORDER_ROWS) < _KEPT_ORDER_ROWS:
            rows = _ORDER_ROWS.setdefault(fields, rows)
    found = rows.run([number]) if is_id(number) else []
    if not found:
        raise _no_order(number)
    return found[0]


def order_ids_by_number(*, numbers: Iterable[int]) -> dict[int, int]:
    """The ids of the orders with these numbers (a number with no order is absent)."""
    wanted = [n for n in set(numbers) if is_id(n)]
    return dict(Order.objects.filter(number__in=wanted).values_list("number", "pk"))


class LineRow(NamedTuple):
    """An order's line as the API shows it."""

    order_id: int
    position: int
    sku: str
    name: str
    offer_number: int | None
    category_number: int | None
    unit_price: Decimal
    quantity: int
    discount: Decimal
    total: Decimal


_LINES_OF_ORDERS = RelatedRows(
    lambda ids: (
        OrderLine.objects.filter(order_id__in=ids)
        .order_by("order_id", "position")
        .values_list(*LineRow._fields)
    )
)


def lines_of_orders(*, order_ids: Sequence[int]) -> dict[int, list[LineRow]]:
    """The lines of a page of orders, by order id, in position order: one query."""
    return {
        order_id: [LineRow._make(row) for row in rows]
        for order_id, rows in _LINES_OF_ORDERS.of(order_ids).items()
    }


def _currencies_in_use() -> list[str]:
    return sorted(set(Order.objects.values_list("currency", flat=True).distinct()[:50]))


# What the report pages offer to filter by. Finding them reads every order (45 ms at
# 200,000 orders, most of the dashboard's time), and a new currency is rare: each process
# reads them at most every 5 minutes (a page also offers the currency it is filtered by).
order_currencies = Held(_currencies_in_use, seconds=300)


def list_sales_plan(*, customer: Customer) -> QuerySet[SalesPlanEntry]:
    """The customer's sales plan: which offers they paid for through which manager."""
    return SalesPlanEntry.objects.filter(customer=customer).select_related("offer", "manager")


def list_order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).select_related("actor_user")


def find_orders(*, term: str, limit: int) -> list[Order]:
    """Orders a search names exactly: by number (a leading # allowed) or by external id.
    Both are single index probes, whatever the number of orders."""
    term = term.strip()
    match = Q(external_id=term)
    digits = term.removeprefix("#")
    if is_id(number := ascii_int(digits)):
        match |= Q(number=number)
    rows = Order.objects.filter(match).select_related("customer").order_by("-created_at", "-id")
    return list(rows[:limit])
