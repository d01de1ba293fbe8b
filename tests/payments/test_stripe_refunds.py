"""Refunds through Stripe (the fake one on 127.0.0.1): made at the provider, or refused by it
with a 409 naming the invoice and nothing stored."""

from __future__ import annotations

import pytest

from ordersight.payments.models import PaymentSystem, Refund
from tests.fakes.stripe import SECRET_KEY, FakeStripe, Ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe(settings):
    fake = FakeStripe().start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    yield fake
    fake.stop()


@pytest.fixture
def paid_invoice(api, stripe, tee_order) -> int:
    """The tee order's invoice (39.80 EUR), paid by card through Stripe."""
    PaymentSystem.objects.create(code="stripe", name="Stripe", provider="stripe")
    (invoice,) = api.post(f"orders/{tee_order}/invoices", {}).json()
    r = api.post(
        f"invoices/{invoice['number']}/charge",
        {"payment_system": "stripe", "card_token": "tok_success"},
    )
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.content
    return invoice["number"]


def test_a_refund_is_made_at_stripe(api, stripe, paid_invoice):
    r = api.post(f"invoices/{paid_invoice}/refunds", {"amount": "10.00"})
    assert r.status_code == 201, r.content
    (made,) = stripe.ledger.refunds
    assert (made.amount, made.intent_id) == (1000, stripe.ledger.charges[0].intent_id)
    assert r.json()["transaction_id"] == made.refund_id
    assert api.get(f"invoices/{paid_invoice}").json()["refunded"] == "10.00"


def test_a_refund_stripe_refuses_is_a_409_naming_the_invoice(api, stripe, paid_invoice):
    # Stripe no longer holds the payment (the account's key changed, say): it answers 400,
    # which asking again will not change. This was a 503 asking the caller to try again.
    stripe.ledger = Ledger()
    r = api.post(f"invoices/{paid_invoice}/refunds", {"amount": "10.00"})
    assert r.status_code == 409, r.content
    assert r.json()["error"]["fields"] == {"invoice": "refused by the payment provider"}
    assert "No such payment_intent" in r.json()["error"]["message"]
    assert not Refund.objects.exists()
    assert api.get(f"invoices/{paid_invoice}").json()["refunded"] == "0.00"
