"""Cancelling an order that holds captured money is a judgement about money: it needs the
permission to decline such an order (or a refund first), on the API and on the page alike."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ordersight.campaigns import services as campaigns
from ordersight.campaigns.models import Conversion
from ordersight.core.actors import Actor
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services as payments
from ordersight.payments.models import Invoice, PaymentSystem
from ordersight.promotions import services as promotions
from ordersight.promotions.models import DiscountCode, Redemption
from ordersight.reports.selectors import SalesQuery, totals
from tests import factories

SYSTEM = Actor.system()
PERMISSION = "payments.confirm_partial_payments"
MARCH = SalesQuery(start=date(2026, 3, 1), end=date(2026, 3, 31), include_unconfirmed=True)


@pytest.fixture
def paid_sale(db, catalog) -> Order:
    """A completed EUR order, paid in full, with a discount code and a creator's coupon."""
    bank = PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")
    spring = campaigns.create_campaign(
        name="Spring",
        starts_on=date(2026, 1, 1),
        commission_kind="percent",
        commission_percent="10",
        actor=SYSTEM,
    )
    anna = campaigns.create_creator(name="Anna", handle="anna", actor=SYSTEM)
    campaigns.add_member(
        campaign=spring,
        creator=anna,
        coupon_codes=["ANNA10"],
        actor=SYSTEM,
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    promotions.create_discount_code(code="SPRING", kind="percent", percent="10", actor=SYSTEM)
    order = create_order(
        data=OrderInput(
            lines=[LineInput(sku="TEE-M", quantity=2)],
            coupon_code="ANNA10",
            created_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
        ),
        actor=SYSTEM,
    )
    promotions.redeem_code(order=order, code="SPRING", actor=SYSTEM)
    payments.record_manual_payment(order=order, payment_system=bank, actor=SYSTEM)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("completed", "paid")
    return order


def _client(roles, role: str):
    return factories.signed_in(roles, role, role.replace(" ", "_").lower())


def _sale_state(order: Order) -> tuple:
    order.refresh_from_db()
    return (
        order.status,
        order.payment_status,
        DiscountCode.objects.get(code="SPRING").redeemed,
        Conversion.objects.get(order=order).status,
        totals(query=MARCH).get("EUR"),
    )


def test_a_sales_manager_cannot_cancel_a_paid_sale_through_the_api(roles, paid_sale):
    before = _sale_state(paid_sale)
    r = _client(roles, "Sales manager").post(
        f"/api/v1/orders/{paid_sale.number}/cancel", {}, content_type="application/json"
    )
    assert r.status_code == 403, r.content
    assert r.json()["error"]["fields"] == {"permission": PERMISSION}
    assert "refund it first" in r.json()["error"]["message"]
    assert _sale_state(paid_sale) == before
    assert before[:4] == ("completed", "paid", 1, "paid") and before[4].orders == 1


def test_a_sales_manager_cannot_cancel_a_paid_sale_on_its_page(roles, paid_sale):
    client = _client(roles, "Sales manager")
    page = client.get(f"/orders/{paid_sale.number}/")
    assert b"Cancel order" not in page.content  # the page offers only what the role may do
    before = _sale_state(paid_sale)
    r = client.post(f"/orders/{paid_sale.number}/cancel/")
    assert r.status_code == 403
    assert PERMISSION in r.content.decode()
    assert _sale_state(paid_sale) == before


def test_an_admin_cancels_a_paid_sale_and_everything_it_counted_is_given_back(roles, paid_sale):
    r = _client(roles, "Admin").post(
        f"/api/v1/orders/{paid_sale.number}/cancel", {}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    order_status, payment_status, redeemed, conversion, sales = _sale_state(paid_sale)
    # The money stays captured until someone refunds it; everything the sale counted goes.
    assert (order_status, payment_status, redeemed, conversion) == (
        "cancelled",
        "paid",
        0,
        "canceled",
    )
    assert sales is None  # the sale left the reports
    assert Redemption.objects.get(order=paid_sale).status == "rolled_back"


def test_a_sales_manager_cancels_a_sale_once_its_money_is_refunded(roles, paid_sale):
    invoice = Invoice.objects.get(order=paid_sale)
    payments.refund_invoice(invoice=invoice, amount=invoice.amount, actor=SYSTEM)
    client = _client(roles, "Sales manager")
    assert b"Cancel order" in client.get(f"/orders/{paid_sale.number}/").content
    r = client.post(
        f"/api/v1/orders/{paid_sale.number}/cancel", {}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    assert _sale_state(paid_sale) == ("cancelled", "unpaid", 0, "canceled", None)


def test_a_sales_manager_still_cancels_an_unpaid_order(roles, catalog):
    order = create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=SYSTEM)
    r = _client(roles, "Sales manager").post(
        f"/api/v1/orders/{order.number}/cancel", {}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "cancelled"
    assert Decimal(r.json()["total"]) == Decimal("19.90")


def test_an_order_refunded_in_full_has_captured_money_but_holds_none(paid_sale):
    # The two questions have two names: declining asks whether money was ever taken,
    # cancelling whether any is still kept once refunds are taken off.
    assert paid_sale.has_ever_captured_money and paid_sale.holds_money_net_of_refunds
    invoice = Invoice.objects.get(order=paid_sale)
    payments.refund_invoice(invoice=invoice, amount=invoice.amount, actor=SYSTEM)
    paid_sale.refresh_from_db()
    assert paid_sale.has_ever_captured_money
    assert not paid_sale.holds_money_net_of_refunds
