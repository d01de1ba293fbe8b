"""What the sales figures mean: the one definition every page, API answer and export uses.

- A sale is a completed order. It counts on the day it was placed (`created_at`) in the
  account's time zone (the `TIME_ZONE` setting; after changing it, run
  `ordersight reports rebuild`).
- gross = the order total; refunds = what was refunded on its invoices; net = gross − refunds;
  fees and funds credited = those of its invoices that took money (succeeded, or refunded
  since); units = the quantities of its lines; average = net ÷ orders.
- Money is per currency and is never summed across currencies.
- By offer and by category the figures are per line: an order with lines in two categories
  counts once in each, with that category's units and line totals as gross; its refunds, fees
  and funds credited are shared out in proportion to the line totals.
- By payment system the money is what each system's invoices captured, refunded and kept; an
  order completed without a captured payment (pay by invoice, confirmed by hand) shows under
  `none` with its total as gross.
- By sales manager only confirmed attributions count unless unconfirmed ones are asked for;
  `system` is a sale without a manager.
- A new customer is one whose first sale ever is among the counted orders; a returning
  customer has counted orders and bought before the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from ordersight.core.money import allocate as allocate_over
from ordersight.core.zones import local_day
from ordersight.orders.models import Order, OrderStatus
from ordersight.payments.facts import InvoiceFacts, LineFacts

COUNTED_STATUS = OrderStatus.COMPLETED
PRECISION = Decimal("0.0001")  # what the money columns store
NONE_KEY = "none"
SYSTEM_KEY = "system"


class Dimension(StrEnum):
    TOTAL = "total"
    PAYMENT_SYSTEM = "payment_system"
    OFFER = "offer"
    CATEGORY = "category"
    SALES_MANAGER = "sales_manager"


class GroupBy(StrEnum):
    CURRENCY = "currency"
    PAYMENT_SYSTEM = "payment_system"
    OFFER = "offer"
    CATEGORY = "category"
    SALES_MANAGER = "sales_manager"
    SOURCE = "source"
    ORDER_TYPE = "order_type"
    CUSTOMER = "customer"
    DAY = "day"
    MONTH = "month"
    # Read from the campaigns' conversions (approved creator sales), not the rollups.
    CAMPAIGN = "campaign"
    CREATOR = "creator"
    # Read from the redemptions (sales that redeemed a discount code).
    DISCOUNT_CODE = "discount_code"


CONVERSION_GROUPS = frozenset({GroupBy.CAMPAIGN, GroupBy.CREATOR})
# Breakdowns read from an app's own rows rather than the rollups, with the measure each adds
# beside the sales figures; their totals are those of their rows.
APP_MEASURE = {
    GroupBy.CAMPAIGN: "commission",
    GroupBy.CREATOR: "commission",
    GroupBy.DISCOUNT_CODE: "discount",
}

# Which rollup rows each breakdown reads: its own dimension, or the totals grouped by a
# column every row carries.
DIMENSION_OF: dict[GroupBy, Dimension] = {
    GroupBy.CURRENCY: Dimension.TOTAL,
    GroupBy.PAYMENT_SYSTEM: Dimension.PAYMENT_SYSTEM,
    GroupBy.OFFER: Dimension.OFFER,
    GroupBy.CATEGORY: Dimension.CATEGORY,
    GroupBy.SALES_MANAGER: Dimension.SALES_MANAGER,
    GroupBy.SOURCE: Dimension.TOTAL,
    GroupBy.ORDER_TYPE: Dimension.TOTAL,
    GroupBy.DAY: Dimension.TOTAL,
    GroupBy.MONTH: Dimension.TOTAL,
    GroupBy.CAMPAIGN: Dimension.TOTAL,  # (their rows come from the conversions)
    GroupBy.CREATOR: Dimension.TOTAL,
    GroupBy.DISCOUNT_CODE: Dimension.TOTAL,
}


@dataclass
class Measures:
    orders: int = 0
    units: int = 0
    gross: Decimal = Decimal(0)
    refunds: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funds_credited: Decimal = Decimal(0)
    new_customers: int = 0

    def add(self, other: Measures, sign: int = 1) -> None:
        # Spelled out: this runs for every row of every sale a rebuild counts.
        self.orders += sign * other.orders
        self.units += sign * other.units
        self.gross += sign * other.gross
        self.refunds += sign * other.refunds
        self.fees += sign * other.fees
        self.funds_credited += sign * other.funds_credited
        self.new_customers += sign * other.new_customers

    def is_zero(self) -> bool:
        return not (
            self.orders
            or self.units
            or self.gross
            or self.refunds
            or self.fees
            or self.funds_credited
            or self.new_customers
        )

    def values(self) -> tuple:
        return (
            self.orders,
            self.units,
            self.gross,
            self.refunds,
            self.fees,
            self.funds_credited,
            self.new_customers,
        )

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunds

    @property
    def average(self) -> Decimal | None:
        return self.net / self.orders if self.orders else None


MEASURE_NAMES = tuple(f.name for f in fields(Measures))
MONEY_MEASURES = ("gross", "refunds", "fees", "funds_credited")


@dataclass(frozen=True, order=True)
class RowKey:
    """Where an order's figures go: the day row; the month row is derived from it."""

    day: date
    currency: str
    source: str
    order_type: str
    dimension: str
    key: str
    confirmed: bool = False


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """A figure of the order shared over its lines in proportion to their totals, to the
    stored precision (`core.money.allocate`, the one allocation over lines)."""
    return allocate_over(amount, weights, step=PRECISION)


