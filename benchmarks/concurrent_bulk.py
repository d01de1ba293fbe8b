"""Bulk ingest from several clients at once on PostgreSQL: orders/s and 5xx answers.

    python benchmarks/concurrent_bulk.py                  # 1 client, then 4, 8 batches each run
    python benchmarks/concurrent_bulk.py --clients 1,4,1,4 --batches 8
    python benchmarks/concurrent_bulk.py --database-url postgres://…/os_load --http

By default a throwaway database is created on the PostgreSQL server named by BENCH_PG
(default postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards; with
`--database-url` the orders go into that database (one `ordersight gendata` filled, say, so
the store already holds a million orders and their kept figures) and stay there. Either way
the store is given a catalog of 60,000 SKUs and 15,000 customers of the benchmark's own.

Each client is a process of its own posting batches of 1,000 orders shaped as a store's
history arrives (nine in ten completed, three to five lines, placed over seven years,
customers drawn at random, so batches share customers) to /api/v1/orders/bulk with an
Idempotency-Key: through the whole middleware stack in-process (Django's test client), or
with `--http` over HTTP to `ordersight serve` as the load benchmark starts it (two web
workers). A batch answered with a 5xx is sent again with the same key, as a client would.
A run's batches are shared out among its clients; its rate is the orders stored over the
time from the first request to the last answer. Nothing here asserts a time.

With `--figures after-commit` the server runs with SALES_FIGURES=after-commit and a
`keep_figures` process beside it (as `serve` starts it); each run then also reports how far
the figures trailed the orders at worst while it ran (sampled every 0.2 s) and how long after
the last answer they were caught up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
BATCH = 1_000
OFFERS, VARIANTS_EACH, CUSTOMERS = 2_000, 30, 15_000
# The benchmark's catalog: offer numbers from here, SKUs named after them.
FIRST_OFFER = 900_000
HISTORY_DAYS = 7 * 365


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
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
    token = create_api_key(name="bench", scopes="read,write")[1]
    if Offer.objects.filter(number=FIRST_OFFER).exists():
        return token  # a database this benchmark has stocked before
    category = Category.objects.create(number=FIRST_OFFER, name="Bulk benchmark")
    offers = Offer.objects.bulk_create(
        Offer(
            number=FIRST_OFFER + n,
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
        (
            Customer(name=f"Bulk customer {n}", email=f"bulk{n}@example.com")
            for n in range(CUSTOMERS)
        ),
        batch_size=5_000,
    )
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE")
    return token


def _batch(run: str, client: int, number: int, customer_ids: list[int]) -> list[dict]:
    rng = random.Random(f"{run}-{client}-{number}")
    start = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(days=HISTORY_DAYS)
    return [
        {
            "source": "shopify",
            "external_id": f"{run}-{client}-{number}-{i}",
            "customer_id": rng.choice(customer_ids),
            "status": "open" if i % 10 == 0 else "completed",
            "created_at": (start + timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400)))
            .isoformat()
            .replace("+00:00", "Z"),
            "lines": [
                {
                    "sku": f"SKU-{FIRST_OFFER + rng.randrange(OFFERS)}-"
                    f"{rng.randrange(VARIANTS_EACH)}",
                    "quantity": rng.choice((1, 1, 1, 2, 3)),
                }
                for _ in range(rng.choice((3, 4, 5)))
            ],
        }
        for i in range(BATCH)
    ]


class _OverHttp:
    """Posts as Django's test client does, to a server at `base`."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def post(self, path: str, body: str, key: str) -> int:
        request = urllib.request.Request(
            self.base + path,
            data=body.encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as answer:
                answer.read()
                return answer.status
        except urllib.error.HTTPError as refused:
            return refused.code
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 599  # no answer at all: counted, and sent again, as a 5xx


class _InProcess:
    def __init__(self, token: str) -> None:
        from django.test import Client

        # An error escaping the stack is a 500 to count, not an exception in this client.
        self.http = Client(
            headers={"Authorization": f"Bearer {token}"},
            HTTP_HOST="127.0.0.1",
            raise_request_exception=False,
        )

    def post(self, path: str, body: str, key: str) -> int:
        answer = self.http.post(
            path,
            data=body,
            content_type="application/json",
            secure=True,
            headers={"Idempotency-Key": key},
        )
        return answer.status_code


def client_main(args: argparse.Namespace) -> None:
    """One client: posts its batches once told to start; prints what it was answered."""
    _setup_django(args.database)
    from ordersight.customers.models import Customer

    ids = list(Customer.objects.filter(email__startswith="bulk").values_list("pk", flat=True))
    bodies = [json.dumps({"orders": _batch(args.run, args.client, n, ids)}) for n in args.numbers]
    sender = _OverHttp(args.base, args.token) if args.base else _InProcess(args.token)
    print("ready", flush=True)
    sys.stdin.readline()
    answers: list[int] = []
    for n, body in zip(args.numbers, bodies, strict=True):
        for _ in range(20):
            status = sender.post("/api/v1/orders/bulk", body, f"{args.run}-{args.client}-{n}")
            answers.append(status)
            if status < 500:
                break
    print(json.dumps({"answers": answers}), flush=True)


def _queue_behind() -> tuple[float, int]:
    """How far the figures trail (seconds since the oldest queued change) and how many
    changes wait (SALES_FIGURES=after-commit)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(extract(epoch FROM now() - min(queued_at)), 0), count(*)"
            " FROM reports_queuedrecount"
        )
        behind, waiting = cursor.fetchone()
    return float(behind), waiting


class _LagSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.worst = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection

        while not self.stop.wait(0.2):
            self.worst = max(self.worst, _queue_behind()[0])
        connection.close()


def _run(database: str, token: str, run: str, clients: int, batches: int, base: str = "") -> dict:
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
                "--base",
                base,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for c, share in enumerate(shares)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    after_commit = os.environ.get("SALES_FIGURES") == "after-commit"
    sampler = _LagSampler()
    if after_commit:
        sampler.start()
    start = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate()[0] for p in procs]
    seconds = time.perf_counter() - start
    figures: dict = {}
    if after_commit:
        answered = time.perf_counter()
        while _queue_behind()[1]:
            time.sleep(0.05)
        sampler.stop.set()
        sampler.join()
        figures = {
            "worst_lag_s": round(sampler.worst, 1),
            "caught_up_s": round(time.perf_counter() - answered, 1),
        }
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
        **figures,
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
    parser.add_argument("--base", default="", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help="an existing database, kept")
    parser.add_argument("--http", action="store_true", help="through `ordersight serve`")
    parser.add_argument(
        "--figures",
        choices=["in-transaction", "after-commit"],
        default="in-transaction",
        help="SALES_FIGURES for the server (after-commit: with a keep_figures process)",
    )
    args = parser.parse_args()
    if args.database:
        client_main(args)
        return
    throwaway = "" if args.database_url else f"ordersight_bulkrace_{os.getpid()}"
    database_url = args.database_url or ADMIN_URL.rsplit("/", 1)[0] + "/" + throwaway
    if throwaway:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {throwaway}")
    server = keeper = None
    os.environ["SALES_FIGURES"] = args.figures
    try:
        _setup_django(database_url)
        token = _store()
        base = ""
        if args.http:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from load import start_server

            server, base, _log = start_server(database_url)
        if args.figures == "after-commit":
            keeper = subprocess.Popen(
                [sys.executable, "-m", "ordersight", "keep_figures"],
                env=dict(os.environ, DATABASE_URL=database_url),
            )
        tag = f"{int(time.time()):x}"
        for n, clients in enumerate(int(c) for c in args.clients.split(",")):
            result = _run(database_url, token, f"{tag}r{n}", clients, args.batches, base)
            print(json.dumps(result), flush=True)
        from django.db import connections

        connections.close_all()
    finally:
        if keeper is not None:
            keeper.terminate()
            keeper.wait(timeout=60)
        if server is not None:
            from load import stop_server

            stop_server(server)
        if throwaway:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {throwaway} WITH (FORCE)")


if __name__ == "__main__":
    main()
