"""Deterministic demo data: a catalog, customers, managers, payment systems, 2,100 orders.

Every state a page can show is in it: open orders paid in part and awaiting Confirm, sales
attributions confirmed and not, a failed and a paused recurring order, a store connection
with a green and an amber feed (read from files the demo ships), redemptions over weeks,
and a fifth of the orders spread back to the start of last year, so "this year" has last
year's same dates to compare with.

Everything goes through the same services as the API, so the demo shows real behaviour
(numbers, totals, events). Loading twice changes nothing: orders are upserted by their
external ids and the other tables are looked up before they are created.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from ordersight.accounts.roles import SALES_MANAGER, ensure_roles
from ordersight.campaigns import services as campaign_services
from ordersight.campaigns.models import Campaign, Conversion
from ordersight.catalog.models import Category, Offer
from ordersight.catalog.services import create_category, create_offer
from ordersight.core.actors import Actor
from ordersight.core.errors import DomainError
from ordersight.core.money import round_money
from ordersight.customers.models import Customer
from ordersight.customers.services import create_customer
from ordersight.orders.attribution import confirm_sales_attribution
from ordersight.orders.ingest import upsert_orders
from ordersight.orders.models import Order, OrderEvent
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import confirm_order, fulfil_order, transition_order
from ordersight.payments import services as payment_services
from ordersight.payments.models import FeeRule, Invoice, PaymentSystem, Provider, Refund
from ordersight.promotions import services as promotion_services
from ordersight.promotions.models import DiscountCode, Redemption
from ordersight.subscriptions.billing import billing_pass, run_attempt
from ordersight.subscriptions.models import RecurringOrder, RecurringStatus
from ordersight.subscriptions.services import (
    complete_recurring_order,
    create_recurring_order,
    pause_recurring_order,
    replace_payment_method,
)
from ordersight.sync import services as sync_services
from ordersight.sync.models import StoreConnection

SEED = 20261123
ORDER_COUNT = 2100
DAYS = 120  # most orders are this recent
HISTORY_EVERY = 5  # every fifth order is older: back to the start of last year
FEED_FILES = Path(__file__).resolve().parent / "demo_feed"
FEED_STORE = "Demo feed store"
CURRENCIES = ("EUR", "USD", "GBP")
CATEGORIES = ("Apparel", "Courses", "Coffee", "Software", "Workshops")
OFFER_NAMES = {
    "Apparel": ("Organic tee", "Hoodie", "Cap", "Socks (3 pairs)"),
    "Courses": ("Django from zero", "SQL for analysts", "Pricing strategy", "Copywriting"),
    "Coffee": ("Espresso beans 1 kg", "Filter roast 500 g", "Decaf 250 g", "Sampler box"),
    "Software": ("Team plan", "Pro licence", "Add-on: reports", "Priority support"),
    "Workshops": ("Sales bootcamp", "Onboarding day", "Leadership retreat", "Q&A session"),
}
MANAGERS = (
    ("mia", "Mia", "Kovacs"),
    ("leo", "Leo", "Brandt"),
    ("ana", "Ana", "Silva"),
    ("tom", "Tom", "Okafor"),
)
FIRST = (
    "Olivia",
    "Noah",
    "Emma",
    "Liam",
    "Ava",
    "Lucas",
    "Mila",
    "Elias",
    "Zoe",
    "Jonas",
    "Nora",
    "Felix",
    "Ida",
    "Hugo",
    "Lea",
)
LAST = ("Nowak", "Meyer", "Rossi", "Dubois", "Smith", "Jansen", "Novak", "Garcia")
SOURCES = (("storefront", 45), ("api", 20), ("shopify", 25), ("manual", 10))
TYPES = (("standard", 80), ("draft", 10), ("quote", 10))
STATUSES = (("completed", 62), ("open", 14), ("draft", 7), ("declined", 8), ("cancelled", 9))
# Creator campaigns: (campaign, rule, [(name, handle, coupon code, link code)]).
CAMPAIGNS = (
    (
        "Spring creators",
        {"commission_kind": "percent", "commission_percent": "12"},
        [
            ("Anna Cooks", "anna.cooks", "ANNA12", "anna-ig"),
            ("Ben Lifts", "ben.lifts", "BEN12", "ben-yt"),
            ("Chloe Codes", "chloe.codes", "CHLOE", "chloe-blog"),
        ],
    ),
    (
        "Coffee club",
        {
            "commission_kind": "fixed",
            "fixed_commissions": {"EUR": "4.00", "USD": "4.50", "GBP": "3.50"},
        },
        [("Dario Brews", "dario.brews", "DARIO", "dario-tt")],
    ),
)
REMOVED_CREATOR = ("Spring creators", "ben.lifts")  # shows why campaign and global differ


@dataclass
class DemoSummary:
    created: int
    skipped: bool


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _catalog(rng: random.Random, actor: Actor) -> list[Offer]:
    for i, name in enumerate(CATEGORIES, start=1):
        if not Category.objects.filter(number=i * 10).exists():
            create_category(name=name, number=i * 10, actor=actor)
    offers = []
    number = 100
    for c, category in enumerate(CATEGORIES, start=1):
        for name in OFFER_NAMES[category]:
            number += 1
            # Draw from the generator whether or not the row exists, so that a partly
            # loaded demo continues with exactly the same values.
            price = Decimal(rng.choice([9, 19, 29, 49, 99, 149, 299, 490])) + Decimal("0.90")
            offer = Offer.objects.filter(number=number).first()
            if offer is None:
                currency = CURRENCIES[number % 3]
                sizes = ("S", "M", "L") if category == "Apparel" else ("",)
                offer = create_offer(
                    name=name,
                    category_number=c * 10,
                    currency=currency,
                    unit_price=price,
                    number=number,
                    allow_quantity=category in ("Apparel", "Coffee", "Software"),
                    allow_partial_payments=category in ("Courses", "Workshops"),
                    variants=[{"sku": f"{number}-{s or 'STD'}", "name": s} for s in sizes],
                    external_ids={"shopify": f"gid-p-{number}"},
                    actor=actor,
                )
            offers.append(offer)
    return offers


def _customers(rng: random.Random, actor: Actor) -> list[Customer]:
    customers = []
    for i in range(60):
        email = f"customer{i + 1:02d}@example.com"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        phone = f"+48 600 {i:03d} {rng.randint(100, 999)}"
        segment = rng.choice(["retail", "wholesale", "education"])
        customer = Customer.objects.filter(email=email).first()
        if customer is None:
            tags = ["b2b"] if i % 4 == 0 else []
            if i % 7 == 0:
                tags.append("vip")
            customer = create_customer(
                name=name,
                email=email,
                phone=phone,
                tags=tags,
                metadata={"segment": segment},
                external_ids={"shopify": f"c-{5000 + i}"},
                actor=actor,
            )
        customers.append(customer)
    return customers


def _managers() -> list:
    User = get_user_model()
    group = Group.objects.get(name=SALES_MANAGER)
    managers = []
    for username, first, last in MANAGERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
        )
        if created:
            user.set_unusable_password()
            user.save()
        user.groups.add(group)
        managers.append(user)
    return managers


def _orders(
    rng: random.Random,
    now: datetime,
    offers: list[Offer],
    customers: list[Customer],
    managers: list,
    order_count: int,
) -> tuple[list[OrderInput], dict[str, str]]:
    inputs = []
    targets: dict[str, str] = {}
    # A separate generator, so the orders themselves stay what they were before campaigns.
    codes = random.Random(SEED + 1)
    history = random.Random(SEED + 2)
    last_year = now.replace(year=now.year - 1, month=1, day=1, hour=0, minute=0, second=0)
    history_minutes = int((now - timedelta(days=DAYS) - last_year).total_seconds() // 60)
    coupons = [c for _, _, creators in CAMPAIGNS for _, _, c, _ in creators]
    links = [ln for _, _, creators in CAMPAIGNS for _, _, _, ln in creators]
    for i in range(order_count):
        offer = rng.choice(offers)
        variant = rng.choice(list(offer.variants.all()))
        quantity = rng.choice([1, 1, 1, 2, 3]) if offer.allow_quantity else 1
        lines = [LineInput(sku=variant.sku, quantity=quantity)]
        same_currency = [o for o in offers if o.currency == offer.currency and o.allow_quantity]
        if rng.random() < 0.25 and same_currency:
            extra = rng.choice(same_currency)
            lines.append(LineInput(sku=extra.variants.first().sku, quantity=1))
        source = _pick(rng, SOURCES)
        customer = rng.choice(customers)
        status = _pick(rng, STATUSES)
        order_type = _pick(rng, TYPES)
        if order_type == "draft":
            status = "draft"
        targets[f"demo-{i + 1:05d}"] = status
        created_at = now - timedelta(minutes=rng.randint(0, DAYS * 24 * 60))
        if i % HISTORY_EVERY == HISTORY_EVERY - 1 and history_minutes > 0:
            created_at = last_year + timedelta(minutes=history.randint(0, history_minutes))
        inputs.append(
            OrderInput(
                lines=lines,
                customer_id=customer.pk,
                source=source,
                order_type=order_type,
                status="draft" if status == "draft" else "open",
                external_id=f"demo-{i + 1:05d}",
                created_at=created_at,
                metadata={
                    "channel": rng.choice(["web", "mobile_app", "phone"]),
                    "locale": rng.choice(["en-gb", "de-de", "pl-pl"]),
                },
                sales_manager_id=rng.choice(managers).pk if rng.random() < 0.4 else None,
            )
        )
        draw = codes.random()
        if draw < 0.14:
            inputs[-1].coupon_code = codes.choice(coupons)
        elif draw < 0.22:
            inputs[-1].referral_code = codes.choice(links)
    return inputs, targets


def _payment_systems() -> dict[str, PaymentSystem]:
    systems = {}
    specs = [
        (
            "acme",
            "Acme Payments EU",
            Provider.TEST,
            True,
            {"EUR": ("2.90", "0.25"), "GBP": ("2.50", "0.20"), "USD": ("3.50", "0.30")},
        ),
        (
            "northwind",
            "Northwind Cards",
            Provider.TEST,
            False,
            {"EUR": ("1.90", "0.20"), "GBP": ("1.90", "0.20"), "USD": ("2.20", "0.30")},
        ),
        ("bank", "Bank transfer", Provider.MANUAL, False, {}),
        ("invoice", "Pay by invoice", Provider.MANUAL, False, {}),
    ]
    for code, name, provider, one_click, fees in specs:
        system, _ = PaymentSystem.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "provider": provider,
                "supports_one_click": one_click,
                "webhook_secret": f"whsec_demo_{code}",
            },
        )
        for currency, (percent, fixed) in fees.items():
            FeeRule.objects.get_or_create(
                payment_system=system,
                currency=currency,
                defaults={"percent": Decimal(percent), "fixed": Decimal(fixed)},
            )
        systems[code] = system
    return systems


def _pay(
    order: Order, invoice: Invoice, rng: random.Random, systems: dict, actor: Actor
) -> Invoice:
    if rng.random() < 0.15:
        return payment_services.record_manual_payment(
            order=order,
            payment_system=systems["bank"],
            invoice=invoice,
            buyer_comment=rng.choice(
                ["Transfer ref " + str(order.number), "Paid by company card", ""]
            ),
            actor=actor,
        )
    token = "tok_one_click" if rng.random() < 0.3 else "tok_success"
    system = (
        systems["acme"] if token == "tok_one_click" or rng.random() < 0.6 else systems["northwind"]
    )
    if rng.random() < 0.1:  # a failed first attempt, then a retry that goes through
        payment_services.charge_invoice(
            invoice=invoice, payment_system=system, card_token="tok_insufficient_funds", actor=actor
        )
        invoice = payment_services.retry_invoice(invoice=invoice, actor=actor)
    return payment_services.charge_invoice(
        invoice=invoice, payment_system=system, card_token=token, actor=actor
    )


def _money_trail(
    order: Order, target: str, rng: random.Random, systems: dict, actor: Actor
) -> None:
    """Drive one order through invoices, payments and refunds to its demo status."""
    partial = all(line.offer and line.offer.allow_partial_payments for line in order.lines.all())
    if target == "draft":
        payment_services.issue_invoices(order=order, actor=actor)
        return
    if target == "open":
        if rng.random() < 0.5:
            (invoice,) = payment_services.issue_invoices(order=order, actor=actor)
            if rng.random() < 0.3:
                payment_services.charge_invoice(
                    invoice=invoice,
                    payment_system=systems["acme"],
                    card_token="tok_insufficient_funds",
                    actor=actor,
                )
        return
    if target == "declined":
        (invoice,) = payment_services.issue_invoices(order=order, actor=actor)
        payment_services.charge_invoice(
            invoice=invoice,
            payment_system=systems["northwind"],
            card_token=rng.choice(["tok_insufficient_funds", "tok_hard_decline"]),
            actor=actor,
        )
        transition_order(order=order, to="declined", actor=actor, reason="payment failed")
        return
    if target == "cancelled":
        transition_order(order=order, to="cancelled", actor=actor, reason="customer withdrew")
        return
    # completed: paid in full, or in installments, some confirmed before the last one
    installments = rng.choice([2, 3]) if partial and rng.random() < 0.6 else 1
    invoices = payment_services.issue_invoices(order=order, installments=installments, actor=actor)
    paid = []
    stop_early = installments > 1 and rng.random() < 0.35
    for invoice in invoices[: 1 if stop_early else None]:
        paid.append(_pay(order, invoice, rng, systems, actor))
    if stop_early:
        confirm_order(order=order, actor=actor)
    roll = rng.random()
    if roll < 0.04:
        for invoice in paid:
            invoice.refresh_from_db()
            payment_services.refund_invoice(
                invoice=invoice, amount=invoice.refundable, reason="returned", actor=actor
            )
    elif roll < 0.12:
        invoice = paid[0]
        invoice.refresh_from_db()
        share = round_money(
            invoice.amount * Decimal(rng.choice(["0.1", "0.25", "0.5"])), invoice.currency
        )
        if share > 0:
            payment_services.refund_invoice(
                invoice=invoice, amount=share, reason="partial refund: damaged item", actor=actor
            )


def _align_times(numbers: list[int]) -> None:
    """Services stamp 'now'; demo history is spread over months, so move each order's
    invoices, refunds and activity to just after the order was placed."""
    for order in Order.objects.filter(number__in=numbers).only("pk", "created_at"):
        base = order.created_at
        Invoice.objects.filter(order=order).update(
            created_at=base + timedelta(minutes=1), status_at=None
        )
        Invoice.objects.filter(order=order, attempted_at__isnull=False).update(
            attempted_at=base + timedelta(minutes=2)
        )
        Invoice.objects.filter(order=order, paid_at__isnull=False).update(
            paid_at=base + timedelta(minutes=3)
        )
        Refund.objects.filter(order=order).update(created_at=base + timedelta(days=2))
        OrderEvent.objects.filter(order=order).update(created_at=base)


def load_demo_data(*, now: datetime | None = None, order_count: int = ORDER_COUNT) -> DemoSummary:
    """Load the demo data set once; later calls find it and return skipped=True."""
    if Order.objects.filter(external_id="demo-00001").exists():
        return DemoSummary(created=0, skipped=True)
    rng = random.Random(SEED)
    now = now or timezone.now()
    actor = Actor.system()
    ensure_roles()
    with transaction.atomic():
        offers = _catalog(rng, actor)
        customers = _customers(rng, actor)
        managers = _managers()
        systems = _payment_systems()
        _campaigns(now, actor)
    inputs, targets = _orders(rng, now, offers, customers, managers, order_count)
    created = 0
    for start in range(0, len(inputs), 500):
        results = upsert_orders(items=inputs[start : start + 500], actor=actor)
        errors = [r for r in results if r.result == "error"]
        if errors:
            raise RuntimeError(f"demo order rejected: {errors[0]}")
        created += sum(r.result == "created" for r in results)
        with transaction.atomic():
            batch = (
                Order.objects.filter(number__in=[r.number for r in results])
                .order_by("number")
                .prefetch_related("lines__offer")
            )
            for order in batch:
                _money_trail(order, targets[order.external_id], rng, systems, actor)
            _align_times([r.number for r in results])
    fulfilled = Order.objects.filter(status="completed").order_by("number")
    for order in fulfilled[: len(fulfilled) // 2]:
        fulfil_order(order=order, actor=actor)
    _recurring_orders(rng, now, offers, customers, systems["acme"], actor)
    _reject_some_conversions(actor)
    _promotions(actor)
    _awaiting_confirm(systems, actor)
    _confirm_some_attributions(actor)
    _store_feeds(actor)
    return DemoSummary(created=created, skipped=False)


def _awaiting_confirm(systems: dict[str, PaymentSystem], actor: Actor) -> None:
    """Open orders of offers sold in installments with the first one paid: each awaits a
    person's Confirm to become a sale."""
    candidates = (
        Order.objects.filter(status="open", payment_status="unpaid", invoices__isnull=True)
        .exclude(lines__offer__allow_partial_payments=False)
        .exclude(redemptions__isnull=False)
        .order_by("number")
        .prefetch_related("lines__offer")
    )
    for order in candidates[:8]:
        if not all(line.offer and line.offer.allow_partial_payments for line in order.lines.all()):
            continue
        with transaction.atomic():
            first, *_ = payment_services.issue_invoices(order=order, installments=2, actor=actor)
            payment_services.charge_invoice(
                invoice=first,
                payment_system=systems["acme"],
                card_token="tok_success",
                actor=actor,
            )
            _align_times([order.number])


