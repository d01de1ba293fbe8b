"""The order's copy of its lines (count and lead line) always says what the lines say."""

from __future__ import annotations

import importlib
from decimal import Decimal

from django.db import connection

from ordersight.orders.models import Order
from ordersight.orders.pricing import LINE_SUMMARY_FIELDS

backfill = importlib.import_module("ordersight.orders.migrations.0004_order_line_summary")


def _summary(order: Order) -> dict:
    return {name: getattr(order, name) for name in LINE_SUMMARY_FIELDS}


def _from_lines(order: Order) -> dict:
    lines = list(order.lines.order_by("position"))
    lead = lines[0]
    return {
        "line_count": len(lines),
        "lead_item": lead.name,
        "lead_sku": lead.sku,
        "lead_offer_number": lead.offer_number,
        "lead_category_number": lead.category_number,
        "lead_unit_price": lead.unit_price,
        "lead_quantity": lead.quantity,
    }


def test_created_order_carries_its_lead_line(api, catalog):
    r = api.post(
        "orders",
        {
            "lines": [
                {"sku": "TEE-L", "quantity": 3},
                {"name": "Gift wrap", "unit_price": "2.00"},
            ]
        },
    )
    assert r.status_code == 201, r.content
    order = Order.objects.get(number=r.json()["number"])
    assert _summary(order) == _from_lines(order)
    assert _summary(order) == {
        "line_count": 2,
        "lead_item": "Tee — L",
        "lead_sku": "TEE-L",
        "lead_offer_number": 101,
        "lead_category_number": 10,
        "lead_unit_price": Decimal("21.50"),
        "lead_quantity": 3,
    }


def test_free_line_leaves_the_catalog_columns_empty(api, db):
    r = api.post(
        "orders", {"currency": "EUR", "lines": [{"name": "Consulting", "unit_price": "90"}]}
    )
    order = Order.objects.get(number=r.json()["number"])
    assert (order.lead_item, order.lead_offer_number, order.lead_category_number) == (
        "Consulting",
        None,
        None,
    )


def test_bulk_ingest_keeps_the_summary_when_lines_change(api, catalog):
    item = {"external_id": "x-1", "source": "feed", "lines": [{"sku": "TEE-M"}]}
    api.post("orders/bulk", {"orders": [item]})
    order = Order.objects.get(external_id="x-1")
    assert _summary(order) == _from_lines(order)

    item["lines"] = [{"sku": "TEE-L", "quantity": 2}, {"sku": "TEE-M"}]
    r = api.post("orders/bulk", {"orders": [item]})
    assert r.json()["results"][0]["result"] == "updated"
    order.refresh_from_db()
    assert order.line_count == 2 and order.lead_sku == "TEE-L" and order.lead_quantity == 2
    assert _summary(order) == _from_lines(order)


def test_migration_backfill_rebuilds_the_summary_from_the_lines(api, catalog):
    numbers = [
        api.post("orders", {"lines": lines}).json()["number"]
        for lines in (
            [{"sku": "TEE-M", "quantity": 2}, {"sku": "TEE-L"}],
            [{"name": "Free", "unit_price": "5.00"}, {"sku": "TEE-M"}],
        )
    ]
    expected = {n: _summary(Order.objects.get(number=n)) for n in numbers}
    Order.objects.update(
        line_count=0,
        lead_item="",
        lead_sku="",
        lead_offer_number=None,
        lead_category_number=None,
        lead_unit_price=None,
        lead_quantity=None,
    )
    with connection.cursor() as cursor:
        cursor.execute(backfill.BACKFILL)
    assert {n: _summary(Order.objects.get(number=n)) for n in numbers} == expected


def test_list_sorts_by_the_lead_line(api, catalog):
    for sku, qty in (("TEE-L", 1), ("TEE-M", 3), ("COURSE-1", 1)):
        assert api.post("orders", {"lines": [{"sku": sku, "quantity": qty}]}).status_code == 201

    def skus(sort: str) -> list[str]:
        items = api.get("orders", sort=sort).json()["items"]
        return [o["lines"][0]["sku"] for o in items]

    assert skus("quantity")[-1] == "TEE-M"
    assert skus("-unit_price")[0] == "COURSE-1"
    assert skus("category_number")[-1] == "COURSE-1"
    assert skus("item") == ["COURSE-1", "TEE-L", "TEE-M"]  # by name, then by id
