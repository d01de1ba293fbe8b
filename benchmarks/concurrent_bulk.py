"""Bulk ingest from several clients at once on PostgreSQL: orders/s and 5xx answers.

    python benchmarks/concurrent_bulk.py                  # 1 client, then 4, 8 batches each run
    python benchmarks/concurrent_bulk.py --clients 1,4,1,4 --batches 8

A throwaway database is created on the PostgreSQL server named by BENCH_PG (default
postgres://postgres@127.0.0.1:5432/postgres) with a store of 60,000 SKUs and 15,000
customers, and dropped afterwards. Each client is a process of its own posting batches of
1,000 completed orders (one in ten open, two or three lines each, customers drawn at random,
so batches share customers) to /api/v1/orders/bulk with an Idempotency-Key, through the
whole middleware stack (Django's test client; no HTTP server). A batch answered with a 5xx
is sent again with the same key, as a client would. A run's batches are shared out among
its clients; its rate is the orders stored over the time from the first request to the last
answer. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
BATCH = 1_000
OFFERS, VARIANTS_EACH, CUSTOMERS = 2_000, 30, 15_000


def _setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    import django

    django.setup()


def _store() -> str:
    """The catalog and customers; returns a write key's token."""
    from django.core.management import call_command

    from ordersight.accounts.services import create_api_key
    from ordersight.catalog.models import Category, Offer, Variant
    from ordersight.customers.models import Customer

    call_command("migrate", verbosity=0)
    category = Category.objects.create(number=10, name="Everything")
    offers = Offer.objects.bulk_create(
        Offer(
            number=1000 + n,
            name=f"Offer {n}",
            category=category,
            currency="EUR",
            unit_price=Decimal(f"{5 + n % 90}.90"),
            allow_quantity=True,
        )
        for n in range(OFFERS)
    )
    Variant.objects.bulk_create(
        (
            Variant(offer=offer, sku=f"SKU-{offer.number}-{v}", name=str(v))
            for offer in offers
            for v in range(VARIANTS_EACH)
        ),
        batch_size=5_000,
    )
    Customer.objects.bulk_create(
        (Customer(name=f"Customer {n}", email=f"c{n}@example.com") for n in range(CUSTOMERS)),
        batch_size=5_000,
    )
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE")
    return create_api_key(name="bench", scopes="read,write")[1]


def _batch(run: str, client: int, number: int, customer_ids: list[int]) -> list[dict]:
    rng = random.Random(f"{run}-{client}-{number}")
    return [
        {
            "source": "shopify",
            "external_id": f"{run}-{client}-{number}-{i}",
            "customer_id": rng.choice(customer_ids),
            "status": "open" if i % 10 == 0 else "completed",
            "lines": [
                {"sku": f"SKU-{1000 + rng.randrange(OFFERS)}-{rng.randrange(VARIANTS_EACH)}"}
                for _ in range(rng.choice((2, 3)))
            ],
        }
        for i in range(BATCH)
    ]


def client_main(args: argparse.Namespace) -> None:
    """One client: posts its batches once told to start; prints what it was answered."""
    _setup_django(args.database)
    from django.test import Client

    from ordersight.customers.models import Customer

    ids = list(Customer.objects.values_list("pk", flat=True))
    bodies = [json.dumps({"orders": _batch(args.run, args.client, n, ids)}) for n in args.numbers]
    # An error escaping the stack is a 500 to count, not an exception in this client.
    http = Client(
        headers={"Authorization": f"Bearer {args.token}"},
        HTTP_HOST="127.0.0.1",
        raise_request_exception=False,
    )
    print("ready", flush=True)
    sys.stdin.readline()
    answers: list[int] = []
    for n, body in zip(args.numbers, bodies, strict=True):
        for _ in range(20):
            r = http.post(
                "/api/v1/orders/bulk",
                data=body,
                content_type="application/json",
                secure=True,
                headers={"Idempotency-Key": f"{args.run}-{args.client}-{n}"},
            )
            answers.append(r.status_code)
            if r.status_code < 500:
                break
    print(json.dumps({"answers": answers}), flush=True)


def _run(database: str, token: str, run: str, clients: int, batches: int) -> dict:
    shares = [list(range(batches))[c::clients] for c in range(clients)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--client-of",
                database,
                "--token",
                token,
                "--run",
                run,
                "--client",
                str(c),
                "--numbers",
                ",".join(map(str, share)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for c, share in enumerate(shares)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate()[0] for p in procs]
    seconds = time.perf_counter() - start
    answers = [a for out in outputs for a in json.loads(out.strip().splitlines()[-1])["answers"]]
    from ordersight.orders.models import Order

    stored = Order.objects.filter(external_id__startswith=f"{run}-").count()
    return {
        "clients": clients,
        "orders": stored,
        "seconds": round(seconds, 1),
        "orders_per_s": round(stored / seconds),
        "requests": len(answers),
        "5xx": sum(1 for a in answers if a >= 500),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,4", help="clients of each run, in turn")
    parser.add_argument("--batches", type=int, default=8, help="1,000-order batches a run")
    parser.add_argument("--client-of", dest="database", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--numbers", type=lambda s: [int(n) for n in s.split(",") if n])
    args = parser.parse_args()
    if args.database:
        client_main(args)
        return
    database = f"ordersight_bulkrace_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    try:
        _setup_django(database)
        token = _store()
        for n, clients in enumerate(int(c) for c in args.clients.split(",")):
            print(json.dumps(_run(database, token, f"r{n}", clients, args.batches)), flush=True)
        from django.db import connections

        connections.close_all()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


if __name__ == "__main__":
    main()