def _confirm_some_attributions(actor: Actor) -> None:
    """Half of the managers' sales confirmed (green in the lists), the rest awaiting a
    Check (red)."""
    if Order.objects.filter(sales_confirmed_at__isnull=False).exists():
        return
    sales = Order.objects.filter(status="completed", sales_manager__isnull=False).order_by("number")
    for order in list(sales)[::2]:
        confirm_sales_attribution(order=order, manager_id=order.sales_manager_id, actor=actor)


def feed_folder() -> Path:
    """Where the demo store's feed files are read from: below SYNC_FILE_ROOT, which the
    demo names (the data directory's feeds/) when the operator has not."""
    root = Path(settings.SYNC_FILE_ROOT or settings.DATA_DIR / "feeds")
    return root / "demo-store"


def _store_feeds(actor: Actor) -> None:
    """A store connection read from the demo's own feed files, each feed run once:
    products green, customers amber (a row without a name), orders amber (no file)."""
    if StoreConnection.objects.filter(name=FEED_STORE).exists():
        return
    folder = feed_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for source in FEED_FILES.glob("*.csv"):
        shutil.copyfile(source, folder / source.name)
    # Files are read only below SYNC_FILE_ROOT; where the operator named none, the demo
    # command names this folder to the web server and the worker, and it is named here for
    # the connection's first runs alone.
    named = settings.SYNC_FILE_ROOT
    settings.SYNC_FILE_ROOT = named or str(folder.parent)
    try:
        connection = sync_services.create_connection(
            name=FEED_STORE,
            platform="feed",
            shop_url=folder.as_uri(),
            currency="EUR",
            refresh_minutes=60,
            actor=actor,
        )
        for feed in sync_services.feeds_of(connection=connection).values():
            sync_services.run_feed(feed=feed, full=True)
    finally:
        settings.SYNC_FILE_ROOT = named


