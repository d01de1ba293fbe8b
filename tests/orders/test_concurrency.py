"""Concurrent order writers on PostgreSQL over shared customers: no deadlock reaches a client."""

from __future__ import annotations

import random

import pytest

from ordersight.orders.models import Order
from tests import factories
from tests.conftest import ApiClient
from tests.threads import run_together

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

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
