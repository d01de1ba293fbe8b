"""Recurring payments are sales like any other; the report tells recurring from one-off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ordersight.core.actors import Actor
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services as payments
from ordersight.subscriptions.billing import billing_pass

from .conftest import START

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


@pytest.fixture
def sales(subscribe, customer, card_system):
    """January: one recurring order (two payments of 25.00) and one one-off sale of 19.90."""
    recurring, _ = subscribe(unit="day", count=1, at=START - timedelta(days=10))
    billing_pass(at=START - timedelta(days=9))
    one_off = create_order(
        data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="TEE-M")], created_at=START),
        actor=SYSTEM,
    )
    (invoice,) = payments.issue_invoices(order=one_off, actor=SYSTEM)
    payments.charge_invoice(
        invoice=invoice, payment_system=card_system, card_token="tok_success", actor=SYSTEM
    )
    return recurring, one_off


def _report(api, **params) -> dict:
    response = api.get(
        "/api/v1/reports/sales",
        group_by="currency",
        **{"from": "2026-01-01", "to": "2026-01-31"},
        **params,
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_recurring_payments_count_as_sales_and_filter_by_kind(api, sales):
    everything = _report(api)["rows"]
    assert [(r["orders"], r["net"]) for r in everything] == [(3, "69.90")]
    recurring = _report(api, kind="recurring")["rows"]
    assert [(r["orders"], r["net"]) for r in recurring] == [(2, "50.00")]
    one_off = _report(api, kind="one_off")["rows"]
    assert [(r["orders"], r["net"]) for r in one_off] == [(1, "19.90")]
    bad = api.get("/api/v1/reports/sales", group_by="currency", kind="sometimes")
    assert bad.status_code == 422 and "kind" in bad.json()["error"]["fields"]


def test_dashboard_and_drill_down_list_exactly_the_recurring_orders(api, sales, roles):
    from tests import factories

    _recurring, one_off = sales
    performance = api.get(
        "/api/v1/reports/performance",
        kind="recurring",
        **{"from": "2026-01-01", "to": "2026-01-31"},
    ).json()
    (eur,) = performance["currencies"]
    assert eur["current"]["orders"] == 2
    listed = api.get("/api/v1/orders", recurring="true", status="completed").json()["items"]
    assert len(listed) == 2 and all(o["order_type"] == "recurring" for o in listed)
    others = api.get("/api/v1/orders", recurring="false").json()["items"]
    assert [o["number"] for o in others] == [one_off.number]
    admin = factories.signed_in(roles, "Admin", "ada_admin")
    page = admin.get(
        "/sales/report/?group_by=currency&from=2026-01-01&to=2026-01-31&kind=recurring"
    )
    assert page.status_code == 200
    assert "recurring=true" in page.content.decode()
