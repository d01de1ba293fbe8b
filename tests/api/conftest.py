"""Fixtures the schema fuzzers share: known objects for the routes to find, and an API key."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import signals
from django.db import close_old_connections

from ordersight.accounts.services import create_api_key
from ordersight.core.actors import Actor
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services as payments
from ordersight.payments.models import PaymentSystem
from tests import factories


@pytest.fixture
def in_test_transaction():
    # Django's test client stops requests from closing the test's connection; the WSGI
    # calls schemathesis makes go around it, so do the same here (with PostgreSQL's pool a
    # closed connection would be reopened inside the test's transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def known(db, in_test_transaction, catalog, customer) -> dict[str, dict[str, str]]:
    """Things for the routes to find, by path prefix and path parameter: an order with an
    invoice, a customer, the catalog, payment systems."""
    PaymentSystem.objects.create(code="card", name="Cards", provider="test")
    PaymentSystem.objects.create(code="bank", name="Bank", provider="manual")
    system = Actor.system()
    order = create_order(
        data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="COURSE-1")]), actor=system
    )
    invoice, _ = payments.issue_invoices(
        order=order, amounts=[Decimal("100.00"), Decimal("200.00")], actor=system
    )
    factories.OrderFactory(customer=customer)
    campaign, conversion = _campaign_with_a_conversion(system)
    segment = _a_code_and_a_segment(system)
    return {
        "/api/v1/orders/": {"number": str(order.number)},
        "/api/v1/invoices/": {"number": str(invoice.number)},
        "/api/v1/customers/": {"customer_id": str(customer.pk)},
        "/api/v1/offers/": {"number": "201"},
        "/api/v1/categories/": {"number": "20"},
        "/api/v1/variants/": {"sku": "TEE-M"},
        "/api/v1/payment-systems/": {"code": "card", "currency": "EUR"},
        "/api/v1/campaigns/": {"campaign_id": str(campaign.pk), "handle": "anna"},
        "/api/v1/creators/": {"handle": "anna"},
        "/api/v1/conversions/": {"conversion_id": str(conversion.pk)},
        "/api/v1/segments/": {"segment_id": str(segment.pk)},
        "/api/v1/discount-codes/": {"code": "FUZZ10"},
    }


def _a_code_and_a_segment(system: Actor):
    from ordersight.promotions import services as promotions

    promotions.create_discount_code(code="FUZZ10", kind="percent", percent="10", actor=system)
    return promotions.create_segment(
        name="Fuzz", rules={"field": "orders", "op": "gte", "value": 1}, actor=system
    )


def _campaign_with_a_conversion(system: Actor):
    from datetime import date

    from ordersight.campaigns import services as campaigns

    campaign = campaigns.create_campaign(
        name="Fuzz",
        starts_on=date(2000, 1, 1),
        commission_kind="percent",
        commission_percent="10",
        actor=system,
    )
    anna = campaigns.create_creator(name="Anna", handle="anna", actor=system)
    campaigns.add_member(campaign=campaign, creator=anna, coupon_codes=["ANNA"], actor=system)
    order = create_order(
        data=OrderInput(lines=[LineInput(sku="TEE-M")], coupon_code="ANNA"), actor=system
    )
    return campaign, order.conversion


@pytest.fixture
def token(known) -> str:
    return create_api_key(name="fuzz", scopes="read,write")[1]
