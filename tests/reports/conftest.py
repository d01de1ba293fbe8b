"""Reports fixtures: a catalog with two categories in one currency, payment systems, and
the raw-rows arithmetic the rollups are checked against (written apart from the app's)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from ordersight.orders.models import Order
from ordersight.payments.models import FeeRule, Invoice, PaymentSystem, Refund
from ordersight.reports.models import SalesRollup
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


def stored_figures(grain: str = "d", *, line_dimensions_money: bool = False) -> dict:
    out = {}
    for r in SalesRollup.objects.filter(grain=grain):
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
            key = (r.period, r.currency, r.source, r.order_type, r.dimension, r.key, r.confirmed)
            out[key] = figures
    return out
