"""Campaign fixtures: a percent and a fixed campaign, creators with codes, a way to pay."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from ordersight.campaigns import services
from ordersight.campaigns.models import Campaign, Creator
from ordersight.core.actors import Actor
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments.models import FeeRule, PaymentSystem
from ordersight.payments.services import record_manual_payment

SYSTEM = Actor.system()
JOINED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def bank(db) -> PaymentSystem:
    bank = PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")
    FeeRule.objects.create(payment_system=bank, currency="EUR", percent=Decimal("2"))
    return bank


@pytest.fixture
def world(db, catalog, bank) -> dict[str, Any]:
    """Spring (10 % of net) with Anna (coupon ANNA10, link anna-link) and Ben (coupon BEN);
    Flat (5.00 EUR / 6.00 USD a sale) with Cleo (coupon CLEO)."""
    spring = services.create_campaign(
        name="Spring",
        starts_on=date(2026, 1, 1),
        commission_kind="percent",
        commission_percent="10",
        actor=SYSTEM,
    )
    flat = services.create_campaign(
        name="Flat",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        commission_kind="fixed",
        fixed_commissions={"EUR": "5.00", "USD": "6"},
        actor=SYSTEM,
    )
    anna = services.create_creator(name="Anna", handle="anna", actor=SYSTEM)
    ben = services.create_creator(name="Ben", handle="ben", actor=SYSTEM)
    cleo = services.create_creator(name="Cleo", handle="cleo", actor=SYSTEM)
    services.add_member(
        campaign=spring,
        creator=anna,
        coupon_codes=["anna10"],
        link_codes=["anna-link"],
        actor=SYSTEM,
        at=JOINED,
    )
    services.add_member(campaign=spring, creator=ben, coupon_codes=["BEN"], actor=SYSTEM, at=JOINED)
    services.add_member(campaign=flat, creator=cleo, coupon_codes=["CLEO"], actor=SYSTEM, at=JOINED)
    return {**catalog, "spring": spring, "flat": flat, "anna": anna, "ben": ben, "cleo": cleo}


def place(
    sku: str = "TEE-M",
    quantity: int = 1,
    *,
    coupon: str = "",
    ref: str = "",
    at: datetime | None = None,
) -> Order:
    return create_order(
        data=OrderInput(
            lines=[LineInput(sku=sku, quantity=quantity)],
            coupon_code=coupon,
            referral_code=ref,
            created_at=at or datetime(2026, 3, 10, 12, tzinfo=UTC),
        ),
        actor=SYSTEM,
    )


def pay(order: Order, bank: PaymentSystem) -> Order:
    record_manual_payment(order=order, payment_system=bank, actor=SYSTEM)
    order.refresh_from_db()
    return order


def totals(campaign: Campaign, creator: Creator) -> dict[str, Decimal]:
    return {c.currency: c.commission for c in creator.commissions.filter(campaign=campaign)}
