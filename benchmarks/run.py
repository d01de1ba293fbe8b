"""ordersight benchmarks on PostgreSQL: each measurement beside a raw baseline from the same run.

    make bench                      # 200,000 orders, results written to BENCHMARKS.md
    make bench BENCH_ARGS="--orders 1000000"

A throwaway database is created on the PostgreSQL server named by BENCH_PG (default
postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards. Nothing here asserts a
time; the numbers are for reading, and the ratio to the baseline is what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
# BENCH_DB names the throwaway database where several people share one server.
DB_NAME = os.environ.get("BENCH_DB") or f"ordersight_bench_{os.getpid()}"
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
    # Loading a million orders takes single statements past a web request's bound.
    os.environ.setdefault("DB_STATEMENT_TIMEOUT", "0")
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
    from ordersight.core.sequences import move_numbers_past

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
    move_numbers_past("order", start + total)


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


def raw(sql: str, params: list) -> Callable[[], object]:
    """A raw query to time as the baseline: executed and fetched, nothing more."""

    def go() -> object:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    return go


def bench_lists(total: int) -> list[Result]:
    """The order list's first and deep pages, and a filtered page, against raw SQL."""

    from ordersight.core.keyset import encode_cursor, paginate
    from ordersight.orders import selectors
    from ordersight.orders.models import Order

    def page(filters: dict, cursor: str | None = None) -> Callable[[], object]:
        def go() -> object:
            qs, ordering = selectors.ORDER_LIST.sort(selectors.list_orders(filters=filters), None)
            p = paginate(qs, ordering=ordering, cursor=cursor, limit=50)
            return [(o.number, len(o.lines.all()), o.customer) for o in p.items]

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


def bench_counts() -> list[Result]:
    """All Orders' "1–50 of N": the bounded count from the list's own selector, unfiltered
    and filtered, beside the same bounded count in raw SQL; the note gives what counting
    every row would cost instead."""

    from ordersight.core.lists import COUNT_BOUND
    from ordersight.orders import selectors

    def ours(filters: dict) -> Callable[[], object]:
        return lambda: selectors.ORDER_LIST.count(filters)

    limit = COUNT_BOUND + 1
    cases = (
        ("All Orders count, unfiltered", {}, ""),
        (
            "All Orders count, filtered by status and currency",
            {"status": "completed", "currency": "EUR"},
            "WHERE o.status = 'completed' AND o.currency = 'EUR'",
        ),
        (
            "All Orders count, filtered by declined and GBP",
            {"status": "declined", "currency": "GBP"},
            "WHERE o.status = 'declined' AND o.currency = 'GBP'",
        ),
    )
    results = []
    for name, filters, where in cases:
        count = selectors.ORDER_LIST.count(filters)
        bounded = raw(
            f"SELECT count(*) FROM (SELECT o.id FROM orders_order o {where} LIMIT %s) t", [limit]
        )
        whole = raw(f"SELECT count(*) FROM orders_order o {where}", [])
        ours_ms = _median_ms(ours(filters), 15)
        base_ms = _median_ms(bounded, 15)
        whole_ms = _median_ms(whole, 5)
        shown = f"more than {COUNT_BOUND:,}" if count.more else f"{count.value:,}"
        results.append(
            Result(
                f"{name} ({shown})",
                f"{ours_ms:.1f} ms",
                f"{base_ms:.1f} ms (raw bounded count(*))",
                ours_ms / base_ms,
                f"one query, LIMIT {limit:,}, median of 15; counting every matching row "
                f"instead: {whole_ms:.0f} ms",
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


def _api_client():
    from django.test import Client

    from ordersight.accounts.services import create_api_key

    token = create_api_key(name="bench", scopes="read,write")[1]
    # As a client behind the production settings would call: an allowed host, over HTTPS.
    return Client(headers={"Authorization": f"Bearer {token}"}, HTTP_HOST="127.0.0.1")


def bench_catalog_and_customers(count: int) -> list[Result]:
    """A store's offers and customers loaded through the bulk API, against raw COPY."""
    from django.db import connection, transaction

    client = _api_client()
    offers = [
        {
            "number": 500_000 + i,
            "name": f"Bulk offer {i}",
            "category_number": 10 + i % 5,
            "currency": CURRENCIES[i % 3],
            "unit_price": f"{9 + i % 90}.90",
            "allow_quantity": True,
            "variants": [{"sku": f"BULK-{i}", "name": "Default"}],
        }
        for i in range(count)
    ]
    customers = [
        {
            "source": "bench",
            "external_id": f"BC-{i}",
            "name": f"Bulk customer {i}",
            "email": f"bc{i}@example.com",
            "tags": ["b2b"] if i % 3 == 0 else [],
        }
        for i in range(count)
    ]

    def load(path: str, key: str, items: list[dict]) -> float:
        start = time.perf_counter()
        for first in range(0, len(items), 1000):
            response = client.post(
                path,
                {key: items[first : first + 1000]},
                content_type="application/json",
                secure=True,
            )
            body = response.json()
            assert response.status_code == 200 and body["errors"] == 0, body
        return time.perf_counter() - start

    offers_s = load("/api/v1/offers/bulk", "offers", offers)
    customers_s = load("/api/v1/customers/bulk", "customers", customers)

    conn = connection.connection

    def copy_offers() -> None:
        with transaction.atomic(), conn.cursor() as cur:
            cur.execute("SELECT id, number FROM catalog_category")
            categories = dict((n, i) for i, n in cur.fetchall())
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence('catalog_offer', 'id')) "
                "FROM generate_series(1, %s)",
                [count],
            )
            ids = [r[0] for r in cur.fetchall()]
            cols = (
                "id, number, name, category_id, currency, unit_price, allow_quantity, "
                "allow_partial_payments, is_active, created_at, updated_at"
            )
            now = NOW
            with cur.copy(f"COPY catalog_offer ({cols}) FROM STDIN") as copy:
                for oid, o in zip(ids, offers, strict=True):
                    copy.write_row(
                        (
                            oid,
                            o["number"] + 1_000_000,
                            o["name"],
                            categories[o["category_number"]],
                            o["currency"],
                            o["unit_price"],
                            True,
                            False,
                            True,
                            now,
                            now,
                        )
                    )
            with cur.copy(
                "COPY catalog_variant (offer_id, sku, name, is_active) FROM STDIN"
            ) as copy:
                for oid, o in zip(ids, offers, strict=True):
                    copy.write_row((oid, "RAW-" + o["variants"][0]["sku"], "Default", True))

    def copy_customers() -> None:
        with transaction.atomic(), conn.cursor() as cur:
            cols = "name, email, phone, metadata, created_at, updated_at"
            with cur.copy(f"COPY customers_customer ({cols}) FROM STDIN") as copy:
                for c in customers:
                    copy.write_row((c["name"], c["email"], "", "{}", NOW, NOW))

    base_offers = _seconds(copy_offers)
    base_customers = _seconds(copy_customers)
    return [
        _throughput(
            f"Offer bulk upsert, {count:,} offers with a variant, 1,000 a request",
            (count, "offers/s"),
            offers_s,
            (base_offers, "raw COPY of offers and variants"),
            "through the API: JSON, validation, lookups by number and SKU",
        ),
        _throughput(
            f"Customer bulk upsert, {count:,} customers, 1,000 a request",
            (count, "customers/s"),
            customers_s,
            (base_customers, "raw COPY of the customer rows"),
            "through the API, with external ids and tags (the baseline writes neither)",
        ),
    ]


