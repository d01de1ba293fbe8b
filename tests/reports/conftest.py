"""Reports fixtures: a catalog with two categories in one currency, payment systems, and
the raw-rows arithmetic the rollups are checked against (written apart from the app's)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from ordersight.core.actors import Actor
from ordersight.orders.attribution import assign_sales_manager, confirm_sales_attribution
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import confirm_order, create_order, transition_order
from ordersight.payments.models import FeeRule, Invoice, PaymentSystem, Refund
from ordersight.payments.services import record_manual_payment, refund_invoice
from ordersight.reports.models import ReportedOrder, SalesRollup
from tests import factories

CAPTURED = ("succeeded", "refunded")


@pytest.fixture
def shop(db, catalog) -> dict[str, Any]:
    """The shared catalog plus an EUR workshop in the courses category, and two ways to pay."""
    workshop = factories.OfferFactory(
        number=202,
        name="Workshop",
        category=catalog["courses"],
        currency="EUR",
        unit_price=Decimal("50.00"),
        allow_quantity=True,
        allow_partial_payments=True,
    )
    factories.VariantFactory(offer=workshop, sku="WORKSHOP")
    bank = PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")
    FeeRule.objects.create(payment_system=bank, currency="EUR", percent=Decimal("1.5"))
    FeeRule.objects.create(payment_system=bank, currency="USD", fixed=Decimal("0.30"))
    cash = PaymentSystem.objects.create(code="cash", name="Cash desk", provider="manual")
    return {**catalog, "workshop": workshop, "bank": bank, "cash": cash}


def raw_figures() -> dict[tuple, dict[str, Any]]:
    """Every rollup day row's figures, computed from the order, line, invoice and refund
    rows with plain Python. Offer and category rows carry orders, units and gross only (their
    shares of refunds and fees are checked as sums)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    out: dict[tuple, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    sales = list(Order.objects.filter(status="completed").order_by("created_at", "id"))
    seen_customers: set[int] = set()
    for order in sales:
        base = (
            order.created_at.astimezone(zone).date(),
            order.currency,
            order.source,
            order.order_type,
        )
        invoices = [i for i in Invoice.objects.filter(order=order) if i.status in CAPTURED]
        refunds = sum((r.amount for r in Refund.objects.filter(order=order)), Decimal(0))
        lines = list(order.lines.all())
        whole = {
            "orders": 1,
            "units": sum(ln.quantity for ln in lines),
            "gross": order.total,
            "refunds": refunds,
            "fees": sum((i.fee for i in invoices), Decimal(0)),
            "funds_credited": sum((i.funds_credited for i in invoices), Decimal(0)),
        }
        new = order.customer_id is not None and order.customer_id not in seen_customers
        if order.customer_id is not None:
            seen_customers.add(order.customer_id)
        manager = str(order.sales_manager_id) if order.sales_manager_id else "system"
        keys = [
            ((*base, "total", "", False), {**whole, "new_customers": int(new)}),
            ((*base, "customer", str(order.customer_id or "none"), False), whole),
            (
                (*base, "sales_manager", manager, order.sales_confirmed_at is not None),
                whole,
            ),
        ]
        systems: dict[str, dict[str, Any]] = {}
        for i in invoices:
            s = systems.setdefault(
                str(i.payment_system_id or "none"),
                {
                    "orders": 1,
                    "units": whole["units"],
                    "gross": 0,
                    "refunds": 0,
                    "fees": 0,
                    "funds_credited": 0,
                },
            )
            s["gross"] += i.amount
            s["refunds"] += i.refunded_amount
            s["fees"] += i.fee
            s["funds_credited"] += i.funds_credited
        if not systems:
            systems["none"] = {"orders": 1, "units": whole["units"], "gross": order.total}
        keys += [((*base, "payment_system", k, False), v) for k, v in systems.items()]
        for dimension, attr in (("offer", "offer_number"), ("category", "category_number")):
            groups: dict[str, dict[str, Any]] = {}
            for ln in lines:
                g = groups.setdefault(
                    str(getattr(ln, attr) or "none"), {"orders": 1, "units": 0, "gross": 0}
                )
                g["units"] += ln.quantity
                g["gross"] += ln.total
            keys += [((*base, dimension, k, False), v) for k, v in groups.items()]
        for key, figures in keys:
            for name, value in figures.items():
                out[key][name] += value
    return {k: {n: v for n, v in f.items() if v} for k, f in out.items()}


def stored_figures(
    grain: str = "d",
    *,
    line_dimensions_money: bool = False,
    summed: bool = False,
    customers: bool = True,
) -> dict:
    """The stored rows' figures: those under their own source and order type, or (summed)
    those under any source and order type, keyed without them. The day rows come with each
    customer's figures of the day (`customers`), which the kept sales hold."""
    out = _customer_figures() if customers and grain == "d" and not summed else {}
    rows = SalesRollup.objects.filter(grain=grain)
    rows = rows.filter(source="*", order_type="*") if summed else rows.exclude(source="*")
    for r in rows:
        figures = {
            "orders": r.orders,
            "units": r.units,
            "gross": r.gross,
            "refunds": r.refunds,
            "fees": r.fees,
            "funds_credited": r.funds_credited,
            "new_customers": r.new_customers,
        }
        if r.dimension in ("offer", "category") and not line_dimensions_money:
            figures = {n: figures[n] for n in ("orders", "units", "gross")}
        figures = {n: v for n, v in figures.items() if v}
        if figures:
            if summed:
                key = (r.period, r.currency, r.dimension, r.key, r.confirmed)
            else:
                key = (
                    r.period,
                    r.currency,
                    r.source,
                    r.order_type,
                    r.dimension,
                    r.key,
                    r.confirmed,
                )
            out[key] = figures
    return out


def _customer_figures() -> dict:
    out: dict[tuple, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for sale in ReportedOrder.objects.all():
        key = (sale.day, sale.currency, sale.source, sale.order_type)
        figures = out[(*key, "customer", str(sale.customer_id or "none"), False)]
        figures["orders"] += 1
        for name in ("units", "refunds", "fees", "funds_credited"):
            figures[name] += getattr(sale, name)
        figures["gross"] += sale.total
    return {k: {n: v for n, v in f.items() if v} for k, f in out.items()}


SYSTEM = Actor.system()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _order(lines, customer, when, **kwargs) -> Order:
    return create_order(
        data=OrderInput(
            lines=lines,
            customer_id=customer.pk if customer else None,
            created_at=at(when),
            **kwargs,
        ),
        actor=SYSTEM,
    )


def _complete(order: Order) -> Order:
    order.refresh_from_db()
    if order.status != "completed":
        transition_order(order=order, to="completed", actor=SYSTEM)
    order.refresh_from_db()
    return order


def _paid_in_full(order: Order, payment_system) -> Invoice:
    """A manual payment of the whole order, and the order completed if that left it open:
    a sale. Returns the invoice paid."""
    invoice = record_manual_payment(order=order, payment_system=payment_system, actor=SYSTEM)
    _complete(order)
    return invoice


@pytest.fixture
def march(shop, roles):
    mia = factories.UserFactory(username="mia", first_name="Mia", last_name="Rossi")
    max_ = factories.UserFactory(username="max", first_name="Max", last_name="Weber")
    for user in (mia, max_):
        user.groups.add(roles["Sales manager"])
    ada = factories.CustomerFactory(name="Ada")
    bea = factories.CustomerFactory(name="Bea")
    ada.external_ids.create(source="shopify", external_id="ADA-1")

    o5 = _order([LineInput(sku="TEE-M")], bea, "2026-02-20T12:00:00")
    record_manual_payment(order=o5, payment_system=shop["cash"], actor=SYSTEM)
    _complete(o5)

    o1 = _order(
        [LineInput(sku="TEE-M", quantity=2), LineInput(sku="WORKSHOP")],
        ada,
        "2026-03-03T10:00:00",
    )
    invoice = record_manual_payment(order=o1, payment_system=shop["bank"], actor=SYSTEM)
    _complete(o1)
    refund_invoice(invoice=invoice, amount=Decimal("10.00"), actor=SYSTEM)
    confirm_sales_attribution(order=o1, manager_id=mia.pk, actor=SYSTEM)

    o2 = _order([LineInput(sku="COURSE-1")], ada, "2026-03-10T09:00:00")
    record_manual_payment(
        order=o2, payment_system=shop["bank"], amount=Decimal("100.00"), actor=SYSTEM
    )
    confirm_order(order=o2, actor=SYSTEM)
    assign_sales_manager(order=o2, manager_id=max_.pk, actor=SYSTEM)

    o3 = _order(
        [LineInput(sku="TEE-L")],
        bea,
        "2026-03-15T23:30:00",
        source="storefront",
        order_type="quote",
    )
    record_manual_payment(order=o3, payment_system=shop["cash"], actor=SYSTEM)
    _complete(o3)

    o4 = _order([LineInput(sku="TEE-M")], bea, "2026-03-20T08:00:00")
    _complete(o4)
    transition_order(order=o4, to="cancelled", actor=SYSTEM)
    _order([LineInput(sku="TEE-M")], None, "2026-03-25T08:00:00")  # O6, open
    return {"o1": o1, "o2": o2, "o3": o3, "o5": o5, "mia": mia, "max": max_, "ada": ada, "bea": bea}


def summed_over_sources(figures: dict) -> dict:
    """Exact rows' figures added up over source and order type (what ANY rows must hold)."""
    out: dict = defaultdict(lambda: defaultdict(int))
    for (period, currency, _s, _t, dimension, key, confirmed), values in figures.items():
        for name, value in values.items():
            out[(period, currency, dimension, key, confirmed)][name] += value
    return {k: {n: v for n, v in f.items() if v} for k, f in out.items()}
