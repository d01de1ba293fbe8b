"""Regression tests for the defects found when the project was tried from outside.

Each one failed before the order lifecycle and the rules moved into the services.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest
from django.test import Client

from ordersight.core.actors import Actor
from ordersight.orders.ingest import upsert_orders
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services as payments
from ordersight.payments.models import Invoice, InvoiceStatus, PaymentSystem
from tests import factories

SYSTEM = Actor.system()


def _api(client: Client, path: str, body=None, method: str = "post"):
    return getattr(client, method)(
        f"/api/v1/{path}", data=body if body is not None else {}, content_type="application/json"
    )


@pytest.fixture
def card(db) -> PaymentSystem:
    return PaymentSystem.objects.create(code="card", name="Acme Cards", provider="test")


@pytest.fixture
def admin(roles) -> Client:
    return factories.signed_in(roles, "Admin", "alice")


@pytest.fixture
def manager(roles) -> Client:
    return factories.signed_in(roles, "Sales manager", "mia")


@pytest.fixture
def other_manager(roles) -> Client:
    return factories.signed_in(roles, "Sales manager", "max")


def _resend(post, customer=None, external_id: str = "web-1", **fields) -> dict:
    """Send one order through `POST /orders/bulk` (by an API key or a session); its result."""
    item = {"source": "storefront", "external_id": external_id, "lines": [{"sku": "COURSE-1"}]}
    if customer is not None:
        item["customer_id"] = customer.pk
    r = post("orders/bulk", {"orders": [item | fields]})
    assert r.status_code == 200, r.content
    return r.json()["results"][0]


def _course_ingested(external_id: str = "web-1", **extra) -> OrderInput:
    return OrderInput(
        source="storefront", external_id=external_id, lines=[LineInput(sku="COURSE-1")], **extra
    )


def _pay(order: Order, card: PaymentSystem, amounts: list[str]) -> Order:
    """Invoice the order in these amounts and pay the first one by card."""
    invoices = payments.issue_invoices(
        order=order, amounts=[Decimal(a) for a in amounts], actor=SYSTEM
    )
    payments.charge_invoice(
        invoice=invoices[0], payment_system=card, card_token="tok_success", actor=SYSTEM
    )
    order.refresh_from_db()
    return order


@pytest.fixture
def partly_paid(catalog, customer, card) -> Order:
    """A USD course order of 300.00 with 250.00 captured: open and partially paid."""
    (result,) = upsert_orders(items=[_course_ingested(customer_id=customer.pk)], actor=SYSTEM)
    order = _pay(Order.objects.get(number=result.number), card, ["250.00", "50.00"])
    assert (order.status, order.payment_status) == ("open", "partially_paid")
    return order


# -- Bulk re-ingest leaves payment state stale --------------------------------------------


def test_bulk_reingest_with_a_lower_total_makes_the_order_overpaid_and_completed(api, partly_paid):
    item = _resend(
        api.post,
        partly_paid.customer,
        currency="USD",
        lines=[{"name": "Course, discounted", "unit_price": "100.00"}],
    )
    assert item["result"] == "updated", item
    order = api.get(f"orders/{partly_paid.number}").json()
    assert order["total"] == "100.00"
    assert (order["payment_status"], order["status"]) == ("overpaid", "completed")
    kinds = [e["kind"] for e in api.get(f"orders/{partly_paid.number}/events").json()]
    # Nothing is due any more: the pending 50.00 is voided before the order is settled.
    assert kinds[-4:] == [
        "lines_replaced",
        "invoices_adjusted",
        "payment_status_changed",
        "status_changed",
    ]
    (pending,) = Invoice.objects.filter(order=partly_paid, amount=Decimal("50.00"))
    assert (pending.status, pending.failure_code) == ("failed", "reissued")


def test_bulk_reingest_with_a_higher_total_asks_for_the_difference_too(catalog, customer, card):
    (result,) = upsert_orders(items=[_course_ingested(customer_id=customer.pk)], actor=SYSTEM)
    order = Order.objects.get(number=result.number)
    (first,) = payments.issue_invoices(order=order, amounts=[Decimal("300.00")], actor=SYSTEM)
    # Still open: lines may change. The pending invoice follows the new total.
    again = _course_ingested(customer_id=customer.pk, currency="USD")
    again.lines = [LineInput(name="Course and workbook", unit_price=Decimal("340.00"))]
    (result,) = upsert_orders(items=[again], actor=SYSTEM)
    assert result.result == "updated"
    first.refresh_from_db()
    assert (first.status, first.failure_code) == ("failed", "reissued")
    payments.charge_invoice(
        invoice=Invoice.objects.get(order=order, status="pending"),
        payment_system=card,
        card_token="tok_success",
        actor=SYSTEM,
    )
    order.refresh_from_db()
    assert (order.total, order.payment_status, order.status) == (
        Decimal("340.00"),
        "paid",
        "completed",
    )


# -- Bulk ingest bypasses permissions ------------------------------------------------------


def _completed_confirmed(admin: Client, catalog, customer, card, manager_user) -> Order:
    (result,) = upsert_orders(items=[_course_ingested(customer_id=customer.pk)], actor=SYSTEM)
    order = _pay(Order.objects.get(number=result.number), card, ["300.00"])
    assert order.status == "completed"
    r = _api(
        admin,
        f"orders/{order.number}/sales-attribution/confirm",
        {"manager_id": manager_user.pk},
    )
    assert r.status_code == 200, r.content
    return order


def test_a_sales_manager_cannot_reattribute_an_order_through_bulk_ingest(
    admin, manager, other_manager, catalog, customer, card
):
    order = _completed_confirmed(admin, catalog, customer, card, manager.user)
    refused = _api(
        manager, f"orders/{order.number}/sales-attribution/confirm", {"manager_id": None}
    )
    assert refused.status_code == 403
    item = _resend(partial(_api, manager), customer, sales_manager_id=other_manager.user.pk)
    assert item["result"] == "error"
    assert item["fields"] == {"permission": "orders.manage_sales_attribution"}
    order.refresh_from_db()
    assert order.sales_manager == manager.user
    assert order.sales_confirmed_by == admin.user and order.sales_confirmed_at is not None


def test_reattribution_through_bulk_ingest_clears_the_confirmation(
    admin, manager, other_manager, catalog, customer, card, api
):
    order = _completed_confirmed(admin, catalog, customer, card, manager.user)
    item = _resend(api.post, customer, status="completed", sales_manager_id=other_manager.user.pk)
    assert item["result"] == "updated", item
    order.refresh_from_db()
    assert order.sales_manager == other_manager.user
    assert order.sales_confirmed_by is None and order.sales_confirmed_at is None


def test_bulk_ingest_that_names_nobody_keeps_the_confirmed_attribution(
    admin, manager, catalog, customer, card, api
):
    order = _completed_confirmed(admin, catalog, customer, card, manager.user)
    item = _resend(api.post, customer, status="completed", notes="gift")
    assert item["result"] == "updated", item
    order.refresh_from_db()
    assert order.sales_manager == manager.user and order.sales_confirmed_at is not None


def test_a_sales_manager_cannot_complete_an_unpaid_order_through_bulk_ingest(
    manager, catalog, customer
):
    (result,) = upsert_orders(items=[_course_ingested(customer_id=customer.pk)], actor=SYSTEM)
    item = _resend(partial(_api, manager), customer, status="completed")
    assert item["result"] == "error"
    assert item["fields"] == {"permission": "payments.confirm_partial_payments"}
    assert Order.objects.get(number=result.number).status == "open"


def test_bulk_ingest_status_changes_follow_the_transition_table(api, catalog, customer):
    upsert_orders(
        items=[_course_ingested(customer_id=customer.pk, status="cancelled")], actor=SYSTEM
    )
    item = _resend(api.post, customer, status="open")
    assert item["result"] == "error" and "cannot become open" in item["message"]


# -- Complete bypasses "confirm partial payments" ------------------------------------------


def test_a_sales_manager_cannot_complete_a_partially_paid_order(manager, admin, partly_paid):
    n = partly_paid.number
    for path in (f"orders/{n}/confirm", f"orders/{n}/complete"):
        r = _api(manager, path)
        assert r.status_code == 403, (path, r.content)
        assert r.json()["error"]["fields"] == {"permission": "payments.confirm_partial_payments"}
    page = manager.get(f"/orders/{n}/")
    assert b">Complete</button>" not in page.content
    assert b"Confirm partial payments" not in page.content
    assert manager.post(f"/orders/{n}/complete/").status_code == 403
    assert manager.post(f"/orders/{n}/confirm/").status_code == 403
    partly_paid.refresh_from_db()
    assert partly_paid.status == "open"
    # Someone with the permission sees the buttons and may complete it.
    assert b">Complete</button>" in admin.get(f"/orders/{n}/").content
    assert _api(admin, f"orders/{n}/complete").json()["status"] == "completed"


def test_a_sales_manager_can_still_complete_nothing_unpaid_but_can_cancel(manager, catalog):
    order = create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=SYSTEM)
    assert _api(manager, f"orders/{order.number}/complete").status_code == 403
    assert _api(manager, f"orders/{order.number}/cancel").json()["status"] == "cancelled"


def test_declining_an_order_that_took_money_needs_the_permission(manager, admin, partly_paid):
    n = partly_paid.number
    assert _api(manager, f"orders/{n}/decline").status_code == 403
    assert manager.post(f"/orders/{n}/decline/").status_code == 403
    assert b'data-testid="decline"' not in manager.get("/orders/").content
    r = _api(admin, f"orders/{n}/decline")
    assert r.json()["status"] == "declined"
    pending = Invoice.objects.get(order=partly_paid, amount=Decimal("50.00"))
    assert pending.status == InvoiceStatus.FAILED and pending.failure_code == "order_declined"


# -- Sales plan: API and UI disagree -------------------------------------------------------


@pytest.mark.parametrize("named_role", ["Viewer", "Owner", "Sales manager"])
def test_a_sales_manager_cannot_name_someone_else_in_a_sales_plan(
    roles, manager, catalog, customer, named_role
):
    named = factories.signed_in(roles, named_role, "named").user
    api = _api(
        manager,
        f"customers/{customer.pk}/sales-plan",
        {"offer_number": 201, "manager_id": named.pk},
    )
    assert api.status_code == 403
    assert api.json()["error"]["fields"] == {"permission": "orders.manage_sales_attribution"}
    page = manager.post(
        f"/customers/{customer.pk}/sales-plan/", {"offer": 201, "manager": named.pk}
    )
    assert page.status_code == 403
    assert b"orders.manage_sales_attribution" in page.content
    assert not customer.sales_plan.exists()


@pytest.mark.parametrize("named_role", ["Viewer", "Owner"])
def test_only_a_sales_manager_can_be_named_even_by_an_admin(
    roles, admin, catalog, customer, named_role
):
    named = factories.signed_in(roles, named_role, "named").user
    api = _api(
        admin, f"customers/{customer.pk}/sales-plan", {"offer_number": 201, "manager_id": named.pk}
    )
    assert api.status_code == 422
    assert api.json()["error"]["fields"] == {"manager_id": "not an active sales manager"}
    page = admin.post(
        f"/customers/{customer.pk}/sales-plan/", {"offer": 201, "manager": named.pk}, follow=True
    )
    assert b"not an active sales manager" in page.content
    assert not customer.sales_plan.exists()


def test_a_sales_manager_records_their_own_sales_plan_in_both(manager, catalog, customer):
    api = _api(manager, f"customers/{customer.pk}/sales-plan", {"offer_number": 201})
    assert api.status_code == 201 and api.json()["manager"] == "mia"
    page = manager.post(f"/customers/{customer.pk}/sales-plan/", {"offer": 101})
    assert page.status_code == 302
    assert customer.sales_plan.count() == 2


# -- One definition of "can be confirmed" --------------------------------------------------


def test_a_partially_paid_draft_can_be_confirmed_everywhere(admin, catalog, card):
    draft = create_order(
        data=OrderInput(lines=[LineInput(sku="COURSE-1")], status="draft"), actor=SYSTEM
    )
    draft = _pay(draft, card, ["100.00", "200.00"])
    assert (draft.status, draft.payment_status) == ("draft", "partially_paid")
    assert draft.can_be_confirmed
    assert b'data-testid="confirm"' in admin.get("/orders/").content
    assert b"Confirm partial payments" in admin.get(f"/orders/{draft.number}/").content
    assert _api(admin, f"orders/{draft.number}/confirm").json()["status"] == "completed"


def test_an_unpaid_or_paid_order_cannot_be_confirmed(admin, catalog, card):
    unpaid = create_order(data=OrderInput(lines=[LineInput(sku="COURSE-1")]), actor=SYSTEM)
    r = _api(admin, f"orders/{unpaid.number}/confirm")
    assert r.status_code == 409
    assert b"Confirm partial payments" not in admin.get(f"/orders/{unpaid.number}/").content


def test_a_sales_manager_cannot_import_a_new_order_as_already_completed(manager, catalog):
    r = _api(
        manager,
        "orders/bulk",
        {
            "orders": [
                {
                    "source": "storefront",
                    "external_id": "new-1",
                    "lines": [{"sku": "TEE-M"}],
                    "status": "completed",
                },
                {
                    "source": "storefront",
                    "external_id": "new-2",
                    "lines": [{"sku": "TEE-M"}],
                    "status": "cancelled",
                },
            ]
        },
    )
    first, second = r.json()["results"]
    assert first["result"] == "error"
    assert first["fields"] == {"permission": "payments.confirm_partial_payments"}
    assert second["result"] == "created"
    assert not Order.objects.filter(external_id="new-1").exists()
