"""Payment systems for the payments tests: a card gateway with fees and a bank transfer."""

from decimal import Decimal

import pytest

from ordersight.payments.models import FeeRule, PaymentSystem

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def card(db) -> PaymentSystem:
    system = PaymentSystem.objects.create(
        code="card",
        name="Acme Payments EU",
        provider="test",
        supports_one_click=True,
        webhook_secret=WEBHOOK_SECRET,
    )
    FeeRule.objects.create(
        payment_system=system, currency="EUR", percent=Decimal("2.9"), fixed=Decimal("0.25")
    )
    FeeRule.objects.create(payment_system=system, currency="USD", percent=Decimal("3.5"))
    return system


@pytest.fixture
def card_no_one_click(db) -> PaymentSystem:
    return PaymentSystem.objects.create(code="card2", name="Basic Cards", provider="test")


@pytest.fixture
def bank(db) -> PaymentSystem:
    return PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")


@pytest.fixture
def tee_order(api, catalog):
    """An EUR order of 39.80 (two tees); its offer takes one invoice."""
    return api.post("orders", {"lines": [{"sku": "TEE-M", "quantity": 2}]}).json()["number"]


@pytest.fixture
def course_order(api, catalog):
    """A USD order of 300.00 for a course that allows partial payments."""
    return api.post("orders", {"lines": [{"sku": "COURSE-1"}]}).json()["number"]
