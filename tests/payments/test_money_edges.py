"""Money edge cases: duplicate deliveries at once, a refund before its payment, manual
payments that would pay an order twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from ordersight.payments.models import Invoice, Refund, WebhookEvent
from tests.payments.test_webhooks import _event, _send


@pytest.fixture
def invoice(api, card, tee_order) -> Invoice:
    number = api.post(f"orders/{tee_order}/invoices", {}).json()[0]["number"]
    return Invoice.objects.get(number=number)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_once_is_applied_once(api, card, catalog):
    number = api.post("orders", {"lines": [{"sku": "TEE-M", "quantity": 2}]}).json()["number"]
    invoice = Invoice.objects.get(
        number=api.post(f"orders/{number}/invoices", {}).json()[0]["number"]
    )
    event = _event(invoice, "evt_twice", "payment.succeeded", 1)
    start = threading.Barrier(4)

    def deliver(_):
        start.wait()
        try:
            response = _send(event)
            return response.status_code, response.json().get("duplicate")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(deliver, range(4)))
    assert [status for status, _ in outcomes] == [200] * 4, outcomes
    assert sorted(duplicate for _, duplicate in outcomes) == [False, True, True, True]
    assert WebhookEvent.objects.filter(event_id="evt_twice").count() == 1
    invoice.refresh_from_db()
    assert invoice.status == "succeeded"
    assert api.get(f"orders/{number}").json()["payment_status"] == "paid"


def test_an_oversized_refund_before_its_payment_does_not_block_the_payment(invoice, api):
    early = _event(invoice, "evt_refund", "refund.succeeded", 1, amount="500.00", refund_id="re_1")
    assert _send(early).json()["status"] == "deferred"
    paid = _send(_event(invoice, "evt_pay", "payment.succeeded", 2))
    assert paid.status_code == 200, paid.content
    invoice.refresh_from_db()
    assert invoice.status == "succeeded" and invoice.refunded_amount == 0
    rejected = WebhookEvent.objects.get(event_id="evt_refund")
    assert rejected.status == "rejected" and "refunded" in rejected.reason
    # Later events still apply.
    refund = _event(invoice, "evt_refund_2", "refund.succeeded", 3, amount="5.00", refund_id="re_2")
    assert _send(refund).json()["status"] == "applied"
    assert Refund.objects.get().amount == Decimal("5.00")


def test_a_good_refund_before_its_payment_is_applied_with_it(invoice):
    early = _event(invoice, "evt_refund", "refund.succeeded", 1, amount="9.80", refund_id="re_1")
    _send(early)
    _send(_event(invoice, "evt_pay", "payment.succeeded", 2))
    invoice.refresh_from_db()
    assert invoice.refunded_amount == Decimal("9.80")
    assert WebhookEvent.objects.get(event_id="evt_refund").status == "applied"


def test_a_manual_payment_cannot_pay_an_order_twice(api, bank, tee_order):
    first = api.post(
        f"orders/{tee_order}/payments/manual", {"payment_system": "bank", "amount": "39.80"}
    )
    assert first.status_code == 201, first.content
    again = api.post(
        f"orders/{tee_order}/payments/manual", {"payment_system": "bank", "amount": "39.80"}
    )
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {"amount": "at most 0.00"}
    assert api.get(f"orders/{tee_order}").json()["payment_status"] == "paid"


def test_a_manual_payment_larger_than_what_is_due_is_refused(api, bank, course_order):
    part = api.post(
        f"orders/{course_order}/payments/manual", {"payment_system": "bank", "amount": "100.00"}
    )
    assert part.status_code == 201, part.content
    r = api.post(
        f"orders/{course_order}/payments/manual", {"payment_system": "bank", "amount": "250.00"}
    )
    assert r.status_code == 409
    assert r.json()["error"]["fields"] == {"amount": "at most 200.00"}
    rest = api.post(
        f"orders/{course_order}/payments/manual", {"payment_system": "bank", "amount": "200.00"}
    )
    assert rest.status_code == 201
    assert api.get(f"orders/{course_order}").json()["payment_status"] == "paid"
