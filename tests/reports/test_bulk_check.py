"""'Check' in bulk: many sales confirmed as attributed, in one request, and the report by
sales manager moving with them (the `march` fixture in conftest)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from ordersight.core.actors import Actor
from ordersight.orders.attribution import assign_sales_manager
from ordersight.orders.models import Order, OrderEvent
from tests import factories

SYSTEM = Actor.system()

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def _confirmed_rows(api) -> dict[tuple[str, str], str]:
    body = api.get("reports/sales", group_by="sales_manager", **MARCH).json()
    return {(r["key"], r["currency"]): r["net"] for r in body["rows"]}


def test_bulk_check_confirms_each_sale_as_attributed_and_names_each_refusal(api, march):
    open_order = Order.objects.get(status="open")
    cancelled = Order.objects.get(status="cancelled")
    sent = [march["o1"].number, march["o2"].number, march["o3"].number, cancelled.number]
    sent += [open_order.number, 999_999, march["o2"].number]
    assert _confirmed_rows(api) == {("mia", "EUR"): "79.80"}

    r = api.post("orders/sales-attribution/confirm", {"numbers": sent})

    assert r.status_code == 200, r.content
    body = r.json()
    outcome = [(item["number"], item["result"], item["fields"]) for item in body["results"]]
    assert outcome == [
        (march["o1"].number, "unchanged", {}),  # confirmed for Mia before
        (march["o2"].number, "updated", {}),
        (march["o3"].number, "updated", {}),
        (cancelled.number, "error", {"status": "cancelled"}),
        (open_order.number, "error", {"status": "open"}),
        (999_999, "error", {"number": "not found"}),
        (march["o2"].number, "error", {"number": "duplicate in request"}),
    ]
    assert (body["updated"], body["unchanged"], body["errors"]) == (2, 1, 4)
    assert "only a sale" in body["results"][3]["message"]
    # Max's proposed sale counts for him now; the storefront sale for the system.
    assert _confirmed_rows(api) == {
        ("mia", "EUR"): "79.80",
        ("max", "USD"): "300.00",
        ("system", "EUR"): "21.50",
    }
    o2 = Order.objects.get(pk=march["o2"].pk)
    assert o2.sales_manager == march["max"] and o2.sales_confirmed_at is not None
    confirmed = OrderEvent.objects.filter(kind="sales_attribution_confirmed")
    assert sorted(confirmed.values_list("order__number", "payload__manager")) == sorted(
        [(march["o1"].number, "mia"), (march["o2"].number, "max"), (march["o3"].number, "system")]
    )


def test_a_sale_named_for_someone_no_longer_a_sales_manager_is_refused(api, march):
    march["max"].is_active = False
    march["max"].save()
    r = api.post("orders/sales-attribution/confirm", {"numbers": [march["o2"].number]})
    item = r.json()["results"][0]
    assert (item["result"], item["fields"]) == (
        "error",
        {"manager_id": "not an active sales manager"},
    )
    assert "max" in item["message"]
    assert Order.objects.get(pk=march["o2"].pk).sales_confirmed_at is None
    assert _confirmed_rows(api) == {("mia", "EUR"): "79.80"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"numbers": []}, "numbers"),
        ({"numbers": ["one"]}, "numbers[0]"),
        ({"numbers": list(range(1, 10_002))}, "numbers"),
        ({}, "numbers"),
        ({"numbers": [1], "manager_id": 3}, "manager_id"),
    ],
)
def test_bad_bulk_check_input_is_refused_naming_the_field(api, march, body, field):
    r = api.post("orders/sales-attribution/confirm", body)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert (
        not OrderEvent.objects.filter(kind="sales_attribution_confirmed")
        .exclude(order=march["o1"])
        .exists()
    )


def test_bulk_check_needs_the_attribution_permission(march, roles):
    manager = factories.signed_in(roles, "Sales manager", "sam")
    r = manager.post(
        "/api/v1/orders/sales-attribution/confirm",
        {"numbers": [march["o2"].number]},
        content_type="application/json",
    )
    assert r.status_code == 403
    assert Order.objects.get(pk=march["o2"].pk).sales_confirmed_at is None


def test_check_on_the_orders_list_confirms_the_ticked_sales(march, roles):
    admin = factories.signed_in(roles, "Admin", "ana")
    open_order = Order.objects.get(status="open")
    ticked = [march["o2"].pk, march["o3"].pk, open_order.pk]
    response = admin.post("/orders/bulk/", {"action": "check", "ids": ticked})
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("2 sales checked; 1 refused: Order ")
    assert f"Order {open_order.number} is open" in message
    confirmed = Order.objects.filter(pk__in=ticked, sales_confirmed_at__isnull=False)
    assert set(confirmed.values_list("pk", flat=True)) == {march["o2"].pk, march["o3"].pk}
    assert Order.objects.get(pk=march["o2"].pk).sales_confirmed_by.username == "ana"
    again = admin.post("/orders/bulk/", {"action": "check", "ids": [march["o1"].pk, *ticked]})
    *_, message = [str(m) for m in get_messages(again.wsgi_request)]
    assert message.startswith("0 sales checked (3 were checked already); 1 refused: ")


def test_check_on_the_orders_list_needs_the_attribution_permission(march, roles):
    # A sales manager may confirm and cancel orders, but not check who made a sale.
    manager = factories.signed_in(roles, "Sales manager", "sam")
    assert manager.user.has_perm("orders.change_order")
    response = manager.post("/orders/bulk/", {"action": "check", "ids": [march["o2"].pk]})
    assert response.status_code == 403
    assert Order.objects.get(pk=march["o2"].pk).sales_confirmed_at is None


def test_a_sale_renamed_after_the_list_was_read_is_refused_not_confirmed(api, march):
    read_at = timezone.now()
    assign_sales_manager(order=march["o3"], manager_id=march["mia"].pk, actor=SYSTEM)
    r = api.post(
        "orders/sales-attribution/confirm",
        {
            "numbers": [march["o2"].number, march["o3"].number],
            "unchanged_since": read_at.isoformat(),
        },
    )
    results = r.json()["results"]
    assert [item["result"] for item in results] == ["updated", "error"]
    assert results[1]["fields"] == {"sales_manager": "changed after the list was read"}
    assert Order.objects.get(pk=march["o3"].pk).sales_confirmed_at is None


def test_the_list_sends_when_it_was_read_and_a_garbled_time_is_refused(march, roles):
    admin = factories.signed_in(roles, "Admin", "ana")
    page = admin.get("/orders/").content.decode()
    assert 'name="read_at"' in page and 'value="check"' in page
    read_at = timezone.now().isoformat()
    assign_sales_manager(order=march["o3"], manager_id=march["mia"].pk, actor=SYSTEM)
    ticked = [march["o2"].pk, march["o3"].pk]
    response = admin.post("/orders/bulk/", {"action": "check", "ids": ticked, "read_at": read_at})
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("1 sale checked; 1 refused: ") and "look at it again" in message
    garbled = admin.post("/orders/bulk/", {"action": "check", "ids": ticked, "read_at": "2026-13"})
    *_, message = [str(m) for m in get_messages(garbled.wsgi_request)]
    assert "read_at" in message
    assert Order.objects.get(pk=march["o3"].pk).sales_confirmed_at is None


def test_a_bulk_check_longer_than_a_batch_confirms_every_sale(api, march, monkeypatch):
    monkeypatch.setattr("ordersight.orders.attribution.CONFIRM_BATCH", 1)
    numbers = [march[name].number for name in ("o5", "o1", "o2", "o3")]
    body = api.post("orders/sales-attribution/confirm", {"numbers": numbers}).json()
    assert (body["updated"], body["unchanged"], body["errors"]) == (3, 1, 0)
    assert _confirmed_rows(api) == {
        ("mia", "EUR"): "79.80",
        ("max", "USD"): "300.00",
        ("system", "EUR"): "21.50",
    }


def test_a_bulk_check_sent_with_an_idempotency_key_is_answered_once(api, march, monkeypatch):
    """With the key the whole request is one transaction (its answer is kept with it): the
    batches then commit together, every order locked first, and a replay changes nothing."""
    monkeypatch.setattr("ordersight.orders.attribution.CONFIRM_BATCH", 1)
    numbers = [march[name].number for name in ("o2", "o3")]
    key = {"Idempotency-Key": "check-march"}
    first = api.post("orders/sales-attribution/confirm", {"numbers": numbers}, headers=key)
    again = api.post("orders/sales-attribution/confirm", {"numbers": numbers}, headers=key)
    assert first.json()["updated"] == 2 and again.json() == first.json()
    assert OrderEvent.objects.filter(kind="sales_attribution_confirmed").count() == 3
