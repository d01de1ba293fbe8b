"""Bulk ingest: upsert by (source, external id), one result per item, replay-safe."""

from __future__ import annotations

import pytest

from ordersight.orders.models import Order, OrderEvent, OrderLine
from tests import factories


def _item(external_id: str, **extra):
    return {"external_id": external_id, "source": "shopify", "lines": [{"sku": "TEE-M"}], **extra}


def test_batch_creates_each_order_with_a_result(api, catalog):
    r = api.post("orders/bulk", {"orders": [_item("s-1"), _item("s-2", status="completed")]})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["created"], body["updated"], body["errors"]) == (2, 0, 0)
    assert [x["result"] for x in body["results"]] == ["created", "created"]
    numbers = [x["number"] for x in body["results"]]
    assert numbers[1] == numbers[0] + 1
    assert Order.objects.get(number=numbers[1]).status == "completed"
    assert OrderEvent.objects.filter(kind="imported").count() == 2


def test_replayed_batch_creates_nothing_twice(api, catalog):
    batch = {"orders": [_item("s-1"), _item("s-2")]}
    first = api.post("orders/bulk", batch).json()
    again = api.post("orders/bulk", batch).json()
    assert Order.objects.count() == 2
    assert OrderLine.objects.count() == 2
    assert (again["created"], again["unchanged"]) == (0, 2)
    assert [x["number"] for x in again["results"]] == [x["number"] for x in first["results"]]


def test_changed_order_is_updated_in_place(api, catalog):
    api.post("orders/bulk", {"orders": [_item("s-1", metadata={"v": 1})]})
    changed = _item(
        "s-1", metadata={"v": 2}, status="completed", lines=[{"sku": "TEE-M", "quantity": 2}]
    )
    body = api.post("orders/bulk", {"orders": [changed]}).json()
    assert body["results"][0]["result"] == "updated"
    order = Order.objects.get(external_id="s-1")
    assert (order.metadata, order.status, str(order.total)) == ({"v": 2}, "completed", "39.8000")
    kinds = set(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert {"imported", "lines_replaced", "status_changed", "updated"} <= kinds


def test_same_external_id_from_another_source_is_another_order(api, catalog):
    api.post("orders/bulk", {"orders": [_item("x-1"), _item("x-1", source="feed")]})
    assert Order.objects.filter(external_id="x-1").count() == 2


def test_bad_items_are_reported_and_good_ones_kept(api, catalog):
    batch = {
        "orders": [
            _item("ok-1"),
            _item("bad-sku", lines=[{"sku": "NOPE"}]),
            {"external_id": "bad-shape", "lines": "not a list"},
            _item("bad-qty", lines=[{"sku": "TEE-M", "quantity": 0}]),
            {"lines": [{"sku": "TEE-M"}]},
            _item("ok-1"),
        ]
    }
    body = api.post("orders/bulk", batch).json()
    results = body["results"]
    assert [r["result"] for r in results] == [
        "created",
        "error",
        "error",
        "error",
        "error",
        "error",
    ]
    assert "lines[0].sku" in results[1]["fields"]
    assert "lines" in results[2]["fields"]
    assert "lines[0].quantity" in results[3]["fields"]
    assert results[4]["fields"] == {"external_id": "required"}
    assert results[5]["fields"] == {"external_id": "duplicate in batch"}
    assert (body["created"], body["errors"]) == (1, 5)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["ok-1"]


def test_transition_not_allowed_on_update_is_an_item_error(api, catalog):
    api.post("orders/bulk", {"orders": [_item("s-1", status="cancelled")]})
    body = api.post("orders/bulk", {"orders": [_item("s-1", status="completed")]}).json()
    assert body["results"][0]["result"] == "error"
    assert body["results"][0]["fields"] == {"status": "cancelled"}
    assert Order.objects.get(external_id="s-1").status == "cancelled"


def test_items_of_a_completed_order_cannot_change(api, catalog):
    api.post("orders/bulk", {"orders": [_item("s-1", status="completed")]})
    changed = _item("s-1", status="completed", lines=[{"sku": "TEE-L"}])
    result = api.post("orders/bulk", {"orders": [changed]}).json()["results"][0]
    assert result["result"] == "error" and "lines" in result["fields"]


def test_customer_by_external_id_of_the_same_source(api, catalog):
    customer = factories.CustomerFactory()
    customer.external_ids.create(source="shopify", external_id="c-77")
    body = api.post(
        "orders/bulk",
        {
            "orders": [
                _item("s-1", customer_external_id="c-77"),
                _item("s-2", customer_external_id="c-missing"),
            ]
        },
    ).json()
    assert body["results"][0]["result"] == "created"
    assert Order.objects.get(external_id="s-1").customer == customer
    assert "customer_external_id" in body["results"][1]["fields"]


def test_more_than_a_thousand_orders_is_refused_whole(api, catalog):
    r = api.post("orders/bulk", {"orders": [_item(f"s-{i}") for i in range(1001)]})
    assert r.status_code == 422
    assert "orders" in r.json()["error"]["fields"]
    assert Order.objects.count() == 0


def test_a_thousand_orders_in_one_request(api, catalog, django_assert_max_num_queries):
    batch = {"orders": [_item(f"s-{i}", created_at="2026-01-01T00:00:00Z") for i in range(1000)]}
    # Batched writes: far fewer queries than orders (SQLite caps variables per INSERT).
    with django_assert_max_num_queries(100):
        body = api.post("orders/bulk", batch).json()
    assert body["created"] == 1000
    assert Order.objects.count() == 1000


def test_read_key_cannot_ingest(read_api, catalog):
    r = read_api.post("orders/bulk", {"orders": [_item("s-1")]})
    assert r.status_code == 403
    assert Order.objects.count() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_with_the_same_orders_create_each_once(write_token, catalog):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from tests.conftest import ApiClient

    batch = {"orders": [_item(f"s-{i}") for i in range(50)]}

    def send(_):
        try:
            return ApiClient(write_token).post("orders/bulk", batch).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(send, range(6)))
    assert codes == [200] * 6
    assert Order.objects.count() == 50