def bench_gendata(orders: int, catalog: dict) -> list[Result]:
    """`ordersight gendata` against raw COPY of orders and lines (100,000, then removed)."""
    from django.db import transaction

    from ordersight.gendata import generate
    from ordersight.orders.models import Order

    sample = min(100_000, orders)
    rows = list(_raw_rows(sample, 80_000_000, catalog, random.Random(5)))
    from django.db import connection

    conn = connection.connection

    def baseline() -> None:
        with transaction.atomic():
            copy_orders(conn, rows)

    base_s = _seconds(baseline)
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM orders_orderline WHERE order_id IN "
            "(SELECT id FROM orders_order WHERE number >= 80000000)"
        )
        cur.execute("DELETE FROM orders_order WHERE number >= 80000000")
    assert not Order.objects.filter(number__gte=80_000_000).exists()
    print(f"gendata --orders {orders:,} …", flush=True)
    summary = generate(orders=orders)
    # What autovacuum does on a live database soon after a load: statistics, and the
    # visibility map that lets PostgreSQL answer from an index alone.
    connection.ensure_connection()
    autocommit = connection.get_autocommit()
    connection.set_autocommit(True)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    connection.set_autocommit(autocommit)
    return [
        Result(
            f"gendata, {orders:,} orders over two years",
            f"{summary.seconds / 60:.1f} min ({orders / summary.seconds:,.0f} orders/s)",
            f"{sample / base_s:,.0f} orders/s (raw COPY of orders and lines)",
            (summary.seconds / orders) / (base_s / sample),
            f"also invoices, refunds, events, customers; rollup rebuild "
            f"{summary.rebuild_seconds:.0f} s of it",
        )
    ]


RAW_SALES = """
SELECT {group}, o.currency, count(*), sum(o.total), sum(coalesce(l.units, 0)),
       sum(coalesce(i.refunds, 0)), sum(coalesce(i.fees, 0)), sum(coalesce(i.funds, 0))
FROM orders_order o
LEFT JOIN LATERAL (SELECT sum(quantity) AS units FROM orders_orderline
                   WHERE order_id = o.id) l ON true
LEFT JOIN LATERAL (SELECT sum(refunded_amount) AS refunds, sum(fee) AS fees,
                          sum(funds_credited) AS funds
                   FROM payments_invoice
                   WHERE order_id = o.id AND status IN ('succeeded', 'refunded')) i ON true
WHERE o.status = 'completed' AND o.created_at >= %s AND o.created_at < %s {where}
GROUP BY 1, 2{more}
"""
RAW_LINES = """
SELECT l.{column}, o.currency, count(DISTINCT o.id), sum(l.quantity), sum(l.total)
FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id
WHERE o.status = 'completed' AND o.created_at >= %s AND o.created_at < %s
GROUP BY 1, 2
"""


def bench_reports() -> list[Result]:
    """The dashboard and the detailed report (rollups) against one raw SQL query each."""
    from datetime import date
    from datetime import time as day_time

    from django.utils import timezone as tz

    from ordersight.reports import selectors
    from ordersight.reports.definitions import GroupBy
    from ordersight.reports.params import preset_range

    def bounds(start: date, end: date) -> tuple:
        return (
            tz.make_aware(datetime.combine(start, day_time.min)),
            tz.make_aware(datetime.combine(end + timedelta(days=1), day_time.min)),
        )

    start, end = preset_range("30d")
    query = selectors.SalesQuery(start, end)
    previous = query.previous()

    def dashboard() -> object:
        return selectors.sales_performance(query=query)

    lo, _ = bounds(previous.start, previous.end)
    cur_lo, hi = bounds(start, end)
    dashboard_raw = raw(
        RAW_SALES.format(
            group="o.created_at >= %s", where="", more=", (o.created_at AT TIME ZONE 'UTC')::date"
        ),
        [cur_lo, lo, hi],
    )
    # The two must agree before their speeds mean anything.
    ours_now = {c.currency: c.current for c in selectors.sales_performance(query=query).by_currency}
    raw_now: dict = {}
    for current, currency, orders, gross, *_ in dashboard_raw():
        if current:
            o, g = raw_now.get(currency, (0, 0))
            raw_now[currency] = (o + orders, g + gross)
    assert {c: (f.orders, f.gross) for c, f in ours_now.items() if f.orders} == raw_now, (
        ours_now,
        raw_now,
    )

    year = selectors.SalesQuery(end - timedelta(days=364), end)
    y_lo, y_hi = bounds(year.start, year.end)
    cases = [
        (
            "Sales dashboard, 30 days with the previous period",
            dashboard,
            dashboard_raw,
            "figures, new/returning customers, daily series x2; raw: per-day sums, no customers",
        ),
    ]
    for group_by, raw_sql in (
        (GroupBy.OFFER, RAW_LINES.format(column="offer_number")),
        (GroupBy.CATEGORY, RAW_LINES.format(column="category_number")),
        (
            GroupBy.SALES_MANAGER,
            RAW_SALES.format(
                group="o.sales_manager_id", where="AND o.sales_confirmed_at IS NOT NULL", more=""
            ),
        ),
    ):
        ours = (lambda g: lambda: selectors.sales_breakdown(group_by=g, query=year))(group_by)
        base = raw(raw_sql, [y_lo, y_hi])
        mine = {(r.ref, r.currency): r.figures.orders for r in ours().rows}
        theirs = {
            (
                str(k)
                if k is not None
                else ("none" if group_by != GroupBy.SALES_MANAGER else "system"),
                c,
            ): n
            for k, c, n, *_ in base()
        }
        assert mine == theirs, (group_by, len(mine), len(theirs))
        cases.append(
            (
                f"Detailed report by {group_by.value.replace('_', ' ')}, 12 months",
                ours,
                base,
                "rows with labels, sorted, per-currency totals",
            )
        )
    results = []
    for name, ours, base, note in cases:
        ours_ms = _median_ms(ours, 21)
        base_ms = _median_ms(base, 5)
        results.append(
            Result(
                name,
                f"{ours_ms:.1f} ms",
                f"{base_ms:.0f} ms (one raw SQL query)",
                ours_ms / base_ms,
                f"{note}; median",
            )
        )
    return results


# --- the report --------------------------------------------------------------------------