def _promotions(actor: Actor) -> None:
    """Segments of the demo's buyers, codes that use them, and a few redemptions."""
    if not DiscountCode.objects.filter(code="WELCOME10").exists():
        _codes_and_segments(actor)
    if Redemption.objects.exists():
        return
    open_orders = Order.objects.filter(status="open", payment_status="unpaid").order_by("number")
    for order in open_orders[:30]:
        code = "APP5" if order.metadata.get("channel") == "mobile_app" else "WELCOME10"
        try:
            redemption = promotion_services.redeem_code(order=order, code=code, actor=actor)
        except DomainError:
            continue  # a code that does not apply to this order (a limit, a rule)
        # Redeemed when the order was placed, so the history spreads over the weeks.
        Redemption.objects.filter(pk=redemption.pk).update(
            redeemed_at=order.created_at + timedelta(minutes=5)
        )
        _align_times([order.number])


def _codes_and_segments(actor: Actor) -> None:
    loyal = promotion_services.create_segment(
        name="Loyal buyers",
        rules={
            "all": [
                {"field": "orders", "op": "gte", "value": 3},
                {"field": "spent", "currency": "EUR", "op": "gte", "value": "100"},
            ]
        },
        actor=actor,
    )
    promotion_services.create_segment(
        name="Lapsed (no purchase in 60 days)",
        rules={"field": "last_order_at", "op": "lt", "value": "-60d"},
        actor=actor,
    )
    promotion_services.create_discount_code(
        code="WELCOME10", kind="percent", percent="10", per_customer_limit=1, actor=actor
    )
    promotion_services.create_discount_code(
        code="LOYAL15",
        kind="percent",
        percent="15",
        actor=actor,
        rules={
            "all": [
                {"type": "segment", "segment": loyal.pk},
                {"type": "order_total", "currency": "EUR", "min": "40"},
            ]
        },
    )
    promotion_services.create_discount_code(
        code="APP5",
        kind="fixed",
        amounts={"EUR": "5.00", "USD": "6.00", "GBP": "4.00"},
        usage_limit=200,
        actor=actor,
        rules={"all": [{"type": "metadata", "key": "channel", "op": "eq", "value": "mobile_app"}]},
    )