@dataclass(frozen=True)
class Sale:
    """Everything one sale's figures are computed from. The services keep it per order
    (`ReportedOrder`), so a change subtracts exactly what the order added before."""

    day: date
    currency: str
    source: str
    order_type: str
    customer_id: int | None
    manager_id: int | None
    confirmed: bool
    first_sale: bool
    total: Decimal
    lines: tuple[LineFacts, ...]
    invoices: tuple[InvoiceFacts, ...]

    def sums(self) -> tuple[int, Decimal, Decimal, Decimal]:
        """Its units, refunds, fees and funds credited, summed over lines and invoices."""
        return (
            sum(line.quantity for line in self.lines),
            sum((i.refunded for i in self.invoices), Decimal(0)),
            sum((i.fee for i in self.invoices), Decimal(0)),
            sum((i.funds_credited for i in self.invoices), Decimal(0)),
        )


def sale_of(
    order: Order | Any,  # an Order, or a row with the same field names (rebuilds)
    lines: Iterable[LineFacts],
    invoices: Iterable[InvoiceFacts],
    *,
    first_sale: bool,
) -> Sale | None:
    """The sale an order is now, or None when it is not one."""
    if order.status != COUNTED_STATUS:
        return None
    grouped: dict[tuple[int | None, int | None], LineFacts] = {}
    for line in lines:
        key = (line.offer_number, line.category_number)
        seen = grouped.get(key)
        grouped[key] = (
            line
            if seen is None
            else LineFacts(*key, seen.quantity + line.quantity, seen.total + line.total)
        )
    return Sale(
        day=local_day(order.created_at),
        currency=order.currency,
        source=order.source,
        order_type=order.order_type,
        customer_id=order.customer_id,
        manager_id=order.sales_manager_id,
        confirmed=order.sales_confirmed_at is not None,
        first_sale=first_sale,
        total=order.total,
        lines=tuple(sorted(grouped.values(), key=_line_order)),
        invoices=tuple(sorted(invoices, key=_invoice_order)),
    )


def _line_order(line: LineFacts) -> tuple:
    return (line.offer_number or 0, line.category_number or 0)


def _invoice_order(invoice: InvoiceFacts) -> tuple:
    return (invoice.payment_system_id or 0, invoice.amount, invoice.refunded)


