"""Concurrent writers on PostgreSQL: row locks keep refunds within what was captured."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from ordersight.core.actors import Actor
from ordersight.core.errors import Invalid
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services
from ordersight.payments.models import Invoice, Refund
from tests.conftest import ApiClient

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _paid_invoice(card) -> Invoice:
    order = create_order(data=OrderInput(lines=[LineInput(sku="COURSE-1")]), actor=Actor.system())
    (invoice,) = services.issue_invoices(order=order, actor=Actor.system())
    return services.charge_invoice(
        invoice=invoice, payment_system=card, card_token="tok_success", actor=Actor.system()
    )


def test_two_concurrent_refunds_never_exceed_the_captured_amount(catalog, card):
    invoice = _paid_invoice(card)  # 300.00 captured

    def refund(_):
        try:
            services.refund_invoice(invoice=invoice, amount=Decimal("200.00"), actor=Actor.system())
            return "refunded"
        except Invalid:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(refund, range(2)))
    assert outcomes == ["refunded", "refused"]
    invoice.refresh_from_db()
    assert invoice.refunded_amount == Decimal("200.00")
    assert Refund.objects.count() == 1


def test_many_concurrent_small_refunds_stop_exactly_at_the_captured_amount(
    catalog, card, write_token
):
    invoice = _paid_invoice(card)

    def refund(_):
        try:
            r = ApiClient(write_token).post(
                f"invoices/{invoice.number}/refunds", {"amount": "40.00"}
            )
            return r.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(refund, range(10)))
    assert codes.count(201) == 7 and codes.count(422) == 3  # 7 × 40 = 280 ≤ 300 < 8 × 40
    invoice.refresh_from_db()
    assert invoice.refunded_amount == Decimal("280.00")
    assert sum(r.amount for r in Refund.objects.all()) == Decimal("280.00")


def test_concurrent_charges_of_one_invoice_charge_it_once(catalog, card):
    order = create_order(data=OrderInput(lines=[LineInput(sku="COURSE-1")]), actor=Actor.system())
    (invoice,) = services.issue_invoices(order=order, actor=Actor.system())

    def charge(_):
        try:
            services.charge_invoice(
                invoice=invoice, payment_system=card, card_token="tok_success", actor=Actor.system()
            )
            return "charged"
        except Exception as exc:  # the losers see the invoice already paid
            return type(exc).__name__
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(charge, range(5)))
    assert outcomes.count("charged") == 1 and outcomes.count("Conflict") == 4
    assert Invoice.objects.get(pk=invoice.pk).status == "succeeded"
