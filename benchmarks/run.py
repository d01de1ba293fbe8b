"""ordersight benchmarks on PostgreSQL: each measurement beside a raw baseline from the same run.

    make bench                      # 200,000 orders, results written to BENCHMARKS.md
    make bench BENCH_ARGS="--orders 1000000"

A throwaway database is created on the PostgreSQL server named by BENCH_PG (default
postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards. Nothing here asserts a
time; the numbers are for reading, and the ratio to the baseline is what to compare.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = f"ordersight_bench_{os.getpid()}"
CURRENCIES = ("EUR", "USD", "GBP")
STATUSES = ("open", "completed", "completed", "completed", "declined", "cancelled")
SOURCES = ("storefront", "api", "shopify", "feed")
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Result:
    name: str
    ours: str
    baseline: str
    ratio: float
    note: str


def _db_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _setup_django() -> None:
    os.environ["DATABASE_URL"] = _db_url(DB_NAME)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersight.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm caches and plans
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _throughput(
    name: str, work: tuple[int, str], ours_s: float, base: tuple[float, str], note: str
) -> Result:
    count, unit = work
    base_s, base_label = base
    return Result(
        name,
        f"{count / ours_s:,.0f} {unit}",
        f"{count / base_s:,.0f} {unit} ({base_label})",
        ours_s / base_s,
        note,
    )


# --- the dataset -------------------------------------------------------------------------


def _catalog() -> dict:
    from ordersight.catalog.models import Category, Offer, Variant
    from ordersight.customers.models import Customer

    variants = []
    for c in range(5):
        category = Category.objects.create(number=10 + c, name=f"Category {c}")
        for o in range(4):
            offer = Offer.objects.create(
                number=100 + c * 10 + o,
                name=f"Offer {c}-{o}",
                category=category,
                currency=CURRENCIES[(c + o) % 3],
                unit_price=Decimal(f"{9 + c * 5 + o}.90"),
                allow_quantity=True,
            )
            variants.append(Variant.objects.create(offer=offer, sku=f"SKU-{c}-{o}"))
    customers = list(
        Customer.objects.bulk_create(
            Customer(name=f"Customer {i}", email=f"c{i}@example.com") for i in range(500)
        )
    )
    return {"variants": variants, "customers": customers}


def _raw_rows(count: int, first_number: int, catalog: dict, rng: random.Random) -> Iterator:
    """Order rows and their two lines each, as the columns the COPY baseline writes."""
    variants, customers = catalog["variants"], catalog["customers"]
    for i in range(count):
        picks = rng.sample(variants, 2)
        currency = picks[0].offer.currency
        lines = []
        subtotal = Decimal(0)
        for position, variant in enumerate(picks, start=1):
            qty = rng.randint(1, 3)
            total = variant.offer.unit_price * qty
            subtotal += total
            lines.append((position, variant, qty, total))
        created = NOW - timedelta(seconds=rng.randint(0, 120 * 86400))
        yield (
            first_number + i,
            f"bench-{first_number + i}",
            rng.choice(SOURCES),
            rng.choice(customers).pk,
            currency,
            subtotal,
            rng.choice(STATUSES),
            created,
            lines,
        )


ORDER_COLUMNS = (
    "id, number, external_id, source, order_type, customer_id, currency, subtotal, "
    "discount_total, total, status, payment_status, refund_status, fulfillment_status, "
    "metadata, notes, created_at, updated_at, line_count, lead_item, lead_sku, "
    "lead_offer_number, lead_category_number, lead_unit_price, lead_quantity"
)
LINE_COLUMNS = (
    "order_id, position, offer_id, variant_id, sku, name, offer_number, category_number, "
    "unit_price, quantity, discount, total"
)


def copy_orders(conn: psycopg.Connection, rows: list) -> None:
    """The baseline: the same orders and lines written by plain COPY, ids drawn up front."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('orders_order', 'id')) "
            "FROM generate_series(1, %s)",
            [len(rows)],
        )
        ids = [r[0] for r in cur.fetchall()]
        with cur.copy(f"COPY orders_order ({ORDER_COLUMNS}) FROM STDIN") as copy:
            for oid, (number, ext, source, cust, cur_, sub, status, created, lines) in zip(
                ids, rows, strict=True
            ):
                fixed = ("unpaid", "none", "unfulfilled", "{}", "", created, created)
                _, v, qty, _ = lines[0]
                o = v.offer
                lead = (o.name, v.sku, o.number, o.category.number, o.unit_price, qty)
                head = (oid, number, ext, source, "standard", cust, cur_, sub, 0, sub, status)
                copy.write_row((*head, *fixed, len(lines), *lead))
        with cur.copy(f"COPY orders_orderline ({LINE_COLUMNS}) FROM STDIN") as copy:
            for oid, row in zip(ids, rows, strict=True):
                for position, v, qty, total in row[8]:
                    offer = v.offer
                    what = (offer.pk, v.pk, v.sku, offer.name, offer.number, offer.category.number)
                    copy.write_row((oid, position, *what, offer.unit_price, qty, 0, total))