def _key_of(value: Any) -> str:
    return NONE_KEY if value is None else str(value)


class SaleWhere(Protocol):
    """Where a sale counts: a `Sale`, or a kept sale's row."""

    day: date
    currency: str
    source: str
    order_type: str


def attribution_key(sale: SaleWhere, manager_id: int | None, confirmed: bool) -> RowKey:
    """The day row of the report by sales manager a sale counts in: the whole sale, under
    its manager (or the system), confirmed or not."""
    manager = SYSTEM_KEY if manager_id is None else str(manager_id)
    return RowKey(
        sale.day,
        sale.currency,
        sale.source,
        sale.order_type,
        Dimension.SALES_MANAGER,
        manager,
        confirmed,
    )


def contribution(sale: Sale | None) -> dict[RowKey, Measures]:
    """The day rows a sale adds to the rollups (none for an order that is no sale)."""
    if sale is None:
        return {}

    def key(dimension: Dimension, value: str = "", confirmed: bool = False) -> RowKey:
        return RowKey(
            sale.day, sale.currency, sale.source, sale.order_type, dimension, value, confirmed
        )

    units, refunds, fees, funds = sale.sums()
    whole = (1, units, sale.total, refunds, fees, funds)
    rows: dict[RowKey, Measures] = {
        key(Dimension.TOTAL): Measures(*whole, int(sale.first_sale)),
        attribution_key(sale, sale.manager_id, sale.confirmed): Measures(*whole),
    }

    by_system: dict[str, Measures] = {}
    for invoice in sale.invoices:
        m = by_system.setdefault(_key_of(invoice.payment_system_id), Measures(1, units))
        m.gross += invoice.amount
        m.refunds += invoice.refunded
        m.fees += invoice.fee
        m.funds_credited += invoice.funds_credited
    if not by_system:
        by_system[NONE_KEY] = Measures(1, units, sale.total)
    for system, m in by_system.items():
        rows[key(Dimension.PAYMENT_SYSTEM, system)] = m

    for dimension, attr in (
        (Dimension.OFFER, "offer_number"),
        (Dimension.CATEGORY, "category_number"),
    ):
        groups: dict[str, list[LineFacts]] = {}
        for line in sale.lines:
            groups.setdefault(_key_of(getattr(line, attr)), []).append(line)
        if not groups:
            continue
        names = sorted(groups)
        weights = [sum((ln.total for ln in groups[n]), Decimal(0)) for n in names]
        shared = zip(
            allocate(refunds, weights),
            allocate(fees, weights),
            allocate(funds, weights),
            strict=True,
        )
        for name, weight, (refund, fee, funds_part) in zip(names, weights, shared, strict=True):
            rows[key(dimension, name)] = Measures(
                orders=1,
                units=sum(ln.quantity for ln in groups[name]),
                gross=weight,
                refunds=refund,
                fees=fee,
                funds_credited=funds_part,
            )
    return rows


def parts_to_json(sale: Sale) -> dict[str, list[list[Any]]]:
    """A sale's lines and invoices as stored (decimals as text, exact)."""
    return {
        "lines": [
            [ln.offer_number, ln.category_number, ln.quantity, str(ln.total)] for ln in sale.lines
        ],
        "invoices": [
            [i.payment_system_id, str(i.amount), str(i.refunded), str(i.fee), str(i.funds_credited)]
            for i in sale.invoices
        ],
    }


def parts_from_json(data: dict[str, Any]) -> tuple[tuple[LineFacts, ...], tuple[InvoiceFacts, ...]]:
    lines = tuple(LineFacts(o, c, int(q), Decimal(t)) for o, c, q, t in data.get("lines", ()))
    invoices = tuple(
        InvoiceFacts(p, *(Decimal(v) for v in values)) for p, *values in data.get("invoices", ())
    )
    return lines, invoices
