"""Signed-in clients per role and a paid order, for the staff page tests."""

from __future__ import annotations

import pytest
from django.test import Client

from ordersight.core.actors import Actor
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services as payments
from ordersight.payments.models import PaymentSystem
from tests import factories


@pytest.fixture
def admin_web(roles) -> Client:
    return factories.signed_in(roles, "Admin", "alice")


@pytest.fixture
def viewer_web(roles) -> Client:
    return factories.signed_in(roles, "Viewer", "vera")


@pytest.fixture
def manager_web(roles) -> Client:
    return factories.signed_in(roles, "Sales manager", "mia")


@pytest.fixture
def card(db) -> PaymentSystem:
    return PaymentSystem.objects.create(
        code="card", name="Acme Payments EU", provider="test", supports_one_click=True
    )


@pytest.fixture
def paid_order(catalog, customer, card):
    system = Actor.system()
    order = create_order(
        data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="TEE-M", quantity=2)]),
        actor=system,
    )
    (invoice,) = payments.issue_invoices(order=order, actor=system)
    payments.charge_invoice(
        invoice=invoice, payment_system=card, card_token="tok_success", actor=system
    )
    order.refresh_from_db()
    return order
