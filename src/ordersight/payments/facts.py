"""The facts of an order that every kept figure is computed from.

Sales rollups (reports), customers' figures (promotions) and creators' conversions
(campaigns) each derive numbers from the same things: the order's status, customer,
currency and total, its lines, and the money its invoices took, gave back and cost. They read
them here, once for all the projections that hear one batch of changes (`OrderFacts`), rather
than each querying the order, its lines and its invoices again. Payments is the lowest layer
that knows captured and refunded money, so the facts live here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ordersight.orders.models import Order, OrderLine, OrderStatus
from ordersight.payments.models import CAPTURED, Invoice

ZERO = Decimal(0)


@dataclass(frozen=True, order=True)
class LineFacts:
    """The lines of one offer (and category) on an order, summed (or one line, as read)."""

    offer_number: int | None
    category_number: int | None
    quantity: int
    total: Decimal


@dataclass(frozen=True, order=True)
class InvoiceFacts:
    """The money of an invoice that took money (succeeded, or refunded since)."""

    payment_system_id: int | None
    amount: Decimal
    refunded: Decimal
    fee: Decimal
    funds_credited: Decimal


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """An order as its figures see it: its columns, its lines and the invoices that took
    money. The names of the columns are the order's own, so a figure's rule reads an
    `Order` and its facts alike."""

    pk: int
    status: str
    created_at: datetime
    currency: str
    source: str
    order_type: str
    customer_id: int | None
    sales_manager_id: int | None
    sales_confirmed_at: datetime | None
    total: Decimal
    number: int
    refund_status: str
    coupon_code: str
    referral_code: str
    lines: tuple[LineFacts, ...]
    invoices: tuple[InvoiceFacts, ...]

    @property
    def is_sale(self) -> bool:
        return self.status == OrderStatus.COMPLETED

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def refunded(self) -> Decimal:
        return sum((i.refunded for i in self.invoices), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((i.fee for i in self.invoices), ZERO)

    @property
    def funds_credited(self) -> Decimal:
        return sum((i.funds_credited for i in self.invoices), ZERO)

    @property
    def net(self) -> Decimal:
        """The total less what was given back."""
        return self.total - self.refunded

    @property
    def fully_refunded(self) -> bool:
        """Everything paid for was given back (an order of nothing is never refunded)."""
        return bool(self.total) and self.refunded >= self.total


_ORDER_COLUMNS = (
    "pk",
    "status",
    "created_at",
    "currency",
    "source",
    "order_type",
    "customer_id",
    "sales_manager_id",
    "sales_confirmed_at",
    "total",
    "number",
    "refund_status",
    "coupon_code",
    "referral_code",
)


def read_facts(*, order_ids: Collection[int]) -> dict[int, OrderFacts]:
    """The facts of these orders (those that exist), in three queries: the orders, their
    lines and their invoices that took money. Plain rows throughout: a billing batch or a
    bulk ingest reads hundreds at once, in every write."""
    if not order_ids:
        return {}
    orders = Order.objects.filter(pk__any=order_ids).values_list(*_ORDER_COLUMNS)
    rows = {row[0]: row for row in orders}
    if not rows:
        return {}
    lines: dict[int, list[LineFacts]] = {pk: [] for pk in rows}
    for order_id, *line in (
        OrderLine.objects.filter(order_id__any=list(rows))
        .order_by("order_id", "position")
        .values_list("order_id", "offer_number", "category_number", "quantity", "total")
    ):
        lines[order_id].append(LineFacts(*line))
    invoices: dict[int, list[InvoiceFacts]] = {pk: [] for pk in rows}
    for order_id, *money in (
        Invoice.objects.filter(order_id__any=list(rows), status__in=CAPTURED)
        .order_by("order_id", "installment", "number")
        .values_list(
            "order_id", "payment_system_id", "amount", "refunded_amount", "fee", "funds_credited"
        )
    ):
        invoices[order_id].append(InvoiceFacts(*money))
    return {pk: OrderFacts(*row, tuple(lines[pk]), tuple(invoices[pk])) for pk, row in rows.items()}


class FactsOfOrders:
    """The facts of the orders one batch of changes touched, each read at most once for
    every projection that asks (`of`). Reading waits for the first projection that needs
    an order: a new open order, which no figure counts, costs no query unless it came with a
    creator's code (its conversion reads it)."""

    def __init__(self) -> None:
        self._known: dict[int, OrderFacts | None] = {}

    def of(self, order_ids: Iterable[int]) -> dict[int, OrderFacts]:
        """The facts of these orders that exist, by id."""
        wanted = list(dict.fromkeys(order_ids))
        missing = [pk for pk in wanted if pk not in self._known]
        if missing:
            found = read_facts(order_ids=missing)
            for pk in missing:
                self._known[pk] = found.get(pk)
        return {pk: facts for pk in wanted if (facts := self._known[pk]) is not None}
