"""Reads for orders: the one list selector behind the UI list, the API list and the export."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import (
    DecimalField,
    Prefetch,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce

from ordersight.core.csv_stream import IsoTimestamp, as_text, money_text, neutralised
from ordersight.core.errors import Invalid, NotFound
from ordersight.core.filtering import apply_filterset
from ordersight.customers.models import Customer
from ordersight.orders.filters import OrderFilterSet
from ordersight.orders.models import Order, OrderEvent, OrderLine, SalesPlanEntry

# Sortable columns of the order list. Model fields sort as they are; the others sort by a
# non-null annotation, so keyset pagination (with the id as tiebreak) stays exact.
SORTABLE_FIELDS = {
    "created_at": "created_at",
    "number": "number",
    "total": "total",
    "price": "subtotal",
    "status": "status",
    "offer": "lead_item",
}
DEFAULT_SORT = "-created_at"


def _sort_annotations() -> dict[str, Any]:
    # The lead line's columns are null on free lines; sorting needs a non-null key.
    return {
        "customer": Coalesce("customer__name", Value("")),
        "category": Coalesce("lead_category_number", Value(0)),
        "offer_number": Coalesce("lead_offer_number", Value(0)),
        "unit_price": Coalesce(
            "lead_unit_price",
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=18, decimal_places=4),
        ),
        "quantity": Coalesce("lead_quantity", Value(0)),
        "sales_manager": Coalesce("sales_manager__username", Value("")),
    }


SORTABLE = (*SORTABLE_FIELDS, *_sort_annotations())


def sort_orders(
    queryset: QuerySet[Order], sort: str | None
) -> tuple[QuerySet[Order], tuple[str, str]]:
    """The queryset ready to sort by `sort` (e.g. "-price"), and its keyset ordering."""
    sort = sort or DEFAULT_SORT
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key in SORTABLE_FIELDS:
        name = SORTABLE_FIELDS[key]
    elif key in SORTABLE:
        name = "sort_key"
        queryset = queryset.annotate(sort_key=_sort_annotations()[key])
    else:
        allowed = ", ".join(SORTABLE)
        raise Invalid(
            f"Cannot sort by {sort!r}.",
            fields={"sort": f"one of {allowed}, each optionally with a leading -"},
        )
    prefix = "-" if descending else ""
    return queryset, (f"{prefix}{name}", f"{prefix}id")


def list_orders(*, filters: Mapping[str, Any]) -> QuerySet[Order]:
    qs = Order.objects.select_related("customer", "sales_manager", "sales_confirmed_by")
    qs = qs.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("position")),
        "invoices__payment_system",
        "invoices__refunds",
    )
    return apply_filterset(OrderFilterSet, filters, qs)


def get_order(*, number: int) -> Order:
    order = list_orders(filters={}).filter(number=number).first()
    if order is None:
        raise NotFound(f"No order {number}.", fields={"number": "not found"})
    return order


def list_sales_plan(*, customer: Customer) -> QuerySet[SalesPlanEntry]:
    """The customer's sales plan: which offers they paid for through which manager."""
    return SalesPlanEntry.objects.filter(customer=customer).select_related("offer", "manager")


def list_order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).select_related("actor_user")


ORDER_EXPORT_COLUMNS = (
    "number",
    "created_at",
    "status",
    "payment_status",
    "refund_status",
    "fulfillment_status",
    "source",
    "order_type",
    "external_id",
    "customer_id",
    "customer_name",
    "customer_email",
    "currency",
    "subtotal",
    "discount_total",
    "total",
    "line_count",
    "first_item",
    "first_sku",
    "offer_number",
    "category_number",
    "sales_manager",
    "sales_confirmed_at",
    "notes",
    "metadata",
)


def order_export_rows(queryset: QuerySet[Order]) -> QuerySet:
    """The filtered orders as text cells, in ORDER_EXPORT_COLUMNS order, formulas neutralised."""
    return (
        queryset.select_related(None)
        .prefetch_related(None)
        .order_by("-created_at", "-id")
        .annotate(
            x_created=IsoTimestamp("created_at"),
            x_external=neutralised("external_id"),
            x_customer_name=neutralised("customer__name"),
            x_customer_email=neutralised("customer__email"),
            x_subtotal=money_text("subtotal"),
            x_discount=money_text("discount_total"),
            x_total=money_text("total"),
            x_first_item=neutralised("lead_item"),
            x_first_sku=neutralised("lead_sku"),
            x_manager=neutralised("sales_manager__username"),
            x_confirmed=IsoTimestamp("sales_confirmed_at"),
            x_notes=neutralised("notes"),
            x_metadata=as_text("metadata"),
        )
        .values_list(
            "number",
            "x_created",
            "status",
            "payment_status",
            "refund_status",
            "fulfillment_status",
            "source",
            "order_type",
            "x_external",
            "customer_id",
            "x_customer_name",
            "x_customer_email",
            "currency",
            "x_subtotal",
            "x_discount",
            "x_total",
            "line_count",
            "x_first_item",
            "x_first_sku",
            "lead_offer_number",
            "lead_category_number",
            "x_manager",
            "x_confirmed",
            "x_notes",
            "x_metadata",
        )
    )