def _due_recurring_orders(count: int, catalog: dict, code: str, provider: str, token: str):
    from ordersight.customers.models import Customer
    from ordersight.payments.models import PaymentSystem
    from ordersight.subscriptions.models import RecurringOrder

    system = PaymentSystem.objects.create(code=code, name=code, provider=provider)
    offer = catalog["variants"][0].offer
    # Two recurring orders per customer, as subscribers have (not hundreds each).
    made = Customer.objects.bulk_create(
        (
            Customer(name=f"Subscriber {i}", email=f"s{i}-{code}@example.com")
            for i in range(count // 2)
        ),
        batch_size=5000,
    )
    customers = [c.pk for c in made]
    started = NOW - timedelta(days=30)
    first = (
        RecurringOrder.objects.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    RecurringOrder.objects.bulk_create(
        [
            RecurringOrder(
                number=first + i,
                customer_id=customers[i % len(customers)],
                offer_id=offer.pk,
                amount=Decimal("9.90"),
                currency=offer.currency,
                interval_count=1,
                interval_unit="month",
                payments_made=1,
                status="active",
                next_payment_at=NOW,
                payment_system=system,
                payment_token=token,
                started_at=started,
                created_at=started,
            )
            for i in range(count)
        ],
        batch_size=5000,
    )
    return system


@contextmanager
def _analysing() -> Iterator[None]:
    """The tables analysed every 10 s meanwhile, as autovacuum does on a default PostgreSQL.

    The tables grow by 100,000 orders in a billing or sync run. Where autovacuum is off (as
    on the machine in BENCHMARKS.md) nothing would refresh the planner's statistics, and
    plans made for empty tables get slower with every batch.
    """
    import threading

    stop = threading.Event()

    def analyse() -> None:
        with psycopg.connect(_db_url(DB_NAME), autocommit=True) as conn:
            conn.execute("ANALYZE")
            while not stop.wait(10):
                conn.execute("ANALYZE")

    analyser = threading.Thread(target=analyse, daemon=True)
    analyser.start()
    try:
        yield
    finally:
        stop.set()
        analyser.join()


@contextmanager
def _as_in_the_worker() -> Iterator[None]:
    """What the Huey worker does before it runs a sync (`core.heap`), undone afterwards."""
    import gc

    from ordersight.core.heap import settle_for_batches

    threshold = gc.get_threshold()
    settle_for_batches()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def _billing_workers(env: dict[str, str], at: str) -> tuple[float, str]:
    """Two `ordersight billing run` processes at once; seconds until both finished. With
    SALES_FIGURES=after-commit a `keep_figures` process runs beside them (as `serve` runs
    it), and the note says how long after the last charge the figures were caught up."""
    from django.db import connection

    command = [sys.executable, "-m", "ordersight", "billing", "run", "--at", at]
    keeper = None
    if env.get("SALES_FIGURES") == "after-commit":
        keeper = subprocess.Popen(
            [sys.executable, "-m", "ordersight", "keep_figures"], env=env, stdout=subprocess.DEVNULL
        )
    with _analysing():
        start = time.perf_counter()
        running = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(2)]
        codes = [p.wait() for p in running]
        elapsed = time.perf_counter() - start
        note = ""
        if keeper is not None:
            while True:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT EXISTS (SELECT 1 FROM reports_queuedrecount)")
                    if not cursor.fetchone()[0]:
                        break
                time.sleep(0.05)
            note = (
                f"; sales figures after commit, caught up "
                f"{time.perf_counter() - start - elapsed:.1f} s after the last charge"
            )
            keeper.terminate()
            keeper.wait(timeout=60)
    assert codes == [0, 0], codes
    return elapsed, note


def _doubles_in_rows(system) -> tuple[int, int]:
    """(payments charged, payments charged more than once) of this payment system's orders,
    by our rows: succeeded attempts and succeeded invoices per (recurring order, payment)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE n > 1) FROM ("
            " SELECT a.recurring_order_id, a.cycle, count(*) AS n"
            " FROM subscriptions_chargeattempt a"
            " JOIN subscriptions_recurringorder r ON r.id = a.recurring_order_id"
            " JOIN payments_invoice i ON i.order_id = a.order_id AND i.status = 'succeeded'"
            " WHERE r.payment_system_id = %s AND a.status = 'succeeded'"
            " GROUP BY a.recurring_order_id, a.cycle) AS per_payment",
            [system.pk],
        )
        return cursor.fetchone()


def _copy_baseline(count: int) -> float:
    """The rows a charge leaves (an order, its line, an invoice), written by COPY alone."""
    from django.db import connection

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_orders (LIKE orders_order INCLUDING DEFAULTS);"
                "CREATE TEMP TABLE bench_invoices (LIKE payments_invoice INCLUDING DEFAULTS)"
            )
            raw = cursor.connection
            with raw.cursor().copy(
                "COPY bench_orders (id, number, source, order_type, currency, subtotal,"
                " discount_total, total, status, payment_status, refund_status,"
                " fulfillment_status, metadata, notes, line_count, lead_item, lead_sku,"
                " created_at, updated_at) FROM STDIN"
            ) as copy:
                for i in range(count):
                    copy.write_row(
                        (
                            i,
                            10_000_000 + i,
                            "subscription",
                            "recurring",
                            "EUR",
                            "9.90",
                            "0",
                            "9.90",
                            "completed",
                            "paid",
                            "none",
                            "unfulfilled",
                            "{}",
                            "",
                            1,
                            "Offer",
                            "SKU",
                            NOW,
                            NOW,
                        )
                    )
            with raw.cursor().copy(
                "COPY bench_invoices (id, number, order_id, installment, status, amount,"
                " currency, fee, funds_credited, refunded_amount, paid_in_one_click,"
                " buyer_comment, transaction_id, failure_code, failure_message, created_at,"
                " paid_at) FROM STDIN"
            ) as copy:
                for i in range(count):
                    copy.write_row(
                        (
                            i,
                            10_000_000 + i,
                            i,
                            1,
                            "succeeded",
                            "9.90",
                            "EUR",
                            "0.30",
                            "9.60",
                            "0",
                            False,
                            "",
                            f"ch_{i}",
                            "",
                            "",
                            NOW,
                            NOW,
                        )
                    )
            cursor.execute("DROP TABLE bench_orders; DROP TABLE bench_invoices")

    return _seconds(run)


def bench_billing(count: int, catalog: dict) -> list[Result]:
    """`count` due recurring orders charged by two `ordersight billing run` workers: against
    the built-in test gateway (in each worker), and against the fake Stripe the tests use
    (over HTTP, where the provider's own ledger counts double charges too)."""
    sys.path.insert(0, str(ROOT))
    from tests.fakes.stripe import SECRET_KEY, FakeStripe

    at = (NOW + timedelta(minutes=1)).isoformat()
    env = dict(os.environ, DATABASE_URL=_db_url(DB_NAME))
    base = _copy_baseline(count)
    results = []

    test_system = _due_recurring_orders(count, catalog, "bench-test", "test", "tok_success")
    ours, figures = _billing_workers(env, at)
    charged, doubles = _doubles_in_rows(test_system)
    results.append(
        _throughput(
            "recurring billing, 2 workers, test gateway",
            (count, "charges/s"),
            ours,
            (base, "COPY of the orders and invoices alone"),
            f"{charged:,} of {count:,} payments charged in {ours:.1f} s; charged twice: {doubles}"
            + figures,
        )
    )

    fake = FakeStripe().start()
    stripe_system = _due_recurring_orders(count, catalog, "bench-stripe", "stripe", "pm_card_visa")
    env.update(STRIPE_API_BASE=fake.url, STRIPE_SECRET_KEY=SECRET_KEY)
    ours, figures = _billing_workers(env, at)
    fake.stop()
    charged, doubles = _doubles_in_rows(stripe_system)
    at_provider = sum(n - 1 for n in fake.ledger.charges_per_key().values() if n > 1)
    results.append(
        _throughput(
            "recurring billing, 2 workers, Stripe protocol over HTTP",
            (count, "charges/s"),
            ours,
            (base, "COPY of the orders and invoices alone"),
            f"{charged:,} of {count:,} charged in {ours:.1f} s; charged twice: {doubles} "
            f"in our rows, {at_provider} at the provider (its ledger); the fake provider "
            "shares the machine's cores" + figures,
        )
    )
    return results


CREATORS = 50


def _campaign_with_conversions(count: int) -> tuple[int, int]:
    """A campaign of 50 creators and `count` conversions of completed orders (inserted by
    SQL from the generated orders, the creator by order id); the members' totals are then
    recomputed by the service. Returns (campaign id, conversions)."""
    from datetime import date

    from django.conf import settings
    from django.db import connection, transaction

    from ordersight.campaigns import services
    from ordersight.campaigns.models import Membership
    from ordersight.core.actors import Actor

    system = Actor.system()
    with transaction.atomic():
        campaign = services.create_campaign(
            name="Benchmark creators",
            starts_on=date(2000, 1, 1),
            commission_kind="percent",
            commission_percent="10",
            actor=system,
        )
        for i in range(CREATORS):
            creator = services.create_creator(name=f"Creator {i}", handle=f"bench{i}", actor=system)
            services.add_member(
                campaign=campaign, creator=creator, coupon_codes=[f"BENCH{i}"], actor=system
            )
    members = list(
        Membership.objects.filter(campaign=campaign).order_by("pk").values_list("pk", "creator_id")
    )
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_members (idx int, membership_id bigint, creator_id bigint)"
        )
        cur.executemany(
            "INSERT INTO bench_members VALUES (%s, %s, %s)",
            [(i, m, c) for i, (m, c) in enumerate(members)],
        )
        cur.execute(
            """
            INSERT INTO campaigns_conversion (order_id, campaign_id, creator_id, membership_id,
                via, code, status, approval, ordered_at, day, currency, source, order_type,
                units, gross, refunds, fees, funds_credited, commission, updated_at)
            SELECT o.id, %s, m.creator_id, m.membership_id, 'coupon', 'BENCH' || m.idx,
                CASE WHEN o.refund_status = 'full' THEN 'refunded' ELSE 'paid' END,
                CASE WHEN o.id %% 20 = 0 THEN 'rejected' ELSE 'approved' END,
                o.created_at, (o.created_at AT TIME ZONE %s)::date, o.currency, o.source,
                o.order_type, o.line_count, o.total, 0, 0, 0,
                CASE WHEN o.refund_status = 'full' THEN 0 ELSE round(o.total / 10, 2) END, now()
            FROM (SELECT * FROM orders_order WHERE status = 'completed'
                  ORDER BY id LIMIT %s) o
            JOIN bench_members m ON m.idx = o.id %% %s
            """,
            [campaign.pk, settings.TIME_ZONE, count, CREATORS],
        )
        inserted = cur.rowcount
        cur.execute("DROP TABLE bench_members")
        cur.execute("ANALYZE campaigns_conversion")
    with transaction.atomic():
        services.recompute_commissions(pairs={(campaign.pk, creator) for _, creator in members})
    return campaign.pk, inserted


def _bench_campaign() -> int | None:
    """The campaign `_campaign_with_conversions` made, if it did."""
    from ordersight.campaigns.models import Campaign

    return (
        Campaign.objects.filter(name="Benchmark creators")
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def bench_campaigns(total: int, conversions: int) -> list[Result]:
    """A campaign's Performance tab (first and deep page) and the all-sales download,
    against raw SQL on the same rows."""
    from django.db import connection
    from django.test import Client

    from ordersight.accounts.roles import ensure_roles
    from ordersight.campaigns import selectors
    from ordersight.campaigns.models import Conversion
    from ordersight.core.csv_stream import csv_chunks
    from ordersight.core.keyset import encode_cursor
    from ordersight.core.zones import local_day
    from ordersight.orders.models import Order

    campaign, inserted = _campaign_with_conversions(conversions)
    ensure_roles()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("bench-owner", "b@example.com", "x")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)

    def tab(cursor: str | None = None) -> Callable[[], object]:
        url = f"/campaigns/{campaign}/" + (f"?cursor={cursor}" if cursor else "")

        def go() -> object:
            response = client.get(url, secure=True)  # as behind the production proxy
            assert response.status_code == 200, response.status_code
            return response.content

        return go

    page_sql = (
        "SELECT c.*, o.number, cr.name FROM campaigns_conversion c "
        "JOIN orders_order o ON o.id = c.order_id "
        "JOIN campaigns_creator cr ON cr.id = c.creator_id "
        "WHERE c.campaign_id = %s ORDER BY c.ordered_at DESC, c.id DESC LIMIT 50"
    )
    depth = inserted * 9 // 10
    deep = (
        Conversion.objects.filter(campaign_id=campaign)
        .order_by("-ordered_at", "-id")
        .values_list("ordered_at", "id")[depth]
    )
    cursor = encode_cursor(("-ordered_at", "-id"), list(deep))

    def api_page() -> object:
        response = client.get(f"/api/v1/campaigns/{campaign}/conversions?limit=50", secure=True)
        assert response.status_code == 200, response.status_code
        return response.content

    whole_page = (
        "the whole page as a signed-in owner gets it: totals per currency, members' "
        "commission, 50 rows with live status and approval; median of 15"
    )
    results = []
    for name, ours, base, label, note in (
        (
            f"Campaign orders API, {inserted:,} conversions, first page of 50",
            api_page,
            raw(page_sql, [campaign]),
            "raw SELECT … LIMIT 50",
            "the Performance tab's list as JSON (current members only), median of 15",
        ),
        (
            f"Campaign Performance tab, {inserted:,} conversions, first page",
            tab(),
            raw(page_sql, [campaign]),
            "raw SELECT … LIMIT 50",
            whole_page,
        ),
        (
            f"Campaign Performance tab, page at depth {depth:,}",
            tab(cursor),
            raw(page_sql + " OFFSET %s", [campaign, depth]),
            "raw OFFSET",
            whole_page,
        ),
    ):
        ours_ms = _median_ms(ours, 15)
        base_ms = _median_ms(base, 15)
        results.append(
            Result(
                name,
                f"{ours_ms:.1f} ms",
                f"{base_ms:.1f} ms ({label})",
                ours_ms / base_ms,
                note,
            )
        )

    first = Order.objects.order_by("created_at").values_list("created_at", flat=True).first()
    last = Order.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    start, end = local_day(first), local_day(last)
    for scope, rows_sql in (
        (
            "store",
            "COPY (SELECT o.number, o.created_at, o.source, o.order_type, o.currency, o.total,"
            " o.refund_status, ca.name, cr.handle, c.code, c.approval FROM orders_order o"
            " LEFT JOIN campaigns_conversion c ON c.order_id = o.id"
            " LEFT JOIN campaigns_campaign ca ON ca.id = c.campaign_id"
            " LEFT JOIN campaigns_creator cr ON cr.id = c.creator_id"
            " WHERE o.status = 'completed' ORDER BY o.created_at, o.id)"
            " TO STDOUT WITH (FORMAT csv)",
        ),
        (
            "campaigns",
            "COPY (SELECT o.number, c.ordered_at, ca.name, cr.handle, cr.name, c.code, c.status,"
            " c.approval, c.currency, c.gross, c.refunds, c.gross - c.refunds, c.commission"
            " FROM campaigns_conversion c JOIN orders_order o ON o.id = c.order_id"
            " JOIN campaigns_campaign ca ON ca.id = c.campaign_id"
            " JOIN campaigns_creator cr ON cr.id = c.creator_id"
            " WHERE c.status IN ('paid', 'refunded') ORDER BY c.ordered_at, c.id)"
            " TO STDOUT WITH (FORMAT csv)",
        ),
    ):
        counted = {"rows": 0}

        def ours(scope: str = scope, counted: dict = counted) -> None:
            spec = selectors.SALES_DOWNLOADS[scope]
            rows = spec.export(selectors.sales_in(start=start, end=end), None)
            counted["rows"] = sum(c.count(b"\n") for c in csv_chunks(rows, spec.headers)) - 1

        def baseline(sql: str = rows_sql) -> None:
            with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
                for _ in copy:
                    pass

        ours_s = _seconds(ours)
        base_s = _seconds(baseline)
        what = "every sale of the store" if scope == "store" else "the sales creators generated"
        results.append(
            _throughput(
                f"All-sales download ({scope}), {total:,} orders",
                (counted["rows"], "rows/s"),
                ours_s,
                (base_s, "COPY of the same joins"),
                f"{counted['rows']:,} rows, {what}, with the Campaign Name column; money as "
                "text, formula neutralisation, streamed",
            )
        )
    return results


# --- requests in-process ------------------------------------------------------------------


@dataclass
class Endpoint:
    """A request through the whole Django stack, and which of its queries is the main
    SELECT that its bare equivalent runs alone."""

    name: str
    client: object
    url: str
    main: Callable[[str], bool]


def _queries_of(fn: Callable[[], object]) -> list[tuple[str, object, float]]:
    """The queries `fn` runs on the default connection: (sql, params, seconds)."""
    from django.db import connection

    seen: list[tuple[str, object, float]] = []

    def record(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((sql, params, time.perf_counter() - start))

    with connection.execute_wrapper(record):
        fn()
    return seen


def _bare_urlconf(statements: dict[str, tuple[str, object]]):
    """The project's URLs plus /bench/bare/<name>: a plain view that runs one endpoint's
    main SELECT and writes its rows as JSON, nothing else (no key, no filters, no schema)."""
    import types

    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection
    from django.http import HttpResponse
    from django.urls import include, path

    def bare(request, name: str):
        sql, params = statements[name]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            columns = [c.name for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return HttpResponse(
            json.dumps({"items": rows}, cls=DjangoJSONEncoder), content_type="application/json"
        )

    module = types.ModuleType("bench_urls")
    module.urlpatterns = [
        path("bench/bare/<str:name>", bare),
        path("", include("ordersight.urls")),
    ]
    return module


def _paired_ms(ours: Callable[[], object], bare: Callable[[], object], runs: int):
    """Medians of `ours` and `bare` run in turns, so both see the same machine."""
    ours(), bare()  # warm caches and plans
    mine, theirs = [], []
    for _ in range(runs):
        for fn, samples in ((ours, mine), (bare, theirs)):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(mine), statistics.median(theirs)


def bench_requests(campaign: int | None, runs: int = 41) -> list[Result]:
    """API calls and staff pages through the whole Django stack (middleware, key or session,
    rate limit as shipped, filters, serialisation, templates), each beside a bare view that
    runs the same main SELECT and writes its rows as JSON, through the same stack."""
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    from ordersight.orders.models import Order

    api = _api_client()
    user = get_user_model().objects.filter(username="bench-staff").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-staff", "s@example.com", "x")
    web = Client(HTTP_HOST="127.0.0.1")
    web.force_login(user)
    bare_client = Client(HTTP_HOST="127.0.0.1")
    number = Order.objects.order_by("-created_at", "-id").values_list("number", flat=True)[7]
    customer = (
        Order.objects.filter(customer__isnull=False)
        .order_by("-created_at")
        .values_list("customer__name", flat=True)[3]
    )

    def on(table: str) -> Callable[[str], bool]:
        return lambda sql: sql.startswith("SELECT") and f'FROM "{table}"' in sql

    endpoints = [
        Endpoint(
            "API: orders, first page of 50", api, "/api/v1/orders?limit=50", on("orders_order")
        ),
        Endpoint(
            "API: orders by status and currency, first page of 50",
            api,
            "/api/v1/orders?limit=50&status=completed&currency=EUR",
            on("orders_order"),
        ),
        Endpoint("API: one order", api, f"/api/v1/orders/{number}", on("orders_order")),
        Endpoint(
            "API: orders search by customer name",
            api,
            f"/api/v1/orders?limit=50&q={customer.replace(' ', '%20')}",
            on("orders_order"),
        ),
        Endpoint("Page: All Orders", web, "/orders/", on("orders_order")),
        Endpoint("Page: an order", web, f"/orders/{number}/", on("orders_order")),
        Endpoint("Page: sales dashboard", web, "/", lambda sql: "reports_" in sql),
    ]
    if campaign is not None:
        endpoints.append(
            Endpoint(
                "Page: a campaign's Performance tab",
                web,
                f"/campaigns/{campaign}/",
                lambda sql: 'FROM "campaigns_conversion"' in sql and "LIMIT" in sql,
            )
        )

    def call(client, url: str) -> Callable[[], object]:
        def go() -> object:
            response = client.get(url, secure=True)  # as behind the production proxy
            assert response.status_code == 200, (url, response.status_code)
            return response

        return go

    # The limits as shipped count every request; only their size is raised, so the
    # measurement is never answered 429.
    limits = override_settings(API_RATE_LIMIT_PER_KEY=10**9, API_RATE_LIMIT_PER_ADDRESS=10**9)
    statements: dict[str, tuple[str, object]] = {}
    counts: dict[str, int] = {}
    with limits:
        for i, endpoint in enumerate(endpoints):
            ours = call(endpoint.client, endpoint.url)
            ours()
            queries = _queries_of(ours)
            counts[endpoint.name] = len(queries)
            mains = [(sql, params, t) for sql, params, t in queries if endpoint.main(sql)]
            sql, params, _ = max(mains, key=lambda q: q[2])  # the slowest of them
            statements[str(i)] = (sql, params)
        results = []
        with override_settings(ROOT_URLCONF=_bare_urlconf(statements)):
            for i, endpoint in enumerate(endpoints):
                ours = call(endpoint.client, endpoint.url)
                bare = call(bare_client, f"/bench/bare/{i}")
                ours_ms, bare_ms = _paired_ms(ours, bare, runs)
                results.append(
                    Result(
                        endpoint.name,
                        f"{ours_ms:.1f} ms ({1000 / ours_ms:,.0f}/s), "
                        f"{counts[endpoint.name]} queries",
                        f"{bare_ms:.1f} ms ({1000 / bare_ms:,.0f}/s) (bare view: its main SELECT"
                        " as JSON)",
                        ours_ms / bare_ms,
                        f"in-process through every middleware; median of {runs}, in turns",
                    )
                )
    return results


RAW_SEGMENT = """
SELECT count(*) FROM (
    SELECT o.customer_id
    FROM orders_order o
    LEFT JOIN (SELECT order_id, sum(refunded_amount) AS refunded FROM payments_invoice
               WHERE status IN ('succeeded', 'refunded') GROUP BY order_id) r
           ON r.order_id = o.id
    WHERE o.status = 'completed' AND o.customer_id IS NOT NULL
      AND (o.total = 0 OR coalesce(r.refunded, 0) < o.total)
    GROUP BY o.customer_id
    HAVING {having}
) members
"""


def bench_promotions(total: int) -> list[Result]:
    """A segment's member count over the generated customers, and validating a discount code
    through the API, against raw SQL in the same run."""
    from ordersight.catalog.models import Variant
    from ordersight.core.actors import Actor
    from ordersight.customers.models import Customer
    from ordersight.promotions import selectors, services

    system = Actor.system()
    customers = Customer.objects.count()
    segments = (
        (
            "at least 3 orders and spent at least 100 EUR",
            {
                "all": [
                    {"field": "orders", "op": "gte", "value": 3},
                    {"field": "spent", "currency": "EUR", "op": "gte", "value": "100"},
                ]
            },
            "count(*) >= 3 AND coalesce(sum(CASE WHEN o.currency = 'EUR' THEN o.total"
            " - coalesce(r.refunded, 0) END), 0) >= 100",
        ),
        (
            "last purchase more than 90 days ago",
            {"field": "last_order_at", "op": "lt", "value": "-90d"},
            "max(o.created_at) < now() - interval '90 days'",
        ),
    )
    results = []
    for label, rules, having in segments:
        ours = _median_ms(lambda rules=rules: selectors.member_count(rules=rules), 15)
        sql = RAW_SEGMENT.format(having=having)
        counts = (selectors.member_count(rules=rules), raw(sql, [])()[0][0])
        assert counts[0] == counts[1], counts
        base = _median_ms(raw(sql, []), 15)
        results.append(
            Result(
                f"Segment member count ({label}), {customers:,} customers, {total:,} orders",
                f"{ours:.1f} ms (p50)",
                f"{base:.1f} ms (raw SQL over the orders)",
                ours / base,
                f"{counts[0]:,} members; one query on the kept figures, median of 15 "
                "(target p50 ≤ 50 ms)",
            )
        )

    segment = services.create_segment(name="Bench buyers", rules=segments[0][1], actor=system)
    member = selectors.MEMBER_LIST.rows({"segment": str(segment.pk)}).order_by("id").first()
    skus = list(
        Variant.objects.filter(offer__currency="EUR")
        .order_by("pk")
        .values_list("sku", flat=True)[:3]
    )
    services.create_discount_code(
        code="BENCH10",
        kind="percent",
        percent="10",
        actor=system,
        rules={
            "all": [
                {"type": "order_total", "currency": "EUR", "min": "1"},
                {"type": "items_required", "skus": skus[:1]},
                {"type": "segment", "segment": segment.pk},
            ]
        },
    )
    client = _api_client()
    body = json.dumps(
        {
            "order": {
                "lines": [{"sku": sku, "quantity": 1} for sku in skus],
                "customer_id": member.pk,
            }
        }
    )

    def validate() -> object:
        response = client.post(
            "/api/v1/discount-codes/BENCH10/validate",
            data=body,
            content_type="application/json",
            secure=True,
        )
        assert response.status_code == 200 and response.json()["valid"], response.content
        return response

    ours = _median_ms(validate, 25)
    lookups = raw(
        "SELECT (SELECT count(*) FROM promotions_discountcode WHERE code = %s),"
        " (SELECT count(*) FROM catalog_variant WHERE sku = ANY(%s)),"
        " (SELECT count(*) FROM promotions_customerspend WHERE customer_id = %s"
        "   AND currency = 'EUR' AND spent >= 100)",
        ["BENCH10", skus, member.pk],
    )
    base = _median_ms(lookups, 25)
    results.append(
        Result(
            "Discount code validation through the API (3 lines, 3 rules with a segment)",
            f"{ours:.1f} ms (p50)",
            f"{base:.2f} ms (raw SQL of the rows it reads)",
            ours / base,
            "HTTP request with an API key: the order priced from the catalog, the code's "
            "limits and rules checked, the segment asked for this customer; median of 25",
        )
    )
    return results


def bench_search(total: int) -> list[Result]:
    """The header search box, the whole page fragment through Django, against the same
    lookups written as raw SQL, for each kind of text people type."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from ordersight.campaigns.models import Creator
    from ordersight.customers.models import Customer
    from ordersight.orders.models import Order
    from ordersight.payments.models import Invoice
    from ordersight.promotions.models import DiscountCode

    # gendata writes no codes or creators: as many as a busy shop keeps.
    DiscountCode.objects.bulk_create(
        DiscountCode(code=f"BENCH{n:05d}", kind="percent", percent=10) for n in range(20_000)
    )
    Creator.objects.bulk_create(
        Creator(name=f"Creator {n}", handle=f"creator.{n:05d}") for n in range(5_000)
    )
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE promotions_discountcode; ANALYZE campaigns_creator")
    user = get_user_model().objects.create_superuser("bench-search", password="x" * 20)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    customers = Customer.objects.count()
    order = Order.objects.filter(external_id__isnull=False).order_by("id")[total // 2]
    invoice = Invoice.objects.order_by("id").first()
    middle = Customer.objects.order_by("id")[customers // 2]
    terms = (
        ("an order number", str(order.number)),
        ("an order's external id", order.external_id),
        ("an invoice number", f"#{invoice.number}"),
        ("part of a customer's e-mail", middle.email.split("@")[0]),
        ("a word in every customer's name", "customer"),
        ("a discount code", "BENCH01234"),
        ("a creator's handle", "@creator.0123"),
        ("text nothing holds", "zqxwv"),
    )
    raw_lookups = [
        "SELECT id FROM orders_order WHERE external_id = %(t)s OR number = %(n)s"
        " ORDER BY created_at DESC, id DESC LIMIT 5",
        "SELECT id FROM customers_customer WHERE UPPER(name::text) LIKE UPPER(%(p)s)"
        " OR UPPER(email::text) LIKE UPPER(%(p)s) ORDER BY name, id LIMIT 5",
        "SELECT id FROM payments_invoice WHERE number = %(n)s LIMIT 5",
        "SELECT id FROM promotions_discountcode WHERE UPPER(code::text) LIKE UPPER(%(p)s)"
        " ORDER BY code LIMIT 5",
        "SELECT id FROM campaigns_creator WHERE UPPER(handle::text) LIKE UPPER(%(p)s)"
        " ORDER BY handle LIMIT 5",
        "SELECT id FROM catalog_variant WHERE UPPER(sku::text) LIKE UPPER(%(p)s)"
        " ORDER BY sku LIMIT 5",
    ]

    def baseline(term: str) -> Callable[[], object]:
        bare = term.lstrip("#@")
        params = {"t": term, "n": int(bare) if bare.isdigit() else -1, "p": f"%{bare}%"}

        def go() -> object:
            with connection.cursor() as cur:
                for sql in raw_lookups:
                    cur.execute(sql, params)
                    cur.fetchall()

        return go

    results = []
    for label, term in terms:

        def ours(term: str = term) -> object:
            response = client.get(
                "/search/", {"q": term}, headers={"HX-Request": "true"}, secure=True
            )
            assert response.status_code == 200, response.content
            return response

        hits = ours().content.decode().count('data-testid="search-hit"')
        mine = _median_ms(ours, 25)
        base = _median_ms(baseline(term), 25)
        results.append(
            Result(
                f"Search box: {label}, {total:,} orders, {customers:,} customers",
                f"{mine:.1f} ms (p50)",
                f"{base:.2f} ms (raw SQL of the six lookups)",
                mine / base,
                f"{hits} hit{'' if hits == 1 else 's'}; the results fragment through Django "
                "(session, six kinds, template), median of 25 (target under 100 ms)",
            )
        )
    return results


def bench_sync(catalog: dict, orders: int, customers: int) -> list[Result]:
    """A full sync from the fake Shopify store the tests use (pages of 250): customers, then
    orders; beside the bulk API's own rate in the same run (1,000-order batches)."""
    sys.path.insert(0, str(ROOT))
    from django.test import override_settings
    from tests.fakes.shopify import TOKEN, FakeShopify

    from ordersight.sync import services
    from ordersight.sync.models import StoreConnection
    from ordersight.sync.shopify import ShopifyClient

    rng = random.Random(17)
    stamp = NOW.isoformat()
    eur = [v for v in catalog["variants"] if v.offer.currency == "EUR"]
    fake = FakeShopify().start()
    fake.store.customers = [
        {
            "id": 800_000 + n,
            "email": f"sync{n}@example.com",
            "first_name": "Buyer",
            "last_name": str(n),
            "tags": "b2b" if n % 10 else "retail",
            "updated_at": stamp,
        }
        for n in range(customers)
    ]
    fake.store.orders = []
    for n in range(orders):
        lines = [
            {
                "sku": v.sku,
                "title": v.sku,
                "price": str(v.unit_price or v.offer.unit_price),
                "quantity": rng.randint(1, 3),
            }
            for v in rng.sample(eur, 2)
        ]
        fake.store.orders.append(
            {
                "id": 9_000_000 + n,
                "name": f"#S{n}",
                "created_at": (NOW - timedelta(minutes=n)).isoformat(),
                "updated_at": stamp,
                "currency": "EUR",
                "financial_status": "paid" if n % 4 else "pending",
                "cancelled_at": None,
                "customer": {"id": 800_000 + rng.randrange(customers)},
                "line_items": lines,
                "transactions": [{"id": 70_000_000 + n, "kind": "sale", "status": "success"}],
                "refunds": [],
            }
        )
    connection = StoreConnection.objects.create(
        name="bench", platform="shopify", shop_url=fake.url, currency="EUR"
    )
    feeds = services.feeds_of(connection=connection)
    # The fake store listens on 127.0.0.1 over http: allowed as an operator would allow it.
    with override_settings(SYNC_ALLOW_PRIVATE_NETWORKS=True):
        client = ShopifyClient(fake.url, TOKEN)
        started = time.perf_counter()
        customers_run = services.run_feed(feed=feeds["customers"], client=client)
        customers_s = time.perf_counter() - started
        with _analysing(), _as_in_the_worker():
            started = time.perf_counter()
            orders_run = services.run_feed(feed=feeds["orders"], client=client)
            orders_s = time.perf_counter() - started
    fake.stop()
    assert customers_run.status == orders_run.status == "succeeded", orders_run.message
    assert orders_run.created == orders and not orders_run.errors, orders_run.errors

    # The bulk API's own rate in this run, for orders of the same shape as the store's:
    # 10 requests of 1,000, two priced lines, the store's customers by their Shopify id,
    # three in four completed (a paid order: its sale recounted), placed over the same days.
    client_api = _api_client()
    imported = [n for n in range(customers) if n % 10]
    api_s = 0.0
    for b in range(10):
        payload = {
            "orders": [
                {
                    "external_id": f"bench-api-{b}-{i}",
                    "source": "shopify",
                    # The store's customers the sync imported (not those it skipped).
                    "customer_external_id": str(800_000 + rng.choice(imported)),
                    "status": "completed" if i % 4 else "open",
                    "created_at": (NOW - timedelta(minutes=b * 1000 + i)).isoformat(),
                    "lines": [
                        {
                            "sku": v.sku,
                            "unit_price": str(v.unit_price or v.offer.unit_price),
                            "quantity": rng.randint(1, 3),
                        }
                        for v in rng.sample(eur, 2)
                    ],
                }
                for i in range(1000)
            ]
        }
        body = json.dumps(payload)
        start = time.perf_counter()
        response = client_api.post(
            "/api/v1/orders/bulk", data=body, content_type="application/json", secure=True
        )
        api_s += time.perf_counter() - start
        assert response.status_code == 200, response.content[:300]
        assert response.json()["created"] == 1000, response.content[:300]
    customers_api_s = 0.0
    for b in range(5):
        body = json.dumps(
            {
                "customers": [
                    {
                        "source": "feed",
                        "external_id": f"bench-api-c{b}-{i}",
                        "name": f"C {i}",
                        "email": f"api{b}-{i}@example.com",
                        "tags": ["b2b"],
                    }
                    for i in range(1000)
                ]
            }
        )
        start = time.perf_counter()
        response = client_api.post(
            "/api/v1/customers/bulk", data=body, content_type="application/json", secure=True
        )
        customers_api_s += time.perf_counter() - start
        assert response.status_code == 200, response.content[:300]
    return [
        _throughput(
            f"Shopify sync, {customers:,} customers (pages of 250)",
            (customers, "customers/s"),
            customers_s,
            (customers_api_s / 5_000 * customers, "the bulk API, 5 × 1,000 customers, same run"),
            f"{customers_run.created:,} imported, {customers_run.skipped:,} skipped by the B2B "
            "tag; fetched from the fake store over HTTP on the same machine",
        ),
        _throughput(
            f"Shopify sync, {orders:,} orders (pages of 250)",
            (orders, "orders/s"),
            orders_s,
            (api_s / 10_000 * orders, "the bulk API, 10 × 1,000 orders of the same shape"),
            f"{orders_run.created:,} created through the ingest, three in four paid (invoice, "
            "payment events, figures); fetched over HTTP from the fake store",
        ),
    ]


def bench_load(seconds: int) -> list[Result]:
    """Over HTTP under load, each endpoint beside a bare one (benchmarks/load.py)."""
    from ordersight.campaigns.models import Campaign

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import load

    campaign = Campaign.objects.order_by("pk").values_list("pk", flat=True).first()
    if campaign is None:
        campaign, _ = _campaign_with_conversions(20_000)
    rows = load.measure(_db_url(DB_NAME), seconds, campaign)
    return [Result(r.name, r.ours, r.baseline, r.ratio, r.note) for r in rows]


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
        f"- Dataset: `ordersight gendata --orders {args.orders:,}` (orders over two years, one",
        "  customer per ten orders, 400 offers in 20 categories, 3 currencies, invoices with",
        "  partial payments and refunds, managers), plus the 10,000 ingested orders;",
        "  PostgreSQL with default settings.",
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
        '- A list\'s count ("1–50 of 2,100") is `SELECT count(*) FROM (… LIMIT 10,001)` over',
        "  the list's own selector: it stops reading at the bound, so it costs at most what",
        "  reading 10,001 index entries costs, where counting every match grows with the",
        "  table. A filter that matches fewer rows than the bound reads all of them (the last",
        "  row's note says how long that takes on the status index).",
        "- Bulk ingest validates and prices every line against the catalog and records an",
        "  event per order in the same transaction; the rows themselves go by COPY. Each",
        "  event also runs the order lifecycle handlers (the reports recount a batch at once).",
        "- Reports read the sales rollups (per day and month, currency, source, order type",
        "  and dimension) that the services keep current; the raw query computes the same",
        "  sums from the order, line and invoice rows (the benchmark checks the two agree",
        "  first). The dashboard also counts new and returning customers, which the raw",
        "  query leaves out, so its ratio is conservative.",
        "- gendata writes orders, lines, invoices, refunds and an event per order by COPY",
        "  and then rebuilds the rollups; the baseline copies orders and lines only.",
        "- The export writes every column the All Orders list shows (the lead line's unit",
        "  price and quantity included), each turned into text by SQL; the baseline copies",
        "  the bare table, so the ratio is the cost of those expressions.",
        "- Recurring billing: two `ordersight billing run` processes charge every due",
        "  recurring order; each charge makes a child order, its line, a succeeded invoice",
        "  with its fee, five order events, the sales figures and the recurring order's new",
        "  schedule and event, in batches of 500. Double charges are counted in our rows",
        "  (succeeded attempts and invoices per payment) and, over HTTP, in the provider's",
        "  ledger. The baseline writes the orders and invoices alone by COPY.",
        "- Store sync reads the fake Shopify store the tests use, over HTTP on the same",
        "  machine, 250 a page, and writes through the same services as the API; the",
        "  baseline is the bulk API's own rate for 1,000-order requests in the same run.",
        "- Segments count their members in one query on the customers' kept figures; the",
        "  raw baseline computes the same members from the orders and invoices (the",
        "  benchmark checks both counts agree). Validating a code through the API prices the",
        "  order, checks limits and rules and asks the segment for the customer.",
        "- Creator campaigns: a campaign of 50 creators with 100,000 conversions; the",
        "  Performance tab is the whole HTML page (totals, members' commission, 50 rows),",
        "  the API row the same list as JSON; the all-sales downloads stream the same joins",
        "  as the COPY baseline with money as text and formula neutralisation in SQL.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders gendata writes")
    parser.add_argument("--bulk", type=int, default=16_000, help="offers and customers loaded")
    parser.add_argument("--ingest-batches", type=int, default=10, help="1,000-order batches")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--recurring", type=int, default=100_000, help="due recurring orders")
    parser.add_argument("--conversions", type=int, default=100_000, help="a campaign's")
    parser.add_argument("--sync-orders", type=int, default=100_000, help="orders synced")
    parser.add_argument("--sync-customers", type=int, default=20_000, help="customers synced")
    parser.add_argument("--only", default="", help="comma-separated sections, e.g. billing")
    parser.add_argument("--keep", action="store_true", help="keep the database to explore")
    parser.add_argument("--load-seconds", type=int, default=10, help="each load run's length")
    args = parser.parse_args()

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    try:
        _setup_django()
        machine = _machine()
        catalog = _catalog()
        only = set(filter(None, args.only.split(",")))

        def wanted(section: str) -> bool:
            return not only or section in only

        results: list[Result] = []
        if wanted("ingest"):
            results += bench_ingest(catalog, args.ingest_batches)
        if wanted("bulk"):
            results += bench_catalog_and_customers(args.bulk)
        sections = (
            "gendata",
            "lists",
            "reports",
            "campaigns",
            "promotions",
            "search",
            "requests",
            "load",
        )
        if any(wanted(s) for s in sections):
            results += bench_gendata(args.orders, catalog)
        from ordersight.orders.models import Order

        total = Order.objects.count()
        if wanted("lists"):
            results += bench_lists(total)
            results += bench_counts()
            results += bench_export(total)
        if wanted("reports"):
            results += bench_reports()
        campaign = None
        if wanted("campaigns"):
            results += bench_campaigns(total, args.conversions)
            campaign = _bench_campaign()
        if wanted("requests"):
            if campaign is None:
                campaign = _campaign_with_conversions(args.conversions)[0]
            results += bench_requests(campaign)
        if wanted("promotions"):
            results += bench_promotions(total)
        if wanted("search"):
            results += bench_search(total)
        if wanted("sync"):
            results += bench_sync(catalog, args.sync_orders, args.sync_customers)
        if wanted("billing"):
            results += bench_billing(args.recurring, catalog)
        if wanted("load"):
            results += bench_load(args.load_seconds)
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
