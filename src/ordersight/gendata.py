"""`ordersight gendata`: a large, realistic data set written through the bulk paths.

For trying ordersight at scale and for the benchmarks: customers, offers in categories,
sales managers, two payment systems, and orders spread over two years in three currencies
with one to three lines, several sources and order types, invoices (paid in full or in
parts, with the provider's fee), refunds (partial and full), confirmed and unconfirmed sales
attributions, and an "imported" event each. Rows go in with COPY (`core.bulk.insert_many`),
numbers come from the same sequences the services use, and the sales rollups are rebuilt
from the raw rows at the end, as for any imported history.

The data is deterministic for a given seed; running it again adds another set.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from ordersight.accounts.roles import SALES_MANAGER, ensure_roles
from ordersight.catalog.models import Category, Offer, Variant
from ordersight.core.bulk import insert_many
from ordersight.core.money import round_money
from ordersight.core.sequences import reserve_numbers
from ordersight.customers.models import Customer, CustomerExternalId
from ordersight.orders.models import ActorType, Order, OrderEvent, OrderLine
from ordersight.orders.services import ORDER_NUMBER_START
from ordersight.payments.models import FeeRule, Invoice, PaymentSystem, Refund
from ordersight.payments.services.invoicing import INVOICE_NUMBER_START
from ordersight.promotions.figures import rebuild_figures
from ordersight.reports.services import rebuild_rollups

CURRENCIES = ("EUR", "USD", "GBP")
SOURCES = (("storefront", 50), ("api", 20), ("shopify", 25), ("manual", 5))
ORDER_TYPES = (("standard", 85), ("quote", 5), ("wholesale", 6), ("sample", 4))
STATUSES = (("completed", 72), ("open", 9), ("draft", 4), ("cancelled", 8), ("declined", 7))
CARD_FEES = {"EUR": ("2.9", "0.25"), "USD": ("2.9", "0.30"), "GBP": ("2.5", "0.20")}
PRICES = [Decimal(p) for p in ("9.90", "19.90", "29.00", "49.00", "99.00", "149.00", "490.00")]


@dataclass
class Summary:
    orders: int
    seconds: float
    rebuild_seconds: float


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def _catalog(rng: random.Random, offers: int, tag: str) -> dict[str, list[Variant]]:
    """Offers (one variant each) in twenty categories, by currency."""
    first_category = (
        Category.objects.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    categories = insert_many(
        Category,
        [Category(number=first_category + i, name=f"Category {tag}-{i + 1}") for i in range(20)],
    )
    first_offer = (
        Offer.objects.order_by("-number").values_list("number", flat=True).first() or 1000
    ) + 1
    made = insert_many(
        Offer,
        [
            Offer(
                number=first_offer + i,
                name=f"Offer {tag}-{i + 1}",
                category=categories[i % len(categories)],
                currency=CURRENCIES[i % 3],
                unit_price=rng.choice(PRICES),
                allow_quantity=i % 2 == 0,
                allow_partial_payments=i % 5 == 0,
            )
            for i in range(offers)
        ],
    )
    variants = insert_many(
        Variant, [Variant(offer=o, sku=f"GEN-{tag}-{o.number}", name="") for o in made]
    )
    by_currency: dict[str, list[Variant]] = {c: [] for c in CURRENCIES}
    for variant in variants:
        by_currency[variant.offer.currency].append(variant)
    return by_currency


def _customers(count: int, tag: str) -> list[int]:
    customers = insert_many(
        Customer,
        [
            Customer(name=f"Customer {tag}-{i + 1}", email=f"c{i + 1}.{tag}@example.com")
            for i in range(count)
        ],
    )
    insert_many(
        CustomerExternalId,
        [
            CustomerExternalId(customer=c, source="gendata", external_id=f"{tag}-{i + 1}")
            for i, c in enumerate(customers)
        ],
    )
    return [c.pk for c in customers]


def _managers(tag: str) -> list[int]:
    ensure_roles()
    group = Group.objects.get(name=SALES_MANAGER)
    users = []
    for i in range(8):
        user = get_user_model().objects.create_user(
            username=f"manager-{tag}-{i + 1}", first_name="Manager", last_name=f"{tag}-{i + 1}"
        )
        user.groups.add(group)
        users.append(user.pk)
    return users


def _payment_systems() -> tuple[PaymentSystem, PaymentSystem]:
    card, made = PaymentSystem.objects.get_or_create(
        code="gen-card", defaults={"name": "Generated cards", "provider": "test"}
    )
    if made:
        for currency, (percent, fixed) in CARD_FEES.items():
            FeeRule.objects.create(
                payment_system=card, currency=currency, percent=percent, fixed=fixed
            )
    bank, _ = PaymentSystem.objects.get_or_create(
        code="gen-bank", defaults={"name": "Generated bank transfer", "provider": "manual"}
    )
    return card, bank


def _fee(amount: Decimal, currency: str, card: bool) -> Decimal:
    if not card:
        return Decimal(0)
    percent, fixed = CARD_FEES[currency]
    return min(round_money(amount * Decimal(percent) / 100 + Decimal(fixed), currency), amount)


class _Batch:
    """One batch of orders with their lines, invoices, refunds and events."""

    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.lines: list[list[OrderLine]] = []
        self.invoices: list[list[Invoice]] = []
        self.refunds: list[list[tuple[int, Decimal]]] = []  # (invoice index, amount)

    def write(self) -> None:
        insert_many(Order, self.orders)
        lines, invoices = [], []
        for order, order_lines, order_invoices in zip(
            self.orders, self.lines, self.invoices, strict=True
        ):
            for line in order_lines:
                line.order = order
            for invoice in order_invoices:
                invoice.order = order
            lines += order_lines
            invoices += order_invoices
        insert_many(OrderLine, lines)
        numbers = iter(reserve_numbers("invoice", len(invoices), start=INVOICE_NUMBER_START))
        for invoice in invoices:
            invoice.number = next(numbers)
        insert_many(Invoice, invoices)
        refunds = [
            Refund(
                invoice=order_invoices[index],
                order=order,
                amount=amount,
                currency=order.currency,
                actor_label="gendata",
            )
            for order, order_invoices, wanted in zip(
                self.orders, self.invoices, self.refunds, strict=True
            )
            for index, amount in wanted
        ]
        insert_many(Refund, refunds)
        insert_many(
            OrderEvent,
            [
                OrderEvent(
                    order=order,
                    kind="imported",
                    actor_type=ActorType.SYSTEM,
                    actor_label="gendata",
                    payload={"total": str(order.total)},
                )
                for order in self.orders
            ],
        )


def _order(
    rng: random.Random,
    batch: _Batch,
    number: int,
    created: datetime,
    variants: dict[str, list[Variant]],
    customers: list[int],
    managers: list[int],
    systems: tuple[PaymentSystem, PaymentSystem],
    tag: str,
) -> None:
    currency = rng.choice(CURRENCIES)
    picks = rng.sample(variants[currency], rng.choice((1, 1, 1, 2, 2, 3)))
    lines = []
    for position, variant in enumerate(picks, start=1):
        offer = variant.offer
        quantity = rng.randint(1, 4) if offer.allow_quantity else 1
        lines.append(
            OrderLine(
                position=position,
                offer=offer,
                variant=variant,
                sku=variant.sku,
                name=offer.name,
                offer_number=offer.number,
                category_number=offer.category.number,
                unit_price=offer.unit_price,
                quantity=quantity,
                total=offer.unit_price * quantity,
            )
        )
    total = sum((line.total for line in lines), Decimal(0))
    status = _weighted(rng, STATUSES)
    # Most buyers come back: a few customers place many orders, most place a few.
    customer = customers[int(len(customers) * rng.random() ** 1.6)]
    manager = rng.choice(managers) if rng.random() < 0.4 else None
    confirmed = status == "completed" and rng.random() < 0.7
    lead = lines[0]
    order = Order(
        number=number,
        external_id=f"{tag}-{number}",
        source=_weighted(rng, SOURCES),
        order_type=_weighted(rng, ORDER_TYPES),
        customer_id=customer,
        currency=currency,
        subtotal=total,
        total=total,
        status=status,
        payment_status="unpaid",
        refund_status="none",
        fulfillment_status="fulfilled"
        if status == "completed" and rng.random() < 0.8
        else "unfulfilled",
        metadata={},
        created_at=created,
        line_count=len(lines),
        lead_item=lead.name,
        lead_sku=lead.sku,
        lead_offer_number=lead.offer_number,
        lead_category_number=lead.category_number,
        lead_unit_price=lead.unit_price,
        lead_quantity=lead.quantity,
        sales_manager_id=manager,
        sales_confirmed_at=created + timedelta(days=1) if confirmed else None,
    )
    card, bank = systems
    invoices: list[Invoice] = []
    refunds: list[tuple[int, Decimal]] = []
    paid_at = created + timedelta(minutes=3)
    if status == "completed":
        parts = 1 if rng.random() < 0.88 else rng.choice((2, 3))
        share = round_money(total / parts, currency)
        amounts = [share] * (parts - 1) + [total - share * (parts - 1)]
        # A confirmed partial payment: the last part is still pending.
        pending_last = parts > 1 and rng.random() < 0.5
        system = card if rng.random() < 0.8 else bank
        for i, amount in enumerate(amounts, start=1):
            succeeded = not (pending_last and i == parts)
            fee = _fee(amount, currency, system is card) if succeeded else Decimal(0)
            invoices.append(
                Invoice(
                    installment=i,
                    status="succeeded" if succeeded else "pending",
                    amount=amount,
                    currency=currency,
                    fee=fee,
                    funds_credited=amount - fee if succeeded else Decimal(0),
                    payment_system=system if succeeded else None,
                    paid_in_one_click=False,
                    attempted_at=paid_at if succeeded else None,
                    paid_at=paid_at if succeeded else None,
                    status_at=paid_at if succeeded else None,
                )
            )
        captured = sum((i.amount for i in invoices if i.status == "succeeded"), Decimal(0))
        order.payment_status = "paid" if captured >= total else "partially_paid"
        if rng.random() < 0.06 and invoices[0].status == "succeeded":
            first = invoices[0]
            amount = (
                first.amount
                if rng.random() < 0.4
                else round_money(first.amount * Decimal(rng.randint(10, 60)) / 100, currency)
            )
            if amount > 0:
                first.refunded_amount = amount
                if amount == first.amount:
                    first.status = "refunded"
                refunds.append((0, amount))
                order.refund_status = "full" if amount == captured else "partial"
    elif status == "declined":
        invoices.append(
            Invoice(
                installment=1,
                status="failed",
                amount=total,
                currency=currency,
                payment_system=card,
                failure_code="card_declined",
                failure_message="The card was declined.",
                attempted_at=paid_at,
                status_at=paid_at,
            )
        )
    elif status == "open" and rng.random() < 0.5:
        invoices.append(Invoice(installment=1, status="pending", amount=total, currency=currency))
    batch.orders.append(order)
    batch.lines.append(lines)
    batch.invoices.append(invoices)
    batch.refunds.append(refunds)


def _analyze() -> None:
    """Give PostgreSQL's planner the new tables' statistics now: autovacuum may be off, or
    not yet round, and without them the rollups' reads of a million orders' invoices plan
    as scans of tables it believes empty (hours instead of minutes)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def generate(
    *,
    orders: int,
    customers: int | None = None,
    offers: int = 400,
    years: int = 2,
    seed: int = 1,
    batch_size: int = 20_000,
    progress: Callable[[str, int, int], None] | None = None,
) -> Summary:
    """Write `orders` orders (and what they need); returns how long it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    tag = f"g{seed}-{int(time.time())}"
    customers = customers or max(orders // 10, 1)
    with transaction.atomic():
        variants = _catalog(rng, offers, tag)
        customer_ids = _customers(customers, tag)
        managers = _managers(tag)
        systems = _payment_systems()
    now = timezone.now().astimezone(UTC).replace(microsecond=0)
    span = years * 365 * 86400
    # Oldest first, as a store's history arrives; each batch is one transaction.
    moments = sorted(rng.randint(60, span) for _ in range(orders))[::-1]
    done = 0
    while done < orders:
        count = min(batch_size, orders - done)
        with transaction.atomic():
            numbers = reserve_numbers("order", count, start=ORDER_NUMBER_START)
            batch = _Batch()
            for number, seconds in zip(numbers, moments[done : done + count], strict=True):
                created = now - timedelta(seconds=seconds)
                _order(rng, batch, number, created, variants, customer_ids, managers, systems, tag)
            batch.write()
        done += count
        if progress is not None:
            progress("orders", done, orders)
    written = time.perf_counter() - started
    rebuild_started = time.perf_counter()
    _analyze()
    rebuild_rollups(
        progress=(lambda d, t: progress("rollups", d, t)) if progress is not None else None
    )
    rebuild_figures()  # customers' purchase figures, for segments
    _analyze()
    rebuild = time.perf_counter() - rebuild_started
    return Summary(orders=orders, seconds=written + rebuild, rebuild_seconds=rebuild)
