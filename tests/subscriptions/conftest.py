from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ordersight.core.actors import Actor
from ordersight.payments.models import PaymentSystem
from ordersight.subscriptions.billing import run_attempt
from ordersight.subscriptions.services import create_recurring_order

START = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


@pytest.fixture
def card_system(db) -> PaymentSystem:
    return PaymentSystem.objects.create(code="cards", name="Acme Cards", provider="test")


@pytest.fixture
def subscribe(catalog, customer, card_system):
    """Make a recurring order and charge its initial payment, as the API does."""

    def make(
        *,
        token: str = "tok_success",
        amount: str = "25.00",
        unit: str = "month",
        count: int = 1,
        total: int | None = 3,
        at: datetime = START,
        offer=None,
    ):
        recurring, attempt = create_recurring_order(
            customer=customer,
            offer=offer or catalog["tee"],
            amount=Decimal(amount),
            currency="EUR",
            interval_count=count,
            interval_unit=unit,
            total_payments=total,
            payment_system=card_system,
            payment_token=token,
            actor=Actor.system(),
            at=at,
        )
        outcome = run_attempt(attempt=attempt, at=at, actor=Actor.system())
        recurring.refresh_from_db()
        return recurring, outcome

    return make