def _campaigns(now: datetime, actor: Actor) -> None:
    """Two creator campaigns with their members' codes; one creator removed since."""
    if Campaign.objects.filter(name=CAMPAIGNS[0][0]).exists():
        return
    joined = now - timedelta(days=DAYS + 1)
    for name, rule, creators in CAMPAIGNS:
        campaign = campaign_services.create_campaign(
            name=name, starts_on=joined.date(), actor=actor, **rule
        )
        for creator_name, handle, coupon, link in creators:
            creator = campaign_services.create_creator(
                name=creator_name, handle=handle, email=f"{handle}@example.com", actor=actor
            )
            campaign_services.add_member(
                campaign=campaign,
                creator=creator,
                coupon_codes=[coupon],
                link_codes=[link],
                actor=actor,
                at=joined,
            )
            if (name, handle) == REMOVED_CREATOR:
                campaign_services.remove_member(
                    campaign=campaign, creator=creator, actor=actor, at=now
                )


def _reject_some_conversions(actor: Actor) -> None:
    """A few sales a person judged not to earn commission (self-referrals, say)."""
    if Conversion.objects.filter(approval="rejected").exists():
        return
    paid = Conversion.objects.filter(status="paid").order_by("order__number")
    for conversion in list(paid)[::11][:6]:
        campaign_services.reject_conversion(
            conversion=conversion, actor=actor, reason="the creator's own purchase"
        )


