"""Concurrent order writers on PostgreSQL over shared customers: no deadlock reaches a client."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.utils import timezone

from ordersight.core.actors import Actor
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order, transition_order
from ordersight.payments.models import PaymentSystem, Refund
from ordersight.payments.services import record_manual_payment, refund_invoice
from ordersight.subscriptions.billing import billing_pass, run_attempt
from ordersight.subscriptions.services import create_recurring_order
from tests import factories
from tests.conftest import ApiClient
from tests.reports.conftest import raw_figures, stored_figures
from tests.threads import run_together

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SYSTEM = Actor.system()
CLIENTS = 4
BATCHES = 3
BATCH_SIZE = 150


def _batch(client: int, batch: int, customers: list[int]) -> list[dict]:
    """Completed two-line orders (every fifth one open) whose customers come in an order of
    their own, so two batches reach the same customers in different orders."""
    rng = random.Random(client * 100 + batch)
    order = customers[:]
    rng.shuffle(order)
    return [
        {
            "source": "shopify",
            "external_id": f"c{client}-b{batch}-{i}",
            "customer_id": order[i % len(order)],
            "status": "open" if i % 5 == 0 else "completed",
            "lines": [{"sku": "TEE-M", "quantity": 1 + i % 3}, {"sku": "TEE-L"}],
        }
        for i in range(BATCH_SIZE)
    ]


def test_four_bulk_clients_over_shared_customers_all_succeed(catalog, write_token):
    customers = [factories.CustomerFactory().pk for _ in range(40)]

    def client(number: int) -> list[tuple[int, dict]]:
        api = ApiClient(write_token)
        answers = []
        for batch in range(BATCHES):
            r = api.post(
                "orders/bulk",
                {"orders": _batch(number, batch, customers)},
                headers={"Idempotency-Key": f"client-{number}-batch-{batch}"},
            )
            answers.append((r.status_code, r.json()))
        return answers

    answers = [a for per_client in run_together(client, range(CLIENTS)) for a in per_client]
    assert [status for status, _ in answers] == [200] * CLIENTS * BATCHES, answers
    assert all(body["created"] == BATCH_SIZE for _, body in answers)
    expected = CLIENTS * BATCHES * BATCH_SIZE
    assert Order.objects.count() == expected
    assert Order.objects.values("external_id").distinct().count() == expected


def test_bulk_single_orders_refunds_and_billing_at_once_all_succeed(catalog, write_token):
    """Every kind of writer that touches customers, at once over the same customers."""
    card = PaymentSystem.objects.create(code="card", name="Cards", provider="test")
    bank = PaymentSystem.objects.create(code="bank", name="Bank", provider="manual")
    customers = [factories.CustomerFactory() for _ in range(12)]
    ids = [c.pk for c in customers]
    start = timezone.now() - timedelta(days=40)
    for customer in customers[:6]:
        _, attempt = create_recurring_order(
            customer=customer,
            offer=catalog["tee"],
            amount=Decimal("25.00"),
            currency="EUR",
            interval_count=1,
            interval_unit="month",
            total_payments=3,
            payment_system=card,
            payment_token="tok_success",
            actor=SYSTEM,
            at=start,
        )
        run_attempt(attempt=attempt, at=start, actor=SYSTEM)
    paid = []
    for customer in customers:
        order = create_order(
            data=OrderInput(lines=[LineInput(sku="TEE-M", quantity=3)], customer_id=customer.pk),
            actor=SYSTEM,
        )
        paid.append(record_manual_payment(order=order, payment_system=bank, actor=SYSTEM))

    def bulk(number: int) -> list[int]:
        api = ApiClient(write_token)
        return [
            api.post(
                "orders/bulk",
                {"orders": _batch(number, batch, ids)},
                headers={"Idempotency-Key": f"mixed-{number}-{batch}"},
            ).status_code
            for batch in range(2)
        ]

    def single() -> int:
        for i, customer in enumerate(reversed(ids * 2)):
            data = OrderInput(lines=[LineInput(sku="TEE-L")], customer_id=customer)
            order = create_order(data=data, actor=SYSTEM)
            if i % 2:
                transition_order(order=order, to="completed", actor=SYSTEM)
        return len(ids) * 2

    def refunds() -> int:
        for invoice in paid:
            refund_invoice(invoice=invoice, amount=Decimal("5.00"), actor=SYSTEM)
        return len(paid)

    def billing() -> int:
        return len(billing_pass(at=timezone.now()).outcomes)

    work = {"bulk-0": partial(bulk, 0), "bulk-1": partial(bulk, 1), "single": single}
    work |= {"refunds": refunds, "billing": billing}
    done = dict(zip(work, run_together(lambda name: work[name](), list(work)), strict=True))
    assert done == {
        "bulk-0": [200, 200],
        "bulk-1": [200, 200],
        "single": 24,
        "refunds": 12,
        "billing": 6,
    }
    assert Order.objects.filter(source="shopify").count() == 2 * 2 * BATCH_SIZE
    assert Refund.objects.count() == 12
    assert Order.objects.filter(source="subscription").count() == 12
    assert stored_figures() == raw_figures()
