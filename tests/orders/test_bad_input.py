"""Every bad input to the orders API is a 4xx in the common error shape and stores nothing."""

from __future__ import annotations

import json

import pytest

from ordersight.core.validation import METADATA_MAX_BYTES
from ordersight.orders.models import Order, OrderEvent


def _rejected(r, status: int, field: str) -> dict:
    assert r.status_code == status, r.content
    error = r.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert field in error["fields"], error
    assert Order.objects.count() == 0
    return error


def test_malformed_json(api, catalog):
    _rejected(api.post("orders", raw='{"lines": [}'), 400, "body")


def test_body_that_is_not_an_object(api, catalog):
    _rejected(api.post("orders", raw="[1, 2]"), 422, "body")


def test_missing_lines(api, catalog):
    _rejected(api.post("orders", {"currency": "EUR"}), 422, "lines")


def test_empty_lines(api, catalog):
    _rejected(api.post("orders", {"currency": "EUR", "lines": []}), 422, "lines")


def test_mistyped_quantity(api, catalog):
    _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M", "quantity": "two"}]}),
        422,
        "lines[0].quantity",
    )


def test_fractional_quantity(api, catalog):
    _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M", "quantity": 1.5}]}), 422, "lines[0].quantity"
    )


@pytest.mark.parametrize("quantity", [0, -1])
def test_zero_or_negative_quantity(api, catalog, quantity):
    _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M", "quantity": quantity}]}),
        422,
        "lines[0].quantity",
    )


def test_quantity_above_one_when_the_offer_sells_single_units(api, catalog):
    _rejected(
        api.post("orders", {"lines": [{"sku": "COURSE-1", "quantity": 2}]}),
        422,
        "lines[0].quantity",
    )


def test_unknown_currency(api, catalog):
    body = {"currency": "XYZ", "lines": [{"name": "x", "unit_price": "1.00"}]}
    _rejected(api.post("orders", body), 422, "currency")


def test_lines_in_mixed_currencies(api, catalog):
    error = _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M"}, {"sku": "COURSE-1"}]}), 422, "lines[1].sku"
    )
    assert "USD" in error["fields"]["lines[1].sku"]


def test_sku_in_another_currency_than_the_order(api, catalog):
    _rejected(
        api.post("orders", {"currency": "GBP", "lines": [{"sku": "TEE-M"}]}), 422, "lines[0].sku"
    )


def test_unknown_sku(api, catalog):
    error = _rejected(api.post("orders", {"lines": [{"sku": "NOPE"}]}), 422, "lines[0].sku")
    assert "NOPE" in error["fields"]["lines[0].sku"]


def test_free_line_without_price(api, catalog):
    body = {"currency": "EUR", "lines": [{"name": "Gift wrap"}]}
    _rejected(api.post("orders", body), 422, "lines[0].unit_price")


def test_negative_price(api, catalog):
    body = {"currency": "EUR", "lines": [{"name": "x", "unit_price": "-1.00"}]}
    _rejected(api.post("orders", body), 422, "lines[0].unit_price")


def test_price_with_more_decimals_than_the_currency(api, catalog):
    body = {"currency": "EUR", "lines": [{"name": "x", "unit_price": "1.005"}]}
    _rejected(api.post("orders", body), 422, "lines[0].unit_price")


def test_discount_larger_than_the_line(api, catalog):
    _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M", "discount": "20.00"}]}),
        422,
        "lines[0].discount",
    )


def test_price_that_contradicts_the_catalog(api, catalog):
    _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M", "unit_price": "1.00"}]}),
        422,
        "lines[0].unit_price",
    )


@pytest.mark.parametrize("metadata", [[1, 2], "text", 5])
def test_metadata_that_is_not_an_object(api, catalog, metadata):
    _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M"}], "metadata": metadata}), 422, "metadata"
    )


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_metadata_with_a_number_json_cannot_write(api, catalog, number):
    # Python's JSON reader takes these words; no database column can store them.
    body = json.dumps({"lines": [{"sku": "TEE-M"}], "metadata": {"score": 1}})
    body = body.replace('"score": 1', f'"score": {number}')
    _rejected(api.post("orders", raw=body), 422, "metadata")