def _recurring_orders(
    rng: random.Random,
    now: datetime,
    offers: list[Offer],
    customers: list[Customer],
    card: PaymentSystem,
    actor: Actor,
) -> None:
    """A dozen recurring orders started months ago and billed up to now by the engine
    itself (its clock moved day by day), so the tab shows real schedules and outcomes."""
    plans = [  # (unit, count, total payments or open-ended, token after the start, then)
        ("month", 1, 12, "tok_success", ""),
        ("month", 1, None, "tok_success", ""),
        ("week", 2, 6, "tok_success", ""),
        ("month", 1, 3, "tok_success", ""),
        ("week", 1, None, "tok_success", "pause"),
        ("month", 1, 6, "tok_insufficient_funds", ""),
        ("day", 10, 20, "tok_success", ""),
        ("month", 3, 4, "tok_success", ""),
        ("week", 4, None, "tok_success", ""),
        ("month", 1, 10, "tok_success", "complete"),
    ]
    start = now - timedelta(days=100)
    for i, (unit, count, total, token, _then) in enumerate(plans):
        offer = offers[i % len(offers)]
        at = start + timedelta(days=i * 3, hours=rng.randint(8, 18))
        recurring, attempt = create_recurring_order(
            customer=customers[i % len(customers)],
            offer=offer,
            amount=offer.unit_price if offer.unit_price > 0 else Decimal("10.00"),
            currency=offer.currency,
            interval_count=count,
            interval_unit=unit,
            total_payments=total,
            payment_system=card,
            payment_token="tok_success",
            actor=actor,
            at=at,
        )
        run_attempt(attempt=attempt, at=at, actor=actor)
        if token != "tok_success":
            replace_payment_method(recurring=recurring, payment_token=token, actor=actor, at=at)
    day = start
    while day < now:
        day += timedelta(days=1)
        billing_pass(at=min(day, now))
    for recurring, (*_, then) in zip(
        RecurringOrder.objects.order_by("number"), plans, strict=False
    ):
        if then == "pause" and recurring.status == RecurringStatus.ACTIVE:
            pause_recurring_order(recurring=recurring, actor=actor, at=now)
        if then == "complete" and recurring.status == RecurringStatus.ACTIVE:
            complete_recurring_order(recurring=recurring, actor=actor, at=now)
