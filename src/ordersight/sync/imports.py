"""What a page of Shopify products or orders becomes here: offers with their variants, and
orders through the same ingest as the API (with their payment and refunds), each item that
cannot be taken reported with the store's id and the reason."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ordersight.catalog.bulk import upsert_offers
from ordersight.catalog.models import Category, Variant
from ordersight.catalog.services import create_category
from ordersight.core.actors import Actor
from ordersight.core.bulk import ItemResult
from ordersight.core.errors import Invalid
from ordersight.core.validation import normal_code
from ordersight.customers.models import CustomerExternalId
from ordersight.orders.ingest import upsert_orders
from ordersight.orders.models import Order, OrderStatus, PaymentStatus
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.payments.models import Invoice, InvoiceStatus, PaymentSystem, Provider
from ordersight.payments.services import ChargedOrder, record_charged_orders, record_provider_refund
from ordersight.sync.models import StoreConnection

SOURCE = "shopify"
PAID = {"paid", "partially_refunded", "refunded"}


@dataclass
class PageOutcome:
    results: list[ItemResult] = field(default_factory=list)
    # Items refused before the bulk services saw them: (store id, reason).
    refused: list[tuple[str, str]] = field(default_factory=list)


def _category_number(name: str, cache: dict[str, int], actor: Actor) -> int:
    name = (name or "").strip()[:200] or "Shopify products"
    if name not in cache:
        found = Category.objects.filter(name=name).first()
        cache[name] = found.number if found else create_category(name=name, actor=actor).number
    return cache[name]


def import_products(
    connection: StoreConnection, products: Sequence[Mapping[str, Any]], actor: Actor
) -> PageOutcome:
    """Each product an offer (found again by its variants' SKUs), in the shop's currency."""
    outcome = PageOutcome()
    items, categories = [], {}
    for product in products:
        variants = [v for v in product.get("variants") or [] if isinstance(v, Mapping)]
        missing = [str(v.get("id")) for v in variants if not str(v.get("sku") or "").strip()]
        if not variants or missing:
            reason = (
                f"variant {missing[0]} has no SKU" if missing else "the product has no variants"
            )
            outcome.refused.append((str(product.get("id")), reason))
            continue
        items.append(
            {
                "name": product.get("title") or "",
                "currency": connection.currency,
                "allow_quantity": True,  # a store sells any number of each
                "unit_price": variants[0].get("price"),
                "category_number": _category_number(
                    str(product.get("product_type") or ""), categories, actor
                ),
                "variants": [
                    {
                        "sku": str(v["sku"]).strip(),
                        "name": v.get("title") or "",
                        "unit_price": v.get("price"),
                    }
                    for v in variants
                ],
                "_id": str(product.get("id")),
            }
        )
    results = upsert_offers(
        items=[{k: v for k, v in i.items() if k != "_id"} for i in items], actor=actor
    )
    for item, result in zip(items, results, strict=True):
        result.external_id = item["_id"]
    outcome.results = results
    return outcome


# --- Orders -------------------------------------------------------------------------------


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(
            _("Not an amount."),
            fields={"price": _("{value} is not an amount").format(value=repr(value))},
        ) from None


def _ref(landing_site: Any) -> str:
    """The `ref` of the link the buyer came by (`/?ref=anna-ig`)."""
    query = urllib.parse.urlsplit(str(landing_site or "")).query
    return urllib.parse.parse_qs(query).get("ref", [""])[0]


def order_input(
    order: Mapping[str, Any],
    known_skus: set[str],
    known_customers: set[str],
    status_now: str | None = None,
) -> OrderInput:
    """The store's order as the ingest takes it. A new order arrives open (its payment is
    recorded after); one we hold keeps its status unless the store cancelled it."""
    lines = []
    for i, item in enumerate(order.get("line_items") or []):
        sku = str(item.get("sku") or "").strip()
        price = _money(item.get("price"))
        quantity = item.get("quantity") or 1
        discount = _money(item.get("total_discount") or 0)
        if sku in known_skus:
            lines.append(
                LineInput(
                    sku=sku,
                    unit_price=price,
                    quantity=quantity,
                    discount=discount,
                    agreed_price=True,
                )
            )
        else:
            name = str(item.get("title") or item.get("name") or f"Item {i + 1}")
            lines.append(
                LineInput(name=name, unit_price=price, quantity=quantity, discount=discount)
            )
    customer = order.get("customer") or {}
    customer_id = str(customer.get("id") or "")
    codes = [c.get("code") for c in order.get("discount_codes") or [] if isinstance(c, Mapping)]
    created = parse_datetime(str(order.get("created_at") or ""))
    return OrderInput(
        lines=lines,
        currency=str(order.get("currency") or ""),
        customer_external_id=customer_id if customer_id in known_customers else None,
        source=SOURCE,
        external_id=str(order.get("id")),
        status=(
            OrderStatus.CANCELLED if order.get("cancelled_at") else status_now or OrderStatus.OPEN
        ),
        created_at=created,
        metadata={"shopify_name": order.get("name") or ""},
        coupon_code=normal_code(codes[0]) if codes and codes[0] else "",
        referral_code=normal_code(_ref(order.get("landing_site"))),
    )


def shopify_payments() -> PaymentSystem:
    system, _created = PaymentSystem.objects.get_or_create(
        code="shopify", defaults={"name": "Shopify Payments", "provider": Provider.MANUAL}
    )
    return system


def _refunds(order: Mapping[str, Any]) -> list[tuple[str, Decimal]]:
    out = []
    for refund in order.get("refunds") or []:
        for txn in refund.get("transactions") or []:
            if txn.get("kind") == "refund" and txn.get("status", "success") == "success":
                out.append((str(txn.get("id")), _money(txn.get("amount"))))
    return out


def import_orders(
    connection: StoreConnection, orders: Sequence[Mapping[str, Any]], actor: Actor
) -> PageOutcome:
    """Orders upserted by the store's id; a paid one is charged in full through Shopify
    Payments, and each refund the store reports is recorded once (by its transaction id)."""
    outcome = PageOutcome()
    skus = {
        s for o in orders for s in (str(i.get("sku") or "") for i in o.get("line_items") or []) if s
    }
    known_skus = set(Variant.objects.filter(sku__in=skus).values_list("sku", flat=True))
    customer_ids = {str((o.get("customer") or {}).get("id") or "") for o in orders}
    known_customers = set(
        CustomerExternalId.objects.filter(source=SOURCE, external_id__in=customer_ids).values_list(
            "external_id", flat=True
        )
    )
    held = dict(
        Order.objects.filter(
            source=SOURCE, external_id__in=[str(o.get("id")) for o in orders]
        ).values_list("external_id", "status")
    )
    inputs: list[OrderInput | Invalid] = []
    for order in orders:
        try:
            status_now = held.get(str(order.get("id")))
            inputs.append(order_input(order, known_skus, known_customers, status_now))
        except Invalid as exc:
            inputs.append(exc)
    outcome.results = upsert_orders(items=inputs, actor=actor)
    for order, result in zip(orders, outcome.results, strict=True):
        result.external_id = str(order.get("id"))
    _settle(orders, outcome.results, actor)
    return outcome


def _settle(orders: Sequence[Mapping[str, Any]], results: list[ItemResult], actor: Actor) -> None:
    numbers = {r.external_id: r.number for r in results if r.result != "error" and r.number}
    stored = {o.number: o for o in Order.objects.filter(number__in=numbers.values())}
    invoiced = set(
        Invoice.objects.filter(order_id__any=[o.pk for o in stored.values()]).values_list(
            "order_id", flat=True
        )
    )
    system = shopify_payments()
    charges, refunds = [], []
    for order in orders:
        number = numbers.get(str(order.get("id")))
        if number is None:
            continue
        found = stored[number]
        if (
            order.get("financial_status") in PAID
            and found.status == OrderStatus.OPEN
            and found.payment_status == PaymentStatus.UNPAID
            and found.pk not in invoiced
        ):
            txn = next(
                (
                    str(t.get("id"))
                    for t in order.get("transactions") or []
                    if t.get("kind") in ("sale", "capture")
                ),
                f"shopify-{order.get('id')}",
            )
            charges.append(ChargedOrder(order=found, payment_system=system, transaction_id=txn))
        refunds += [(found, txn, amount) for txn, amount in _refunds(order)]
    if charges:
        record_charged_orders(charges=charges, at=charges[0].order.created_at, actor=actor)
    for found, txn, amount in refunds:
        invoice = Invoice.objects.filter(
            order=found, status__in=(InvoiceStatus.SUCCEEDED, InvoiceStatus.REFUNDED)
        ).first()
        if invoice is not None:
            record_provider_refund(invoice=invoice, amount=amount, transaction_id=txn, actor=actor)


def feed_order_input(row: Mapping[str, Any]) -> OrderInput | Invalid:
    """A generic feed's order (ordersight's own shape) as the ingest takes it; Invalid
    naming every bad field."""
    errors: dict[str, str] = {}
    lines = []
    raw_lines = row.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors["lines"] = _("a list of lines")
        raw_lines = []
    for i, raw in enumerate(raw_lines):
        if not isinstance(raw, Mapping):
            errors[f"lines[{i}]"] = _("an object")
            continue
        try:
            price = _money(raw["unit_price"]) if raw.get("unit_price") is not None else None
            discount = _money(raw.get("discount") or 0)
        except Invalid:
            errors[f"lines[{i}].unit_price"] = _("an amount such as 12.50")
            continue
        quantity = raw.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            errors[f"lines[{i}].quantity"] = _("a whole number")
            continue
        lines.append(
            LineInput(
                sku=raw.get("sku") or None,
                name=raw.get("name") or None,
                unit_price=price,
                quantity=quantity,
                discount=discount,
            )
        )
    created = None
    if row.get("created_at"):
        created = parse_datetime(str(row["created_at"]))
        if created is None:
            errors["created_at"] = _("an ISO time")
    if errors:
        return Invalid(_("The order is not valid."), fields=errors)
    return OrderInput(
        lines=lines,
        currency=row.get("currency") or None,
        customer_external_id=row.get("customer_external_id") or None,
        source="feed",
        external_id=str(row.get("external_id") or "") or None,
        status=str(row.get("status") or OrderStatus.OPEN),
        created_at=created,
        metadata=row.get("metadata") if isinstance(row.get("metadata"), dict) else None,
        coupon_code=str(row.get("coupon_code") or ""),
        referral_code=str(row.get("referral_code") or ""),
    )
