"""Checking who made a sale ("Check"), one at a time and in bulk, on PostgreSQL.

    python benchmarks/check.py --database-url postgres://…/os_load

Runs against an existing store (one `ordersight gendata` filled, so it holds a million
orders and their kept figures) and checks some of its unchecked sales for good: the store
keeps them checked afterwards. Measured, each beside a baseline in the same run:

- one Check through the service, and through the API (POST …/sales-attribution/confirm,
  the whole middleware stack in-process with an API key), wall time and statements per
  Check, against a raw `UPDATE` of the same columns of one order;
- a bulk Check of 10,000 sales through the API (POST /orders/sales-attribution/confirm),
  against a raw `UPDATE` of the same columns of 10,000 orders in one statement (rolled back).

Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

SINGLE = 200
# Of each kind's Checks, the first this many are counted (statements), the rest timed.
COUNTED = 20
BULK = 10_000


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 50)
    # The benchmark sends hundreds of requests a second with one key.
    os.environ.setdefault("API_RATE_LIMIT_PER_KEY", "100000000")
    os.environ.setdefault("API_RATE_LIMIT_PER_ADDRESS", "100000000")
    import django

    django.setup()


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an existing store, changed")
    args = parser.parse_args()
    _setup_django(args.database_url)

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ordersight.accounts.services import create_api_key
    from ordersight.core.actors import Actor
    from ordersight.orders import attribution
    from ordersight.orders.models import Order

    system = Actor.system()
    token = create_api_key(name="check benchmark", scopes="read,write")[1]
    api = Client(headers={"Authorization": f"Bearer {token}"}, HTTP_HOST="127.0.0.1")
    unchecked = list(
        Order.objects.filter(status="completed", sales_confirmed_at__isnull=True)
        .order_by("-pk")
        .values_list("pk", "number")[: 3 * SINGLE + 2 * BULK + 20]
    )
    if len(unchecked) < 3 * SINGLE + 2 * BULK + 20:
        raise SystemExit("The store has too few unchecked sales left; generate a new one.")
    service_ids = [pk for pk, _ in unchecked[:SINGLE]]
    api_numbers = [number for _, number in unchecked[SINGLE : 2 * SINGLE]]
    raw_ids = [pk for pk, _ in unchecked[2 * SINGLE : 3 * SINGLE]]
    bulk_numbers = [number for _, number in unchecked[3 * SINGLE : 3 * SINGLE + BULK]]
    raw_bulk_ids = [pk for pk, _ in unchecked[3 * SINGLE + BULK : 3 * SINGLE + 2 * BULK]]
    warm = [pk for pk, _ in unchecked[-20:]]
    for order in Order.objects.filter(pk__in=warm):
        attribution.confirm_sales_attribution(order=order, manager_id=None, actor=system)

    def timed(call, items) -> list[float]:
        times = []
        for item in items:
            start = time.perf_counter()
            call(item)
            times.append(time.perf_counter() - start)
        return times

    def statements(call, items) -> float:
        # Counted apart from the timed runs: Django's query capture formats every
        # statement's SQL (about 1 ms a Check), which a production process never does.
        with CaptureQueriesContext(connection) as queries:
            for item in items:
                call(item)
        return len(queries) / len(items)

    def check_service(pk: int) -> None:
        order = Order.objects.get(pk=pk)
        attribution.confirm_sales_attribution(order=order, manager_id=None, actor=system)

    def check_api(number: int) -> None:
        answer = api.post(
            f"/api/v1/orders/{number}/sales-attribution/confirm",
            json.dumps({"manager_id": None}),
            content_type="application/json",
            secure=True,
        )
        assert answer.status_code == 200, answer.content[:300]

    def raw_update(pk: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE orders_order SET sales_manager_id = NULL, sales_confirmed_at = now(),"
                " updated_at = now() WHERE id = %s",
                [pk],
            )

    service = timed(check_service, service_ids[COUNTED:])
    through_api = timed(check_api, api_numbers[COUNTED:])
    raw = timed(raw_update, raw_ids)
    service_queries = statements(check_service, service_ids[:COUNTED])
    api_queries = statements(check_api, api_numbers[:COUNTED])

    start = time.perf_counter()
    answer = api.post(
        "/api/v1/orders/sales-attribution/confirm",
        json.dumps({"numbers": bulk_numbers}),
        content_type="application/json",
        secure=True,
    )
    bulk_seconds = time.perf_counter() - start
    body = answer.json()
    assert answer.status_code == 200 and body["updated"] == BULK, (answer.status_code, body)
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET sales_manager_id = NULL, sales_confirmed_at = now(),"
            " updated_at = now() WHERE id = ANY(%s)",
            [raw_bulk_ids],
        )
        transaction.set_rollback(True)
    raw_bulk_seconds = time.perf_counter() - start

    # One statement per Check is its own SELECT (the order, before the service locks it).
    rows = [
        (
            "One Check, service",
            f"{_median_ms(service):.2f} ms ({service_queries - 1:.0f} statements)",
            f"{_median_ms(raw):.2f} ms (raw UPDATE of one order)",
            _median_ms(service) / _median_ms(raw),
        ),
        (
            "One Check, API",
            f"{_median_ms(through_api):.2f} ms ({api_queries:.0f} statements)",
            f"{_median_ms(raw):.2f} ms (raw UPDATE of one order)",
            _median_ms(through_api) / _median_ms(raw),
        ),
        (
            f"Bulk Check of {BULK:,} sales, API",
            f"{bulk_seconds:.2f} s",
            f"{raw_bulk_seconds:.2f} s (raw UPDATE of {BULK:,} orders)",
            bulk_seconds / raw_bulk_seconds,
        ),
    ]
    print("| measurement | ordersight | baseline | ratio |")
    print("| --- | --- | --- | --- |")
    for name, ours, baseline, ratio in rows:
        print(f"| {name} | {ours} | {baseline} | {ratio:.1f} |")


if __name__ == "__main__":
    main()