def test_a_bulk_batch_names_the_order_whose_metadata_holds_nan(api, catalog):
    orders = [
        {"external_id": f"m-{n}", "lines": [{"sku": "TEE-M"}], "metadata": {"n": n}}
        for n in range(3)
    ]
    body = json.dumps({"orders": orders}).replace('{"n": 1}', '{"n": NaN}')
    r = api.post("orders/bulk", raw=body)
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["result"] for x in results] == ["created", "error", "created"]
    assert "metadata" in results[1]["fields"]
    assert sorted(Order.objects.values_list("metadata", flat=True), key=str) == [
        {"n": 0},
        {"n": 2},
    ]


def test_metadata_too_large(api, catalog):
    big = {"blob": "x" * METADATA_MAX_BYTES}
    _rejected(api.post("orders", {"lines": [{"sku": "TEE-M"}], "metadata": big}), 422, "metadata")


def test_unknown_field_is_named(api, catalog):
    _rejected(api.post("orders", {"lines": [{"sku": "TEE-M"}], "totl": "1"}), 422, "totl")


def test_unknown_customer(api, catalog):
    _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M"}], "customer_id": 424242}), 422, "customer_id"
    )


@pytest.mark.parametrize(("field", "value"), [("source", "fax"), ("order_type", "barter")])
def test_unknown_source_or_type(api, catalog, field, value):
    _rejected(api.post("orders", {"lines": [{"sku": "TEE-M"}], field: value}), 422, field)


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1969-12-31T23:59:59Z"]
)
def test_a_creation_time_outside_the_calendar_is_refused_by_name(api, catalog, moment):
    # The ends of the calendar overflowed on the way to UTC (a 500 on SQLite).
    _rejected(
        api.post("orders", {"lines": [{"sku": "TEE-M"}], "created_at": moment}), 422, "created_at"
    )


def test_a_creation_time_with_any_iso_offset_is_kept_in_utc(api, catalog):
    # ISO 8601 allows offsets to 23:59; PostgreSQL refused those beyond 15:59 (a 500).
    r = api.post("orders", {"lines": [{"sku": "TEE-M"}], "created_at": "2030-01-01T00:00:00-20:33"})
    assert r.status_code == 201, r.content
    assert r.json()["created_at"] == "2030-01-01T20:33:00Z"
    stored = api.get(f"orders/{r.json()['number']}").json()["created_at"]
    assert stored == "2030-01-01T20:33:00Z"


def test_oversized_body_is_413(api, catalog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"lines": [{"sku": "TEE-M"}], "notes": "x" * 20_000}
    _rejected(api.post("orders", body), 413, "body")


def test_several_problems_are_reported_together(api, catalog):
    r = api.post(
        "orders",
        {
            "currency": "EUR",
            "metadata": [],
            "lines": [{"sku": "NOPE"}, {"name": "x", "unit_price": "1", "quantity": 0}],
        },
    )
    fields = r.json()["error"]["fields"]
    assert {"metadata", "lines[0].sku", "lines[1].quantity"} <= set(fields)


def test_bad_update_changes_nothing(api, catalog):
    number = api.post("orders", {"lines": [{"sku": "TEE-M"}], "metadata": {"a": 1}}).json()[
        "number"
    ]
    r = api.patch(f"orders/{number}", {"metadata": ["no"], "notes": "lost?"})
    assert r.status_code == 422 and "metadata" in r.json()["error"]["fields"]
    order = Order.objects.get(number=number)
    assert (order.metadata, order.notes) == ({"a": 1}, "")
    assert OrderEvent.objects.filter(kind="updated").count() == 0


def test_update_with_unknown_type(api, catalog):
    number = api.post("orders", {"lines": [{"sku": "TEE-M"}]}).json()["number"]
    r = api.patch(f"orders/{number}", {"order_type": "barter"})
    assert r.status_code == 422 and "order_type" in r.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"currency": "XYZ"}, "currency"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"metadata": "novalue"}, "metadata"),
        ({"sales_manager": "bob"}, "sales_manager"),
        ({"offer": "abc"}, "offer"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"sort": "color"}, "sort"),
        ({"cursor": "!!!"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_unknown_filter_values_are_422_naming_the_filter(api, db, params, field):
    r = api.get("orders", **params)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]


def test_export_rejects_bad_filters_too(api, db):
    r = api.get("orders/export.csv", status="lost")
    assert r.status_code == 422 and "status" in r.json()["error"]["fields"]


def test_error_shape_is_json(api, catalog):
    r = api.post("orders", raw="nope")
    assert r["Content-Type"].startswith("application/json")
    json.loads(r.content)
