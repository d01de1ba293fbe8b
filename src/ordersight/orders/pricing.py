"""From what a caller sends to unsaved order rows: validation, catalog prices and totals.

One path for every way an order arrives (API, bulk ingest, the new-order page, store sync):
`prepare_order` checks the input in full, naming each bad field, and prices the lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.accounts.selectors import list_sales_managers
from ordersight.catalog.selectors import VariantPrice, variant_prices
from ordersight.core.errors import Invalid
from ordersight.core.money import ZERO, is_currency, round_money
from ordersight.core.validation import (
    MAX_AMOUNT,
    amount_error,
    clean_metadata,
    clean_moment,
    code_error,
    is_id,
    normal_code,
)
from ordersight.customers.models import Customer, CustomerExternalId
from ordersight.orders.choices import known_values, order_type_values, source_values
from ordersight.orders.models import (
    ChoiceKind,
    Order,
    OrderLine,
    OrderSource,
    OrderStatus,
    OrderType,
    SalesPlanEntry,
)

# The choices as tuples, once: an enum's `.values` builds a new list on every call, which
# showed up in bulk ingest profiles.
STATUSES = tuple(OrderStatus.values)
MAX_LINES = 500
MAX_QUANTITY = 1_000_000
NOTES_MAX = 10_000
LINE_SUMMARY_FIELDS = (
    "line_count",
    "lead_item",
    "lead_sku",
    "lead_offer_number",
    "lead_category_number",
    "lead_unit_price",
    "lead_quantity",
)


@dataclass(frozen=True)
class LineInput:
    sku: str | None = None
    name: str | None = None
    unit_price: Decimal | None = None
    quantity: int = 1
    discount: Decimal = ZERO
    # A catalog line at a price agreed elsewhere (a recurring order's amount, in the order's
    # currency) instead of the catalog's; set by services, never taken from a client.
    agreed_price: bool = False


@dataclass
class OrderInput:
    lines: Sequence[LineInput]
    currency: str | None = None
    customer_id: int | None = None
    customer_external_id: str | None = None
    source: str = OrderSource.API
    order_type: str = OrderType.STANDARD
    status: str = OrderStatus.OPEN
    external_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    notes: str = ""
    coupon_code: str = ""
    referral_code: str = ""
    created_at: datetime | None = None
    sales_manager_id: int | None = None
    # Or the manager's username (what an integrator knows from GET /users).
    sales_manager: str | None = None
    # Totals the client computed; when given they must match ours.
    subtotal: Decimal | None = None
    discount_total: Decimal | None = None
    total: Decimal | None = None


@dataclass(slots=True)
class PricedLine:
    """A line as it will be stored (`OrderLine`'s columns but its order), as plain values:
    a batch prices thousands, and model instances cost more to build than to insert."""

    position: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    discount: Decimal = ZERO
    total: Decimal = ZERO
    offer_id: int | None = None
    variant_id: int | None = None
    offer_number: int | None = None
    category_number: int | None = None


# `PricedLine`'s values in the order `line_rows` gives them, after the order's id.
LINE_COLUMNS = (
    "order_id",
    "position",
    "offer_id",
    "variant_id",
    "sku",
    "name",
    "offer_number",
    "category_number",
    "unit_price",
    "quantity",
    "discount",
    "total",
)


def line_rows(order_id: int, lines: Sequence[PricedLine]) -> list[tuple]:
    """The rows of an order's priced lines, in `LINE_COLUMNS` order."""
    return [
        (
            order_id,
            ln.position,
            ln.offer_id,
            ln.variant_id,
            ln.sku,
            ln.name,
            ln.offer_number,
            ln.category_number,
            ln.unit_price,
            ln.quantity,
            ln.discount,
            ln.total,
        )
        for ln in lines
    ]


@dataclass
class PreparedOrder:
    order: Order
    lines: list[PricedLine]
    # True when the input named the sales manager (rather than a sales plan proposing one).
    names_manager: bool = False


@dataclass
class Lookups:
    """Everything an order refers to, loaded once for a whole batch."""

    variants: dict[str, VariantPrice]
    customers: dict[int, Customer]
    customers_by_external: dict[tuple[str, str], Customer]
    managers: dict[int, Any]
    managers_by_username: dict[str, Any] = field(default_factory=dict)
    # A customer's external id found under one other source only (None: under several).
    customers_by_any_source: dict[str, Customer | None] = field(default_factory=dict)
    sources: frozenset[str] = frozenset(OrderSource.values)
    order_types: frozenset[str] = frozenset(OrderType.values)
    # (customer id, offer id) → the manager a sales plan names for that purchase
    sales_plans: dict[tuple[int, int], Any] = field(default_factory=dict)

    @classmethod
    def load(cls, inputs: Sequence[OrderInput]) -> Lookups:
        skus = {line.sku for data in inputs for line in data.lines if line.sku}
        ids = {data.customer_id for data in inputs if is_id(data.customer_id)}
        externals = {
            (data.source, data.customer_external_id) for data in inputs if data.customer_external_id
        }
        by_external: dict[tuple[str, str], Customer] = {}
        if externals:
            rows = CustomerExternalId.objects.select_related("customer").filter(
                source__in={s for s, _unused in externals},
                external_id__in={e for _unused, e in externals},
            )
            by_external = {(r.source, r.external_id): r.customer for r in rows}
        missing = {e for s, e in externals if (s, e) not in by_external}
        by_any_source: dict[str, Customer | None] = {}
        if missing:
            # Not under the order's own source: accepted from another source when exactly
            # one customer has that id there (a store and its feed often share ids).
            for row in CustomerExternalId.objects.select_related("customer").filter(
                external_id__in=missing
            ):
                seen = by_any_source.get(row.external_id, row.customer)
                by_any_source[row.external_id] = (
                    row.customer if seen is not None and seen.pk == row.customer_id else None
                )
        manager_ids = {d.sales_manager_id for d in inputs if is_id(d.sales_manager_id)}
        usernames = {d.sales_manager for d in inputs if d.sales_manager}
        customer_ids = ids | {c.pk for c in by_external.values()}
        customer_ids |= {c.pk for c in by_any_source.values() if c is not None}
        plans: dict[tuple[int, int], Any] = {}
        if customer_ids:
            entries = (
                SalesPlanEntry.objects.select_related("manager")
                .filter(customer_id__in=customer_ids)
                .order_by("recorded_at", "id")
            )
            plans = {(e.customer_id, e.offer_id): e.manager for e in entries}  # newest wins
        return cls(
            variants=variant_prices(skus=skus) if skus else {},
            customers=Customer.objects.in_bulk(ids) if ids else {},
            customers_by_external=by_external,
            managers=list_sales_managers().in_bulk(manager_ids) if manager_ids else {},
            managers_by_username=(
                {m.get_username(): m for m in list_sales_managers().filter(username__in=usernames)}
                if usernames
                else {}
            ),
            customers_by_any_source=by_any_source,
            sources=known_values(ChoiceKind.SOURCE, {d.source for d in inputs}),
            order_types=known_values(ChoiceKind.ORDER_TYPE, {d.order_type for d in inputs}),
            sales_plans=plans,
        )


def _catalog_line(
    line: LineInput, where: str, lookups: Lookups, errors: dict[str, str]
) -> tuple[PricedLine, str | None] | None:
    variant = lookups.variants.get(line.sku or "")
    if variant is None:
        errors[f"{where}.sku"] = _("unknown SKU {sku}").format(sku=repr(line.sku))
        return None
    if not variant.on_sale:
        errors[f"{where}.sku"] = _("SKU {sku} is not on sale").format(sku=repr(line.sku))
        return None
    if line.quantity > 1 and not variant.allow_quantity:
        errors[f"{where}.quantity"] = _("offer {number} is sold one unit at a time").format(
            number=variant.offer_number
        )
        return None
    agreed = line.agreed_price and line.unit_price is not None
    if line.unit_price is not None and line.unit_price != variant.price and not agreed:
        errors[f"{where}.unit_price"] = _("the catalog price of {sku} is {price}").format(
            sku=line.sku, price=round_money(variant.price, variant.currency)
        )
        return None
    built = PricedLine(
        position=0,
        sku=variant.sku,
        name=variant.name[:300],
        unit_price=line.unit_price if agreed else variant.price,
        quantity=line.quantity,
        offer_id=variant.offer_id,
        variant_id=variant.variant_id,
        offer_number=variant.offer_number,
        category_number=variant.category_number,
    )
    return built, None if agreed else variant.currency


def _price_line(
    line: LineInput, index: int, lookups: Lookups, errors: dict[str, str]
) -> tuple[PricedLine, str | None] | None:
    """Build one line from a SKU (price from the catalog) or a free line; None on error."""
    where = f"lines[{index}]"
    if line.quantity is None or line.quantity <= 0:
        errors[f"{where}.quantity"] = _("must be greater than zero")
        return None
    if line.quantity > MAX_QUANTITY:
        errors[f"{where}.quantity"] = _("at most {max}").format(max=f"{MAX_QUANTITY:,}")
        return None
    if line.sku:
        return _catalog_line(line, where, lookups, errors)
    name = (line.name or "").strip()
    if not name:
        errors[f"{where}.name"] = _("a line needs a sku, or a name and a unit_price")
        return None
    if line.unit_price is None:
        errors[f"{where}.unit_price"] = _("required for a line without a sku")
        return None
    built = PricedLine(
        position=0, sku="", name=name[:300], unit_price=line.unit_price, quantity=line.quantity
    )
    return built, None


def _check_fields(
    data: OrderInput, lookups: Lookups, errors: dict[str, str]
) -> tuple[str | None, dict[str, Any], datetime | None]:
    """The order's own fields; returns its currency (if given), its clean metadata and its
    creation time in UTC (if given)."""
    for name, allowed, every in (
        ("source", lookups.sources, source_values),
        ("order_type", lookups.order_types, order_type_values),
        ("status", STATUSES, lambda: STATUSES),
    ):
        if getattr(data, name) not in allowed:
            errors[name] = _("must be one of {choices}").format(choices=", ".join(sorted(every())))
    currency = (data.currency or "").upper() or None
    if currency is not None and not is_currency(currency):
        errors["currency"] = _("unknown currency {currency}").format(currency=repr(data.currency))
        currency = None
    metadata: dict[str, Any] = {}
    try:
        metadata = clean_metadata(data.metadata)
    except Invalid as exc:
        errors.update(exc.fields)
    if len(data.notes or "") > NOTES_MAX:
        errors["notes"] = ngettext(
            "at most {count} character", "at most {count} characters", NOTES_MAX
        ).format(count=NOTES_MAX)
    for name in ("coupon_code", "referral_code"):
        error = code_error(normal_code(getattr(data, name)))
        if error:
            errors[name] = error
    if data.external_id is not None and not (0 < len(data.external_id) <= 255):
        errors["external_id"] = _("1 to 255 characters")
    created_at = None
    if data.created_at is not None:
        created_at = clean_moment(data.created_at, field="created_at", errors=errors)
    return currency, metadata, created_at


def _find_parties(
    data: OrderInput, lookups: Lookups, errors: dict[str, str]
) -> tuple[Customer | None, Any]:
    """The customer and the named sales manager."""
    customer = None
    if data.customer_id is not None:
        customer = lookups.customers.get(data.customer_id)
        if customer is None:
            errors["customer_id"] = _("no customer {customer_id}").format(
                customer_id=data.customer_id
            )
    elif data.customer_external_id:
        external = data.customer_external_id
        customer = lookups.customers_by_external.get((data.source, external))
        if customer is None and external in lookups.customers_by_any_source:
            customer = lookups.customers_by_any_source[external]
            if customer is None:
                errors["customer_external_id"] = _(
                    "{external_id} names customers of several sources; give customer_id"
                ).format(external_id=repr(external))
        elif customer is None:
            errors["customer_external_id"] = _("no customer with external id {external_id}").format(
                external_id=repr(external)
            )
    manager = None
    if data.sales_manager_id is not None and data.sales_manager:
        errors["sales_manager"] = _("give sales_manager_id or sales_manager, not both")
    elif data.sales_manager_id is not None:
        manager = lookups.managers.get(data.sales_manager_id)
        if manager is None:
            errors["sales_manager_id"] = _(
                "user {manager_id} is not an active sales manager"
            ).format(manager_id=data.sales_manager_id)
    elif data.sales_manager:
        manager = lookups.managers_by_username.get(data.sales_manager)
        if manager is None:
            errors["sales_manager"] = _("{username} is not an active sales manager").format(
                username=repr(data.sales_manager)
            )
    return customer, manager


def _build_lines(
    data: OrderInput, currency: str | None, lookups: Lookups, errors: dict[str, str]
) -> tuple[list[PricedLine], str | None]:
    """Price every line; an order has one currency, taken from its SKUs when not given."""
    if not data.lines:
        errors["lines"] = _("an order needs at least one line")
    elif len(data.lines) > MAX_LINES:
        errors["lines"] = ngettext(
            "at most {count} line", "at most {count} lines", MAX_LINES
        ).format(count=MAX_LINES)
    built: list[PricedLine] = []
    for i, line in enumerate(data.lines[:MAX_LINES]):
        priced = _price_line(line, i, lookups, errors)
        if priced is None:
            continue
        order_line, line_currency = priced
        if line_currency is not None:
            if currency is None and "currency" not in errors:
                currency = line_currency
            elif currency is not None and line_currency != currency:
                errors[f"lines[{i}].sku"] = _(
                    "priced in {line_currency}, but the order is in {currency}; "
                    "an order has one currency"
                ).format(line_currency=line_currency, currency=currency)
                continue
        order_line.position = i + 1
        order_line.discount = line.discount
        built.append(order_line)
    if currency is None and "currency" not in errors:
        errors["currency"] = _("required when no line comes from the catalog")
    return built, currency


def _totals(
    data: OrderInput, lines: list[PricedLine], currency: str, errors: dict[str, str]
) -> tuple[Decimal, Decimal]:
    """Line totals, subtotal and discount; a client's own totals must agree with ours."""
    subtotal = discount_total = ZERO
    for line in lines:
        i = line.position - 1
        for name, amount in (("unit_price", line.unit_price), ("discount", line.discount)):
            problem = amount_error(amount, currency)
            if problem:
                errors[f"lines[{i}].{name}"] = problem
        gross = line.unit_price * line.quantity
        if line.discount > gross:
            errors[f"lines[{i}].discount"] = _("cannot exceed unit_price × quantity")
        if gross >= MAX_AMOUNT:
            errors[f"lines[{i}].quantity"] = _("the line comes to {amount} or more").format(
                amount=f"{MAX_AMOUNT:,.0f}"
            )
        line.total = gross - line.discount
        subtotal += gross
        discount_total += line.discount
    if subtotal >= MAX_AMOUNT and not errors:
        errors["lines"] = _("the order comes to {amount} or more").format(
            amount=f"{MAX_AMOUNT:,.0f}"
        )
    for name, ours in (
        ("subtotal", subtotal),
        ("discount_total", discount_total),
        ("total", subtotal - discount_total),
    ):
        theirs = getattr(data, name)
        if theirs is not None and theirs != ours and not errors:
            errors[name] = _("does not match the lines: expected {expected}").format(
                expected=round_money(ours, currency)
            )
    return subtotal, discount_total


def prepare_order(data: OrderInput, lookups: Lookups) -> PreparedOrder:
    """Validate one order in full and build its unsaved rows; raises Invalid naming fields."""
    errors: dict[str, str] = {}
    currency, metadata, created_at = _check_fields(data, lookups, errors)
    customer, manager = _find_parties(data, lookups, errors)
    lines, currency = _build_lines(data, currency, lookups, errors)
    subtotal = discount_total = ZERO
    if currency is not None:
        subtotal, discount_total = _totals(data, lines, currency, errors)
    if errors:
        raise Invalid(_("The order is not valid."), fields=errors)
    names_manager = manager is not None
    if manager is None and customer is not None:
        # A sales plan entry for this customer and offer proposes who made the sale.
        for line in lines:
            manager = lookups.sales_plans.get((customer.pk, line.offer_id)) or manager
    order = Order(
        external_id=data.external_id,
        source=data.source,
        order_type=data.order_type,
        customer=customer,
        currency=currency,
        subtotal=subtotal,
        discount_total=discount_total,
        total=subtotal - discount_total,
        status=data.status,
        metadata=metadata,
        notes=data.notes or "",
        coupon_code=normal_code(data.coupon_code),
        referral_code=normal_code(data.referral_code),
        sales_manager=manager,
        created_at=created_at or timezone.now(),
    )
    summarise_lines(order, lines)
    return PreparedOrder(order=order, lines=lines, names_manager=names_manager)


def summarise_lines(order: Order, lines: Sequence[OrderLine | PricedLine]) -> None:
    """Copy what the list and the export show of the lines onto the order itself."""
    lead = min(lines, key=lambda line: line.position) if lines else None
    order.line_count = len(lines)
    order.lead_item = lead.name if lead else ""
    order.lead_sku = lead.sku if lead else ""
    order.lead_offer_number = lead.offer_number if lead else None
    order.lead_category_number = lead.category_number if lead else None
    order.lead_unit_price = lead.unit_price if lead else None
    order.lead_quantity = lead.quantity if lead else None