def _fill(total: int, catalog: dict) -> None:
    from ordersight.core.models import Sequence

    rng = random.Random(7)
    conn = psycopg.connect(_db_url(DB_NAME), autocommit=False)
    start = 10_000_000
    chunk = 50_000
    for first in range(start, start + total, chunk):
        count = min(chunk, start + total - first)
        copy_orders(conn, list(_raw_rows(count, first, catalog, rng)))
        conn.commit()
    with conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.commit()
    conn.close()
    Sequence.objects.update_or_create(name="order", defaults={"last_value": start + total})


# --- the measurements --------------------------------------------------------------------


def bench_ingest(catalog: dict, batches: int) -> list[Result]:
    """Bulk ingest through the service (validation, pricing, events) against raw COPY."""
    from django.db import connection, transaction

    from ordersight.core import bulk
    from ordersight.core.actors import Actor
    from ordersight.orders.ingest import upsert_orders
    from ordersight.orders.models import Order
    from ordersight.orders.pricing import LineInput, OrderInput

    actor = Actor.system()
    rng = random.Random(11)

    def inputs(tag: str) -> list[list[OrderInput]]:
        out = []
        for b in range(batches):
            batch = []
            for i in range(1000):
                picks = [v for v in rng.sample(catalog["variants"], 6)]
                currency = picks[0].offer.currency
                same = [v for v in picks if v.offer.currency == currency][:2]
                batch.append(
                    OrderInput(
                        external_id=f"{tag}-{b}-{i}",
                        source="feed",
                        customer_id=rng.choice(catalog["customers"]).pk,
                        lines=[LineInput(sku=v.sku, quantity=rng.randint(1, 3)) for v in same],
                    )
                )
            out.append(batch)
        return out

    def run(tag: str) -> float:
        data = inputs(tag)
        elapsed = 0.0
        for batch in data:
            start = time.perf_counter()
            results = upsert_orders(items=batch, actor=actor)
            elapsed += time.perf_counter() - start
            assert all(r.result == "created" for r in results), results[0]
        return elapsed

    n = batches * 1000
    copy_time = run("copy")
    saved = bulk.COPY_THRESHOLD
    bulk.COPY_THRESHOLD = 10**9  # the same service, forced onto bulk_create
    try:
        insert_time = run("insert")
    finally:
        bulk.COPY_THRESHOLD = saved

    rows = list(_raw_rows(n, 90_000_000, catalog, random.Random(3)))
    conn = connection.connection

    def baseline() -> None:
        with transaction.atomic():
            copy_orders(conn, rows)

    base_time = _seconds(baseline)
    Order.objects.filter(number__gte=90_000_000).delete()
    return [
        _throughput(
            f"Bulk ingest, {n:,} orders in batches of 1,000 (2 lines each)",
            (n, "orders/s"),
            copy_time,
            (base_time, "raw COPY"),
            f"validation, pricing, events; on bulk_create: {n / insert_time:,.0f} orders/s",
        )
    ]


def bench_lists(total: int) -> list[Result]:
    """The order list's first and deep pages, and a filtered page, against raw SQL."""
    from django.db import connection

    from ordersight.core.keyset import encode_cursor, paginate
    from ordersight.orders import selectors
    from ordersight.orders.models import Order

    def page(filters: dict, cursor: str | None = None) -> Callable[[], object]:
        def go() -> object:
            qs, ordering = selectors.ORDER_LIST.sort(selectors.list_orders(filters=filters), None)
            p = paginate(qs, ordering=ordering, cursor=cursor, limit=50)
            return [(o.number, len(o.lines.all()), o.customer) for o in p.items]

        return go

    def raw(sql: str, params: list) -> Callable[[], object]:
        def go() -> object:
            with connection.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()

        return go

    first_raw = raw(
        "SELECT o.*, c.name FROM orders_order o LEFT JOIN customers_customer c "
        "ON c.id = o.customer_id ORDER BY o.created_at DESC, o.id DESC LIMIT 50",
        [],
    )
    depth = total // 2
    deep = Order.objects.order_by("-created_at", "-id").values_list("created_at", "id")[depth]
    cursor = encode_cursor(("-created_at", "-id"), list(deep))
    offset_raw = raw(
        "SELECT o.* FROM orders_order o ORDER BY o.created_at DESC, o.id DESC LIMIT 50 OFFSET %s",
        [depth],
    )
    filtered = {"status": "completed", "currency": "EUR"}
    filtered_raw = raw(
        "SELECT o.* FROM orders_order o WHERE o.status = 'completed' AND o.currency = 'EUR' "
        "ORDER BY o.created_at DESC, o.id DESC LIMIT 50",
        [],
    )
    results = []
    for name, ours, base, base_label in (
        ("Order list, first page of 50", page({}), first_raw, "raw SELECT … LIMIT 50"),
        (
            f"Order list, page of 50 at depth {depth:,}",
            page({}, cursor),
            offset_raw,
            "raw OFFSET",
        ),
        (
            "Order list filtered by status and currency, first page",
            page(filtered),
            filtered_raw,
            "raw SELECT … LIMIT 50",
        ),
    ):
        ours_ms = _median_ms(ours, 15)
        base_ms = _median_ms(base, 15)
        results.append(
            Result(
                name,
                f"{ours_ms:.1f} ms",
                f"{base_ms:.1f} ms ({base_label})",
                ours_ms / base_ms,
                "selector + keyset page + lines prefetch, median of 15",
            )
        )
    return results


