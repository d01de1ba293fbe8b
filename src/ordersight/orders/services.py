"""Every write to orders: create, bulk upsert, update, and status transitions.

The rule "which status may follow which" is the TRANSITIONS table below; nothing else
changes `Order.status`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from ordersight.catalog.models import Variant
from ordersight.catalog.selectors import variants_by_sku
from ordersight.core.actors import Actor
from ordersight.core.bulk import insert_many
from ordersight.core.errors import Conflict, Invalid
from ordersight.core.money import ZERO, is_currency, round_money
from ordersight.core.sequences import reserve_numbers
from ordersight.core.validation import amount_error, clean_metadata
from ordersight.customers.models import Customer, CustomerExternalId
from ordersight.orders.events import record_event, record_events
from ordersight.orders.models import (
    FulfillmentStatus,
    Order,
    OrderEventKind,
    OrderLine,
    OrderSource,
    OrderStatus,
    OrderType,
    SalesPlanEntry,
)

S = OrderStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.OPEN, S.COMPLETED, S.DECLINED, S.CANCELLED}),
    S.OPEN: frozenset({S.COMPLETED, S.DECLINED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.CANCELLED}),
    # A declined payment can be retried, which reopens the order.
    S.DECLINED: frozenset({S.OPEN, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}
# Orders created one by one start here; bulk ingest from stores may carry any status.
CREATE_STATUSES = frozenset({S.DRAFT, S.OPEN})
FULFILLABLE = frozenset({S.DRAFT, S.OPEN, S.COMPLETED})
# Lines may change only while nothing has been settled on the order.
LINES_EDITABLE = frozenset({S.DRAFT, S.OPEN})
ORDER_NUMBER_START = 1001
# The choices as tuples, once: an enum's `.values` builds a new list on every call, which
# showed up in bulk ingest profiles.
SOURCES = tuple(OrderSource.values)
ORDER_TYPES = tuple(OrderType.values)
STATUSES = tuple(OrderStatus.values)
MAX_LINES = 500
NOTES_MAX = 10_000


@dataclass(frozen=True)
class LineInput:
    sku: str | None = None
    name: str | None = None
    unit_price: Decimal | None = None
    quantity: int = 1
    discount: Decimal = ZERO


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
    created_at: datetime | None = None
    sales_manager_id: int | None = None
    # Totals the client computed; when given they must match ours.
    subtotal: Decimal | None = None
    discount_total: Decimal | None = None
    total: Decimal | None = None


@dataclass
class ItemResult:
    index: int
    result: str  # created, updated, unchanged or error
    number: int | None = None
    external_id: str | None = None
    message: str = ""
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Prepared:
    order: Order
    lines: list[OrderLine]


@dataclass
class _Lookups:
    """Everything an order refers to, loaded once for a whole batch."""

    variants: dict[str, Variant]
    customers: dict[int, Customer]
    customers_by_external: dict[tuple[str, str], Customer]
    managers: dict[int, Any]
    # (customer id, offer id) → the manager a sales plan names for that purchase
    sales_plans: dict[tuple[int, int], Any] = field(default_factory=dict)

    @classmethod
    def load(cls, inputs: Sequence[OrderInput]) -> _Lookups:
        skus = {line.sku for data in inputs for line in data.lines if line.sku}
        ids = {data.customer_id for data in inputs if data.customer_id is not None}
        externals = {
            (data.source, data.customer_external_id) for data in inputs if data.customer_external_id
        }
        by_external: dict[tuple[str, str], Customer] = {}
        if externals:
            rows = CustomerExternalId.objects.select_related("customer").filter(
                source__in={s for s, _ in externals},
                external_id__in={e for _, e in externals},
            )
            by_external = {(r.source, r.external_id): r.customer for r in rows}
        manager_ids = {d.sales_manager_id for d in inputs if d.sales_manager_id is not None}
        customer_ids = ids | {c.pk for c in by_external.values()}
        plans: dict[tuple[int, int], Any] = {}
        if customer_ids:
            entries = (
                SalesPlanEntry.objects.select_related("manager")
                .filter(customer_id__in=customer_ids)
                .order_by("recorded_at", "id")
            )
            plans = {(e.customer_id, e.offer_id): e.manager for e in entries}  # newest wins
        return cls(
            variants=variants_by_sku(skus) if skus else {},
            customers=Customer.objects.in_bulk(ids) if ids else {},
            customers_by_external=by_external,
            managers=get_user_model().objects.in_bulk(manager_ids) if manager_ids else {},
            sales_plans=plans,
        )


def _price_line(
    line: LineInput, index: int, lookups: _Lookups, errors: dict[str, str]
) -> tuple[OrderLine, str | None] | None:
    """Build one line from a SKU (price from the catalog) or a free line; None on error."""
    where = f"lines[{index}]"
    if line.quantity is None or line.quantity <= 0:
        errors[f"{where}.quantity"] = "must be greater than zero"
        return None
    if line.sku:
        variant = lookups.variants.get(line.sku)
        if variant is None:
            errors[f"{where}.sku"] = f"unknown SKU {line.sku!r}"
            return None
        offer = variant.offer
        if not (variant.is_active and offer.is_active):
            errors[f"{where}.sku"] = f"SKU {line.sku!r} is not on sale"
            return None
        if line.quantity > 1 and not offer.allow_quantity:
            errors[f"{where}.quantity"] = f"offer {offer.number} is sold one unit at a time"
            return None
        if line.unit_price is not None and line.unit_price != variant.price:
            errors[f"{where}.unit_price"] = (
                f"the catalog price of {line.sku} is {round_money(variant.price, offer.currency)}"
            )
            return None
        built = OrderLine(
            offer=offer,
            variant=variant,
            sku=variant.sku,
            name=variant.display_name[:300],
            offer_number=offer.number,
            category_number=offer.category.number,
            unit_price=variant.price,
            quantity=line.quantity,
        )
        return built, offer.currency
    name = (line.name or "").strip()
    if not name:
        errors[f"{where}.name"] = "a line needs a sku, or a name and a unit_price"
        return None
    if line.unit_price is None:
        errors[f"{where}.unit_price"] = "required for a line without a sku"
        return None
    built = OrderLine(sku="", name=name[:300], unit_price=line.unit_price, quantity=line.quantity)
    return built, None


def _prepare(data: OrderInput, lookups: _Lookups) -> _Prepared:
    """Validate one order in full and build its unsaved rows; raises Invalid naming fields."""
    errors: dict[str, str] = {}
    for name, allowed in (
        ("source", SOURCES),
        ("order_type", ORDER_TYPES),
        ("status", STATUSES),
    ):
        if getattr(data, name) not in allowed:
            errors[name] = f"must be one of {', '.join(allowed)}"
    currency = (data.currency or "").upper() or None
    if currency is not None and not is_currency(currency):
        errors["currency"] = f"unknown currency {data.currency!r}"
        currency = None
    try:
        metadata = clean_metadata(data.metadata)
    except Invalid as exc:
        errors.update(exc.fields)
        metadata = {}
    if len(data.notes or "") > NOTES_MAX:
        errors["notes"] = f"at most {NOTES_MAX} characters"
    if data.external_id is not None and not (0 < len(data.external_id) <= 255):
        errors["external_id"] = "1 to 255 characters"

    customer = None
    if data.customer_id is not None:
        customer = lookups.customers.get(data.customer_id)
        if customer is None:
            errors["customer_id"] = f"no customer {data.customer_id}"
    elif data.customer_external_id:
        customer = lookups.customers_by_external.get((data.source, data.customer_external_id))
        if customer is None:
            errors["customer_external_id"] = (
                f"no customer with {data.source} id {data.customer_external_id!r}"
            )
    manager = None
    if data.sales_manager_id is not None:
        manager = lookups.managers.get(data.sales_manager_id)
        if manager is None:
            errors["sales_manager_id"] = f"no user {data.sales_manager_id}"

    if not data.lines:
        errors["lines"] = "an order needs at least one line"
    elif len(data.lines) > MAX_LINES:
        errors["lines"] = f"at most {MAX_LINES} lines"
    built: list[OrderLine] = []
    for i, line in enumerate(data.lines[:MAX_LINES]):
        priced = _price_line(line, i, lookups, errors)
        if priced is None:
            continue
        order_line, line_currency = priced
        if line_currency is not None:
            if currency is None and "currency" not in errors:
                currency = line_currency
            elif currency is not None and line_currency != currency:
                errors[f"lines[{i}].sku"] = (
                    f"priced in {line_currency}, but the order is in {currency}; "
                    "an order has one currency"
                )
                continue
        order_line.position = i + 1
        order_line.discount = line.discount
        built.append(order_line)
    if currency is None and "currency" not in errors:
        errors["currency"] = "required when no line comes from the catalog"

    subtotal = discount_total = ZERO
    if currency is not None:
        for order_line in built:
            i = order_line.position - 1
            for name, amount in (
                ("unit_price", order_line.unit_price),
                ("discount", order_line.discount),
            ):
                problem = amount_error(amount, currency)
                if problem:
                    errors[f"lines[{i}].{name}"] = problem
            gross = order_line.unit_price * order_line.quantity
            if order_line.discount > gross:
                errors[f"lines[{i}].discount"] = "cannot exceed unit_price × quantity"
            order_line.total = gross - order_line.discount
            subtotal += gross
            discount_total += order_line.discount
        for name, ours in (
            ("subtotal", subtotal),
            ("discount_total", discount_total),
            ("total", subtotal - discount_total),
        ):
            theirs = getattr(data, name)
            if theirs is not None and theirs != ours and not errors:
                errors[name] = f"does not match the lines: expected {round_money(ours, currency)}"
    if errors:
        raise Invalid("The order is not valid.", fields=errors)
    if manager is None and customer is not None:
        # A sales plan entry for this customer and offer proposes who made the sale.
        for line in built:
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
        sales_manager=manager,
        created_at=data.created_at or timezone.now(),
    )
    _summarise_lines(order, built)
    return _Prepared(order=order, lines=built)


LINE_SUMMARY_FIELDS = (
    "line_count",
    "lead_item",
    "lead_sku",
    "lead_offer_number",
    "lead_category_number",
    "lead_unit_price",
    "lead_quantity",
)


def _summarise_lines(order: Order, lines: Sequence[OrderLine]) -> None:
    """Copy what the list and the export show of the lines onto the order itself."""
    lead = min(lines, key=lambda line: line.position) if lines else None
    order.line_count = len(lines)
    order.lead_item = lead.name if lead else ""
    order.lead_sku = lead.sku if lead else ""
    order.lead_offer_number = lead.offer_number if lead else None
    order.lead_category_number = lead.category_number if lead else None
    order.lead_unit_price = lead.unit_price if lead else None
    order.lead_quantity = lead.quantity if lead else None


def _save_new(prepared: Sequence[_Prepared]) -> list[Order]:
    numbers = reserve_numbers("order", len(prepared), start=ORDER_NUMBER_START)
    orders = []
    for number, item in zip(numbers, prepared, strict=True):
        item.order.number = number
        orders.append(item.order)
    insert_many(Order, orders, batch_size=500)
    lines = []
    for item in prepared:
        for line in item.lines:
            line.order = item.order
            lines.append(line)
    insert_many(OrderLine, lines)
    return orders


def _created_payload(order: Order) -> dict[str, Any]:
    return {
        "status": order.status,
        "total": str(round_money(order.total, order.currency)),
        "currency": order.currency,
        "source": order.source,
    }


@transaction.atomic
def create_order(*, data: OrderInput, actor: Actor) -> Order:
    """Create one order from catalog SKUs and free lines; the server computes the totals."""
    if data.status not in CREATE_STATUSES:
        raise Invalid(
            "A new order starts as draft or open.",
            fields={"status": "must be draft or open"},
        )
    prepared = _prepare(data, _Lookups.load([data]))
    if (
        data.external_id
        and Order.objects.filter(source=data.source, external_id=data.external_id).exists()
    ):
        raise Conflict(
            f"An order from {data.source} with external id {data.external_id} exists; "
            "use bulk ingest to upsert.",
            fields={"external_id": "already exists"},
        )
    try:
        with transaction.atomic():
            (order,) = _save_new([prepared])
    except IntegrityError:
        raise Conflict(
            "The order clashes with one saved meanwhile.", fields={"external_id": "already exists"}
        ) from None
    record_event(order, OrderEventKind.CREATED, actor, **_created_payload(order))
    return order


def _lines_signature(lines: Sequence[OrderLine]) -> list[tuple]:
    return [(ln.sku, ln.name, ln.unit_price, ln.quantity, ln.discount) for ln in lines]


def _apply_ingested(existing: Order, new: _Prepared, actor: Actor) -> bool:
    """Bring a stored order in line with a re-sent one; True if anything changed."""
    incoming = new.order
    changed: dict[str, Any] = {}
    for name in ("order_type", "notes", "metadata"):
        if getattr(existing, name) != getattr(incoming, name):
            changed[name] = getattr(incoming, name)
    if existing.customer_id != incoming.customer_id:
        changed["customer"] = incoming.customer
    if existing.sales_manager_id != incoming.sales_manager_id:
        changed["sales_manager"] = incoming.sales_manager
    lines_differ = _lines_signature(existing.lines.all()) != _lines_signature(new.lines)
    lines_differ = lines_differ or existing.currency != incoming.currency
    if lines_differ and existing.status not in LINES_EDITABLE:
        raise Conflict(
            f"Order {existing.number} is {existing.status}; its items can no longer change.",
            fields={"lines": f"order is {existing.status}"},
        )
    status_to = incoming.status if incoming.status != existing.status else None
    if status_to and status_to not in TRANSITIONS[existing.status]:
        raise _transition_conflict(existing, status_to)
    if not changed and not lines_differ and not status_to:
        return False
    for name, value in changed.items():
        setattr(existing, name, value)
    if lines_differ:
        existing.lines.all().delete()
        for line in new.lines:
            line.order = existing
        OrderLine.objects.bulk_create(new.lines)
        for name in ("currency", *LINE_SUMMARY_FIELDS):
            setattr(existing, name, getattr(incoming, name))
        existing.subtotal = incoming.subtotal
        existing.discount_total = incoming.discount_total
        existing.total = incoming.total
        record_event(
            existing,
            OrderEventKind.LINES_REPLACED,
            actor,
            total=str(round_money(existing.total, existing.currency)),
        )
    if status_to:
        record_event(
            existing,
            OrderEventKind.STATUS_CHANGED,
            actor,
            **{"from": existing.status, "to": status_to},
        )
        existing.status = status_to
    if changed:
        record_event(existing, OrderEventKind.UPDATED, actor, changed=sorted(changed))
    existing.save()
    return True


def upsert_orders(*, items: Sequence[OrderInput | Invalid], actor: Actor) -> list[ItemResult]:
    """Create or update many orders by (source, external id); one result per item.

    Items that fail validation are reported and skipped; the valid ones are written in one
    transaction, so a replayed batch creates nothing twice. If another writer inserts one of
    the same orders meanwhile, the batch is retried once and then finds it as an update.
    """
    try:
        return _upsert(items, actor)
    except IntegrityError:
        return _upsert(items, actor)


@transaction.atomic
def _upsert(items: Sequence[OrderInput | Invalid], actor: Actor) -> list[ItemResult]:
    results: list[ItemResult] = []
    valid = [(i, item) for i, item in enumerate(items) if isinstance(item, OrderInput)]
    lookups = _Lookups.load([item for _, item in valid])
    keys = {(item.source, item.external_id) for _, item in valid if item.external_id}
    existing: dict[tuple[str, str], Order] = {}
    if keys:
        found = Order.objects.select_for_update().filter(
            source__in={s for s, _ in keys}, external_id__in={e for _, e in keys}
        )
        existing = {(o.source, o.external_id): o for o in found}
    seen: set[tuple[str, str]] = set()
    to_create: list[tuple[ItemResult, _Prepared]] = []
    for index, item in enumerate(items):
        result = ItemResult(index=index, result="error")
        results.append(result)
        if isinstance(item, Invalid):
            result.message, result.fields = item.message, item.fields
            continue
        result.external_id = item.external_id
        if not item.external_id:
            result.message = "Bulk ingest needs an external_id to upsert by."
            result.fields = {"external_id": "required"}
            continue
        key = (item.source, item.external_id)
        if key in seen:
            result.message = "The same order appears twice in this batch."
            result.fields = {"external_id": "duplicate in batch"}
            continue
        seen.add(key)
        try:
            prepared = _prepare(item, lookups)
            if key in existing:
                with transaction.atomic():
                    changed = _apply_ingested(existing[key], prepared, actor)
                result.result = "updated" if changed else "unchanged"
                result.number = existing[key].number
            else:
                to_create.append((result, prepared))
        except (Invalid, Conflict) as exc:
            result.message, result.fields = exc.message, exc.fields
    if to_create:
        orders = _save_new([prepared for _, prepared in to_create])
        for (result, _), order in zip(to_create, orders, strict=True):
            result.result, result.number = "created", order.number
        record_events(
            ((order, OrderEventKind.IMPORTED, _created_payload(order)) for order in orders),
            actor,
        )
    return results


def _transition_conflict(order: Order, to: str) -> Conflict:
    allowed = ", ".join(sorted(TRANSITIONS[order.status])) or "nothing"
    return Conflict(
        f"Order {order.number} is {order.status}; it cannot become {to} "
        f"(from {order.status} it can become: {allowed}).",
        fields={"status": order.status},
    )


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def transition_order(*, order: Order, to: str, actor: Actor, reason: str = "") -> Order:
    """Move an order along the TRANSITIONS table; anything else is a 409 naming its status."""
    order = _locked(order)
    if to not in TRANSITIONS[order.status]:
        raise _transition_conflict(order, to)
    previous = order.status
    order.status = to
    order.save(update_fields=["status", "updated_at"])
    payload: dict[str, Any] = {"from": previous, "to": to}
    if reason:
        payload["reason"] = reason[:500]
    record_event(order, OrderEventKind.STATUS_CHANGED, actor, **payload)
    return order


@transaction.atomic
def fulfil_order(*, order: Order, actor: Actor) -> Order:
    order = _locked(order)
    if order.fulfillment_status == FulfillmentStatus.FULFILLED:
        raise Conflict(
            f"Order {order.number} is already fulfilled.",
            fields={"fulfillment_status": order.fulfillment_status},
        )
    if order.status not in FULFILLABLE:
        raise Conflict(
            f"Order {order.number} is {order.status}; it cannot be fulfilled.",
            fields={"status": order.status},
        )
    order.fulfillment_status = FulfillmentStatus.FULFILLED
    order.save(update_fields=["fulfillment_status", "updated_at"])
    record_event(order, OrderEventKind.FULFILLED, actor)
    return order


@transaction.atomic
def update_order(*, order: Order, changes: Mapping[str, Any], actor: Actor) -> Order:
    """Change an order's metadata, notes or type; fields left out keep their values."""
    order = _locked(order)
    errors: dict[str, str] = {}
    updates: dict[str, Any] = {}
    if "metadata" in changes:
        try:
            updates["metadata"] = clean_metadata(changes["metadata"])
        except Invalid as exc:
            errors.update(exc.fields)
    if "notes" in changes:
        notes = changes["notes"] or ""
        if len(notes) > NOTES_MAX:
            errors["notes"] = f"at most {NOTES_MAX} characters"
        updates["notes"] = notes
    if "order_type" in changes:
        if changes["order_type"] not in ORDER_TYPES:
            errors["order_type"] = f"must be one of {', '.join(ORDER_TYPES)}"
        updates["order_type"] = changes["order_type"]
    if errors:
        raise Invalid("The changes are not valid.", fields=errors)
    diff: dict[str, Any] = {}
    for name, value in updates.items():
        old = getattr(order, name)
        if old == value:
            continue
        if name == "metadata":
            diff[name] = {
                "set": sorted(k for k in value if old.get(k) != value[k]),
                "removed": sorted(k for k in old if k not in value),
            }
        else:
            diff[name] = {"from": old, "to": value}
        setattr(order, name, value)
    if diff:
        order.save(update_fields=[*diff, "updated_at"])
        record_event(order, OrderEventKind.UPDATED, actor, changed=diff)
    return order
