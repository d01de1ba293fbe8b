"""Promotions fixtures: customers with purchase histories, a way to place and pay orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from ordersight.core.actors import Actor
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments.models import PaymentSystem
from ordersight.payments.services import record_manual_payment
from ordersight.promotions.models import CustomerFigures, CustomerSpend

SYSTEM = Actor.system()


@pytest.fixture
def bank(db) -> PaymentSystem:
    return PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")


def place(
    sku: str = "TEE-M",
    quantity: int = 1,
    *,
    customer=None,
    at: datetime | None = None,
    metadata: dict | None = None,
) -> Order:
    return create_order(
        data=OrderInput(
            lines=[LineInput(sku=sku, quantity=quantity)],
            customer_id=customer.pk if customer else None,
            created_at=at,
            metadata=metadata,
        ),
        actor=SYSTEM,
    )


def pay(order: Order, bank: PaymentSystem) -> Order:
    record_manual_payment(order=order, payment_system=bank, actor=SYSTEM)
    order.refresh_from_db()
    return order


def money(value: str) -> Decimal:
    return Decimal(value)


def stored_customer_figures() -> tuple[dict, dict]:
    """Customers' kept figures as the property tests compare them: spend per customer and
    currency (orders, spent, average), and each customer's orders, first and last order."""
    spend = {
        (s.customer_id, s.currency): (s.orders, s.spent, s.average)
        for s in CustomerSpend.objects.all()
    }
    figures = {
        f.customer_id: (
            f.orders,
            f.first_order_at,
            f.last_order_at,
            f.last_order_amount,
            f.last_order_currency,
        )
        for f in CustomerFigures.objects.all()
    }
    return spend, figures