def bench_export(total: int) -> list[Result]:
    """The full orders CSV export against COPY of the bare table."""
    from django.db import connection

    from ordersight.core.csv_stream import csv_chunks
    from ordersight.orders import selectors

    def ours() -> int:
        rows = selectors.ORDER_LIST.export({}, None)
        return sum(len(c) for c in csv_chunks(rows, selectors.ORDER_EXPORT_COLUMNS))

    def baseline() -> int:
        size = 0
        sql = "COPY orders_order TO STDOUT WITH (FORMAT csv)"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for data in copy:
                size += len(data)
        return size

    ours_s = _seconds(ours)
    base_s = _seconds(baseline)
    return [
        _throughput(
            f"CSV export of all {total:,} orders",
            (total, "rows/s"),
            ours_s,
            (base_s, "COPY of the bare table"),
            f"{len(selectors.ORDER_EXPORT_COLUMNS)} columns: customer, lead line, money text, "
            "formula neutralisation",
        )
    ]


# --- the report --------------------------------------------------------------------------


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(ADMIN_URL) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; PostgreSQL {pg}"
    )


def _report(results: list[Result], args: argparse.Namespace, machine: str) -> str:
    command = "make bench" + (f' BENCH_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else "")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (benchmarks/run.py); each number sits beside a baseline",
        "measured in the same run on the same database. Ratio = our time ÷ baseline time",
        "(lower is better; 1.0 would be as fast as the raw SQL).",
        "",
        f"- Machine: {machine}",
        f"- Command: `{command}` at commit {commit or 'unknown'}",
        f"- Dataset: {args.orders:,} orders with 2 lines each over 120 days, 500 customers,",
        "  20 offers in 5 categories, 3 currencies; PostgreSQL with default settings.",
        "",
        "| measurement | ordersight | baseline | ratio | what it covers |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.ours} | {r.baseline} | {r.ratio:.2f} | {r.note} |")
    lines += [
        "",
        "Reading the numbers:",
        "",
        "- A list page is one keyset query plus the prefetches a page shows (lines, invoices,",
        "  their payment systems and refunds) and the Python objects for 50 orders; the raw",
        "  baseline reads the order rows alone, so its ratio is mostly that extra work. Its time",
        "  stays flat with depth, where OFFSET grows with it.",
        "- Bulk ingest validates and prices every line against the catalog and records an",
        "  event per order in the same transaction; the rows themselves go by COPY. Each",
        "  event also asks the order lifecycle for handlers (none react to imports yet).",
        "- The export writes every column the All Orders list shows (the lead line's unit",
        "  price and quantity included), each turned into text by SQL; the baseline copies",
        "  the bare table, so the ratio is the cost of those expressions.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000, help="orders in the dataset")
    parser.add_argument("--ingest-batches", type=int, default=10, help="1,000-order batches")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--keep", action="store_true", help="keep the database to explore")
    args = parser.parse_args()

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    try:
        _setup_django()
        machine = _machine()
        catalog = _catalog()
        results = bench_ingest(catalog, args.ingest_batches)
        print(f"filling {args.orders:,} orders …", flush=True)
        _fill(args.orders, catalog)
        results += bench_lists(args.orders)
        results += bench_export(args.orders)
        from django.db import connections

        connections.close_all()
    finally:
        if args.keep:
            print(f"kept database {DB_NAME}")
        else:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    report = _report(results, args, machine)
    Path(args.output).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
