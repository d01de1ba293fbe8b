"""Orders API: creation with server-side totals, reads, updates, transitions and activity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordersight.orders.models import Order, OrderEvent, OrderLine
from tests import factories


def _create(api, **body):
    body.setdefault("lines", [{"sku": "TEE-M"}])
    return api.post("orders", body)


def test_a_new_order_is_answered_as_reading_it_answers(api, catalog, customer):
    """The create's answer (which skips looking for invoices a new order cannot have yet)
    is what GET /orders/{number} says of it."""
    created = _create(
        api,
        customer_id=customer.pk,
        external_id="web-1",
        metadata={"channel": "web"},
        coupon_code="spring",
        lines=[
            {"sku": "TEE-M", "quantity": 2, "discount": "1.00"},
            {"name": "Gift wrap", "unit_price": "2.50"},
        ],
    )
    assert created.status_code == 201, created.json()
    read = api.get(f"orders/{created.json()['number']}")
    assert read.json() == created.json()
    assert created.json()["invoices"] == [] and len(created.json()["lines"]) == 2


def test_order_from_skus_takes_prices_and_currency_from_the_catalog(api, catalog, customer):
    r = _create(
        api,
        customer_id=customer.pk,
        lines=[{"sku": "TEE-M", "quantity": 2, "discount": "1.00"}, {"sku": "TEE-L"}],
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["currency"] == "EUR"
    assert body["subtotal"] == "61.30"  # 2 × 19.90 + 21.50
    assert body["discount_total"] == "1.00"
    assert body["total"] == "60.30"
    first = body["lines"][0]
    assert (first["sku"], first["offer_number"], first["category_number"]) == ("TEE-M", 101, 10)
    assert (first["unit_price"], first["quantity"], first["total"]) == ("19.90", 2, "38.80")
    assert body["lines"][1]["unit_price"] == "21.50"  # the variant's own price
    assert body["status"] == "open" and body["badge"] == "Open"
    assert body["customer"]["email"] == "ada@example.com"


def test_a_repeated_external_id_is_409_and_keeps_the_first_order(api, catalog):
    first = _create(api, external_id="S-1", source="storefront", notes="first")
    assert first.status_code == 201, first.json()
    again = _create(api, external_id="S-1", source="storefront", lines=[{"sku": "TEE-L"}])
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {"external_id": "already exists"}
    assert "use bulk ingest" in again.json()["error"]["message"]
    kept = Order.objects.get(external_id="S-1")
    assert (kept.number, kept.notes) == (first.json()["number"], "first")
    assert kept.lines.get().sku == "TEE-M"
    assert OrderEvent.objects.filter(order=kept).count() == 1
    # The same id from another source is another store's order.
    assert _create(api, external_id="S-1", source="feed").status_code == 201


def test_free_lines_need_a_currency_and_keep_their_own_price(api, db):
    r = api.post(
        "orders",
        {"currency": "JPY", "lines": [{"name": "Tea set", "unit_price": "4500", "quantity": 3}]},
    )
    assert r.status_code == 201, r.json()
    assert r.json()["total"] == "13500"  # JPY has no minor unit


def test_order_numbers_are_sequential(api, catalog):
    numbers = [_create(api).json()["number"] for _ in range(3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_client_total_that_agrees_is_accepted(api, catalog):
    r = _create(api, lines=[{"sku": "TEE-M", "quantity": 3}], total="59.70", subtotal="59.70")
    assert r.status_code == 201


@pytest.mark.parametrize("field", ["total", "subtotal", "discount_total"])
def test_client_totals_that_disagree_are_rejected(api, catalog, field):
    r = _create(api, lines=[{"sku": "TEE-M", "quantity": 3}], **{field: "1.00"})
    assert r.status_code == 422
    assert field in r.json()["error"]["fields"]
    assert Order.objects.count() == 0


def test_creating_an_order_records_a_created_event_with_its_actor(api, catalog):
    number = _create(api).json()["number"]
    events = api.get(f"orders/{number}/events").json()
    assert [e["kind"] for e in events] == ["created"]
    assert events[0]["actor_type"] == "api_key"
    assert events[0]["actor"] == "API key test writer"


def test_get_unknown_order_is_404_in_the_error_shape(api, db):
    r = api.get("orders/999999")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_update_changes_metadata_notes_and_type_and_records_what_changed(api, catalog):
    number = _create(api, metadata={"channel": "web", "locale": "pl-en"}).json()["number"]
    r = api.patch(
        f"orders/{number}",
        {"metadata": {"channel": "mobile_app"}, "notes": "call first", "order_type": "quote"},
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["metadata"] == {"channel": "mobile_app"}
    assert (body["notes"], body["order_type"]) == ("call first", "quote")
    event = api.get(f"orders/{number}/events").json()[-1]
    assert event["kind"] == "updated"
    assert event["payload"]["changed"]["metadata"] == {"set": ["channel"], "removed": ["locale"]}
    assert event["payload"]["changed"]["order_type"] == {"from": "standard", "to": "quote"}


def test_update_that_changes_nothing_records_nothing(api, catalog):
    number = _create(api, notes="same").json()["number"]
    api.patch(f"orders/{number}", {"notes": "same"})
    assert OrderEvent.objects.filter(kind="updated").count() == 0


def test_update_leaves_out_fields_not_sent(api, catalog):
    number = _create(api, metadata={"a": 1}, notes="keep").json()["number"]
    body = api.patch(f"orders/{number}", {"order_type": "sample"}).json()
    assert body["metadata"] == {"a": 1} and body["notes"] == "keep"


@pytest.mark.parametrize(
    ("action", "status", "badge"),
    [
        ("complete", "completed", "Completed"),
        ("decline", "declined", "Declined"),
        ("cancel", "cancelled", "Cancelled"),
    ],
)
def test_open_order_transitions(api, catalog, action, status, badge):
    number = _create(api).json()["number"]
    r = api.post(f"orders/{number}/{action}", {"reason": "customer asked"})
    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["badge"]) == (status, badge)
    event = api.get(f"orders/{number}/events").json()[-1]
    assert event["kind"] == "status_changed"
    assert event["payload"] == {"from": "open", "to": status, "reason": "customer asked"}


def test_transition_without_a_body_is_accepted(api, catalog):
    number = _create(api).json()["number"]
    assert api.post(f"orders/{number}/complete").status_code == 200


@pytest.mark.parametrize(
    ("first", "then", "current"),
    [
        ("cancel", "complete", "cancelled"),
        ("decline", "complete", "declined"),
        ("complete", "decline", "completed"),
        ("cancel", "cancel", "cancelled"),
    ],
)
def test_transition_not_in_the_table_is_409_naming_the_current_status(
    api, catalog, first, then, current
):
    number = _create(api).json()["number"]
    api.post(f"orders/{number}/{first}")
    events_before = OrderEvent.objects.count()
    r = api.post(f"orders/{number}/{then}")
    assert r.status_code == 409
    assert r.json()["error"]["fields"] == {"status": current}
    assert current in r.json()["error"]["message"]
    assert Order.objects.get(number=number).status == current
    assert OrderEvent.objects.count() == events_before


def test_draft_order_can_be_completed(api, catalog):
    number = _create(api, status="draft").json()["number"]
    assert api.get(f"orders/{number}").json()["badge"] == "Draft"
    assert api.post(f"orders/{number}/complete").json()["status"] == "completed"


def test_new_order_cannot_start_completed(api, catalog):
    r = _create(api, status="completed")
    assert r.status_code == 422 and "status" in r.json()["error"]["fields"]


def test_fulfil_marks_fulfilment_once(api, catalog):
    number = _create(api).json()["number"]
    r = api.post(f"orders/{number}/fulfil")
    assert r.status_code == 200
    assert (r.json()["fulfillment_status"], r.json()["badge"]) == ("fulfilled", "Fulfilled")
    again = api.post(f"orders/{number}/fulfil")
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {"fulfillment_status": "fulfilled"}


def test_cancelled_order_cannot_be_fulfilled(api, catalog):
    number = _create(api).json()["number"]
    api.post(f"orders/{number}/cancel")
    r = api.post(f"orders/{number}/fulfil")
    assert r.status_code == 409 and r.json()["error"]["fields"] == {"status": "cancelled"}


def test_line_snapshot_survives_catalog_changes(api, catalog):
    number = _create(api, lines=[{"sku": "TEE-M"}]).json()["number"]
    api.patch("offers/101", {"unit_price": "99.00", "name": "Renamed"})
    line = api.get(f"orders/{number}").json()["lines"][0]
    assert (line["unit_price"], line["name"]) == ("19.90", "Tee — M")


def test_orders_list_newest_first_with_lines(api, catalog):
    a = factories.OrderFactory(created_at="2026-01-01T10:00:00Z")
    b = factories.OrderFactory(created_at="2026-02-01T10:00:00Z")
    items = api.get("orders").json()["items"]
    assert [o["number"] for o in items] == [b.number, a.number]
    assert items[0]["lines"][0]["name"] == "Item"


def test_line_prices_are_stored_as_decimals(api, catalog):
    number = _create(api, lines=[{"sku": "TEE-M", "quantity": 3}]).json()["number"]
    line = OrderLine.objects.get(order__number=number)
    assert line.total == Decimal("59.70")
