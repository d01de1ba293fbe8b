"""The recurring orders API, from outside: create, list, detail, status changes, bad input."""

from __future__ import annotations

import csv as csv_module
import io
from datetime import timedelta

import pytest

from ordersight.payments.models import PaymentSystem
from ordersight.subscriptions.billing import billing_pass
from ordersight.subscriptions.models import RecurringEvent, RecurringOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def body(catalog, customer):
    PaymentSystem.objects.create(code="cards", name="Acme Cards", provider="test")
    return {
        "customer_id": customer.pk,
        "offer": catalog["tee"].number,
        "amount": "25.00",
        "interval_count": 1,
        "interval_unit": "month",
        "total_payments": 3,
        "payment_system": "cards",
        "payment_token": "tok_success",
    }


def test_create_charges_the_initial_order_at_once(api, body):
    response = api.post("/api/v1/recurring-orders", body)
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["status"] == "active"
    assert made["currency"] == "EUR" and made["amount"] == "25.00"
    assert made["payments_made"] == 1 and made["payments_remaining"] == 2
    assert made["payment_token"] == "…cess"  # never shown in full
    (initial,) = made["child_orders"]
    assert initial["status"] == "completed" and initial["total"] == "25.00"
    assert initial["payment_system"] == "cards"
    order = api.get(f"/api/v1/orders/{initial['number']}").json()
    assert order["order_type"] == "recurring" and order["source"] == "subscription"


def test_a_declined_initial_payment_is_a_402_naming_the_token(api, body):
    response = api.post("/api/v1/recurring-orders", {**body, "payment_token": "tok_hard_decline"})
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "payment_declined" and "payment_token" in error["fields"]
    # It never started, so the tab does not list it; its declined order stays on record.
    assert api.get("/api/v1/recurring-orders").json()["items"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"interval_count": 0}, "interval_count"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"interval_unit": "year"}, "interval_unit"),
        ({"total_payments": 0}, "total_payments"),
        ({"currency": "XXZ"}, "currency"),
        ({"offer": 999}, "offer"),
        ({"customer_id": 999999}, "customer_id"),
        ({"payment_system": "nope"}, "payment_system"),
        ({"payment_token": ""}, "payment_token"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(api, body, change, field):
    response = api.post("/api/v1/recurring-orders", {**body, **change})
    assert response.status_code == 422, response.content
    assert any(field in name for name in response.json()["error"]["fields"]), response.json()
    assert not RecurringOrder.objects.exists()


def test_a_manual_payment_system_cannot_hold_a_card(api, body):
    PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")
    response = api.post("/api/v1/recurring-orders", {**body, "payment_system": "bank"})
    assert response.status_code == 422
    assert "payment_system" in response.json()["error"]["fields"]


def _make(api, body, **change) -> dict:
    response = api.post("/api/v1/recurring-orders", {**body, **change})
    assert response.status_code == 201, response.content
    return response.json()


def test_pause_activate_complete_and_their_refusals(api, body):
    number = _make(api, body)["number"]
    url = f"/api/v1/recurring-orders/{number}"
    assert api.post(f"{url}/pause").json()["status"] == "paused"
    assert api.post(f"{url}/pause").status_code == 409  # already paused
    assert api.post(f"{url}/activate").json()["status"] == "active"
    assert api.post(f"{url}/complete").json()["status"] == "completed"
    before = RecurringEvent.objects.count()
    for action in ("pause", "activate", "complete"):
        response = api.post(f"{url}/{action}")
        assert response.status_code == 409, action
        assert response.json()["error"]["fields"] == {"status": "completed"}
    assert RecurringEvent.objects.count() == before  # nothing changed
    kinds = list(RecurringEvent.objects.values_list("kind", "actor_label"))
    assert ("paused", "API key test writer") in kinds


def test_a_failed_order_is_activated_only_after_a_new_payment_method(api, body):
    made = _make(api, body)
    number = made["number"]
    url = f"/api/v1/recurring-orders/{number}"
    api.put(f"{url}/payment-method", {"payment_token": "tok_insufficient_funds"})
    recurring = RecurringOrder.objects.get(number=number)
    at = recurring.next_payment_at
    for wait in (timedelta(0), timedelta(days=1), timedelta(days=4)):
        billing_pass(at=at + wait)
    detail = api.get(url).json()
    assert detail["status"] == "failed" and detail["needs_new_payment_method"]
    refused = api.post(f"{url}/activate")
    assert refused.status_code == 409
    assert "payment_token" in refused.json()["error"]["fields"]
    assert api.get(url).json()["status"] == "failed"

    replaced = api.put(f"{url}/payment-method", {"payment_token": "tok_success"})
    assert replaced.status_code == 200 and not replaced.json()["needs_new_payment_method"]
    assert api.post(f"{url}/activate").json()["status"] == "active"
    billing_pass(at=at + timedelta(days=4, minutes=1))
    detail = api.get(url).json()
    assert detail["payments_made"] == 2
    statuses = [c["status"] for c in detail["child_orders"]]
    # Initial order first; the declined order of the failed payment; the new one that paid.
    assert statuses == ["completed", "declined", "completed"]


def test_list_filters_detail_and_export(api, body, catalog):
    first = _make(api, body)
    second = _make(api, body, total_payments=None, interval_unit="week")
    api.post(f"/api/v1/recurring-orders/{first['number']}/pause")
    paused = api.get("/api/v1/recurring-orders", status="paused").json()["items"]
    assert [r["number"] for r in paused] == [first["number"]]
    open_ended = api.get("/api/v1/recurring-orders", open_ended="true").json()["items"]
    assert [r["number"] for r in open_ended] == [second["number"]]
    assert api.get("/api/v1/recurring-orders", status="nope").status_code == 422
    assert api.get("/api/v1/recurring-orders", colour="red").status_code == 422
    csv = api.get("/api/v1/recurring-orders/export.csv", status="active")
    rows = list(csv_module.reader(io.StringIO(b"".join(csv.streaming_content).decode())))
    assert rows[0][:3] == ["number", "status", "customer_id"]
    assert len(rows) == 2 and rows[1][:2] == [str(second["number"]), "active"]
    assert api.get("/api/v1/recurring-orders/424242").status_code == 404


def test_retry_settings(api):
    assert api.get("/api/v1/recurring-settings").json() == {"retry_intervals": ["1d", "3d"]}
    changed = api.put("/api/v1/recurring-settings", {"retry_intervals": ["30m", "2h"]})
    assert changed.json() == {"retry_intervals": ["30m", "2h"]}
    for bad in (["1d"], ["0m", "1h"], ["soon", "1d"], ["1d", "2d", "3d"]):
        response = api.put("/api/v1/recurring-settings", {"retry_intervals": bad})
        assert response.status_code == 422, bad
        assert any("retry_intervals" in f for f in response.json()["error"]["fields"])
    assert api.get("/api/v1/recurring-settings").json() == {"retry_intervals": ["30m", "2h"]}


def test_status_changes_need_the_permission(roles, body, api):
    from tests import factories

    number = _make(api, body)["number"]
    manager = factories.signed_in(roles, "Sales manager", "sam")
    response = manager.post(f"/api/v1/recurring-orders/{number}/pause")
    assert response.status_code == 403
    assert response.json()["error"]["fields"] == {
        "permission": "subscriptions.manage_recurring_status"
    }
    assert manager.get(f"/api/v1/recurring-orders/{number}").status_code == 200
