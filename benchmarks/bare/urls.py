"""Bare endpoints: the main SELECT of an endpoint, its rows written as JSON, nothing else.

No authentication, no filters parsed, no schema: what is left of a request when the product
does only the essential query. They sit in front of the product's own URLs, behind the same
middleware, server and database, so a load benchmark can set each endpoint beside one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

ORDER_COLUMNS = (
    "o.number, o.external_id, o.source, o.order_type, o.currency, o.subtotal, "
    "o.discount_total, o.total, o.status, o.payment_status, o.refund_status, "
    "o.fulfillment_status, o.created_at, o.updated_at, o.lead_item, o.line_count, "
    "c.name, c.email"
)
ORDERS = (
    f"SELECT {ORDER_COLUMNS} FROM orders_order o "
    "LEFT JOIN customers_customer c ON c.id = o.customer_id {where} "
    "ORDER BY o.created_at DESC, o.id DESC LIMIT 50"
)


def _json(rows: object) -> HttpResponse:
    return HttpResponse(json.dumps(rows, default=str), content_type="application/json")


def _rows(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def orders(request: HttpRequest) -> HttpResponse:
    return _json({"items": _rows(ORDERS.format(where=""), [])})


def orders_filtered(request: HttpRequest) -> HttpResponse:
    where = "WHERE o.status = %s AND o.currency = %s"
    return _json({"items": _rows(ORDERS.format(where=where), ["completed", "EUR"])})


def orders_search(request: HttpRequest) -> HttpResponse:
    # The same test the product's search makes (Django's icontains on PostgreSQL).
    where = "WHERE UPPER(c.name::text) LIKE UPPER(%s) OR UPPER(c.email::text) LIKE UPPER(%s)"
    term = f"%{request.GET['q']}%"
    return _json({"items": _rows(ORDERS.format(where=where), [term, term])})


def order(request: HttpRequest, number: int) -> HttpResponse:
    found = _rows(
        f"SELECT o.id, {ORDER_COLUMNS} FROM orders_order o "
        "LEFT JOIN customers_customer c ON c.id = o.customer_id WHERE o.number = %s",
        [number],
    )
    if not found:
        return HttpResponse(status=404)
    row = found[0]
    row["lines"] = _rows(
        "SELECT position, sku, name, unit_price, quantity, discount, total "
        "FROM orders_orderline WHERE order_id = %s ORDER BY position",
        [row.pop("id")],
    )
    return _json(row)


def performance(request: HttpRequest) -> HttpResponse:
    """The period's and the previous period's totals per currency, from the daily rollups."""
    today = timezone.localdate()
    start, before = today - timedelta(days=29), today - timedelta(days=59)
    return _json(
        _rows(
            "SELECT currency, period >= %s AS current, sum(orders) AS orders, "
            "sum(gross) AS gross, sum(refunds) AS refunds, sum(fees) AS fees "
            "FROM reports_salesrollup WHERE grain = 'd' AND dimension = '' "
            "AND period BETWEEN %s AND %s GROUP BY 1, 2",
            [start, before, today],
        )
    )


def export(request: HttpRequest) -> StreamingHttpResponse:
    """Every order row as CSV, streamed by COPY."""

    def chunks() -> Iterator[bytes]:
        with connection.cursor() as cursor:
            copy_sql = (
                "COPY (SELECT o.number, o.created_at, o.status, o.currency, o.total "
                "FROM orders_order o ORDER BY o.created_at DESC, o.id DESC) TO STDOUT WITH CSV"
            )
            with cursor.cursor.copy(copy_sql) as copy:
                yield from (bytes(chunk) for chunk in copy)

    return StreamingHttpResponse(chunks(), content_type="text/csv")


@csrf_exempt
def create_order(request: HttpRequest) -> HttpResponse:
    """The order and its lines inserted as sent: no catalog, pricing, events or figures.
    Numbers come from a sequence the benchmark creates (far above the product's)."""
    data = json.loads(request.body)
    lines = data["lines"]
    now = timezone.now()
    # The price is the catalog's in the product; here whatever the line says, else 10.
    price = [Decimal(str(line.get("unit_price", 10))) for line in lines]
    total = sum(p * line["quantity"] for p, line in zip(price, lines, strict=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_order (number, external_id, source, order_type, currency, "
            "subtotal, discount_total, total, status, payment_status, refund_status, "
            "fulfillment_status, metadata, notes, created_at, updated_at, lead_item, lead_sku, "
            "line_count, coupon_code, referral_code) "
            "VALUES (nextval('bench_bare_order_number'), %s, 'bare', 'standard', %s, %s, 0, "
            "%s, 'completed', 'paid', 'none', 'unfulfilled', '{}', '', %s, %s, '', '', %s, "
            "'', '') RETURNING id",
            [data["external_id"], data["currency"], total, total, now, now, len(lines)],
        )
        order_id = cursor.fetchone()[0]
        cursor.executemany(
            "INSERT INTO orders_orderline (order_id, position, sku, name, unit_price, "
            "quantity, discount, total) VALUES (%s, %s, %s, %s, %s, %s, 0, %s)",
            [
                (
                    order_id,
                    position,
                    line["sku"],
                    line["sku"],
                    price[position],
                    line["quantity"],
                    price[position] * line["quantity"],
                )
                for position, line in enumerate(lines)
            ],
        )
    return _json({"id": order_id})


urlpatterns = [
    path("bare/orders", orders),
    path("bare/orders-filtered", orders_filtered),
    path("bare/orders-search", orders_search),
    path("bare/orders/<int:number>", order),
    path("bare/performance", performance),
    path("bare/export", export),
    path("bare/create-order", create_order),
    path("", include("ordersight.urls")),
]
