"""'Check' in bulk: many sales confirmed as attributed, in one request, and the report by
sales manager moving with them (the `march` fixture in conftest)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from ordersight.orders.models import Order, OrderEvent
from tests import factories

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
        (march["o2"].number, "updated", {}),  # named twice, confirmed once
    ]
    assert (body["updated"], body["unchanged"], body["errors"]) == (3, 1, 3)
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


def test_check_on_the_orders_list_needs_the_attribution_permission(march, roles):
    viewer = factories.signed_in(roles, "Viewer", "vic")
    response = viewer.post("/orders/bulk/", {"action": "check", "ids": [march["o2"].pk]})
    assert response.status_code == 403
    assert Order.objects.get(pk=march["o2"].pk).sales_confirmed_at is None
