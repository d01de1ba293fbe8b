"""Pending invoices follow the order's total: a discount, new lines or a payment made outside
them re-issue them for what is still due; a cancelled order's are voided; while one is with
the payment provider, a change it cannot follow is refused, naming it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordersight.core.actors import Actor
from ordersight.orders.models import Order
from ordersight.payments.models import Invoice
from ordersight.promotions import services as promotions
from ordersight.promotions.models import DiscountCode, Redemption
from tests import factories

SYSTEM = Actor.system()


@pytest.fixture
def ten_off(db):
    return promotions.create_discount_code(code="TEN", kind="percent", percent="10", actor=SYSTEM)


def _order(api, *lines, currency="EUR", external_id=None) -> int:
    body = {"currency": currency, "lines": list(lines)}
    if external_id:
        body.update(external_id=external_id, source="shopify")
        r = api.post("orders/bulk", {"orders": [body]})
        assert r.status_code == 200, r.content
        return r.json()["results"][0]["number"]
    r = api.post("orders", body)
    assert r.status_code == 201, r.content
    return r.json()["number"]


JACKET = {"name": "Jacket", "unit_price": "299.90"}


def _invoices(number: int) -> list[tuple[str, str, str]]:
    return [
        (i.status, str(i.amount.quantize(Decimal("0.01"))), i.failure_code)
        for i in Invoice.objects.filter(order__number=number).order_by("number")
    ]


def _pending(number: int) -> list[Invoice]:
    return list(
        Invoice.objects.filter(order__number=number, status="pending").order_by("installment")
    )


def test_a_discount_re_issues_the_pending_invoice_and_charging_it_pays_exactly(api, card, ten_off):
    n = _order(api, JACKET)
    (first,) = api.post(f"orders/{n}/invoices", {}).json()
    assert first["amount"] == "299.90"
    r = api.post(f"orders/{n}/discount-code", {"code": "TEN"})
    assert r.status_code == 201, r.content
    order = Order.objects.get(number=n)
    assert order.total == Decimal("269.91")
    assert _invoices(n) == [("failed", "299.90", "reissued"), ("pending", "269.91", "")]
    (new,) = _pending(n)
    old = Invoice.objects.get(number=first["number"])
    assert str(new.number) in old.failure_message
    event = order.events.get(kind="invoices_adjusted")
    assert event.payload["voided"] == [first["number"]]
    assert event.payload["invoices"] == [new.number]
    assert event.payload["asked"] == {"from": "299.90", "to": "269.91"}
    assert "299.90 to 269.91" in event.payload["reason"]
    charged = api.post(
        f"invoices/{new.number}/charge", {"payment_system": "card", "card_token": "tok_success"}
    )
    assert charged.status_code == 200, charged.content
    assert charged.json()["payment_percent"] == "100.00"
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("completed", "paid")
    # The voided invoice asks for nothing: it is neither charged nor retried.
    assert (
        api.post(
            f"invoices/{old.number}/charge", {"payment_system": "card", "card_token": "tok_success"}
        ).status_code
        == 409
    )
    assert api.post(f"invoices/{old.number}/retry").status_code == 409


def test_a_discount_applied_on_the_order_page_re_issues_the_pending_invoice(
    api, roles, card, ten_off
):
    n = _order(api, JACKET)
    api.post(f"orders/{n}/invoices", {})
    admin = factories.signed_in(roles, "Admin", "ada")
    r = admin.post(f"/orders/{n}/discount-code/", {"code": "TEN"}, follow=True)
    assert "took €29.99 off" in r.content.decode()
    assert [i.amount for i in _pending(n)] == [Decimal("269.91")]
    activity = admin.get(f"/orders/{n}/part/activity/").content.decode()
    page = admin.get(f"/orders/{n}/").content.decode()
    (new,) = _pending(n)
    assert f"re-issued as invoice {new.number}; asking €269.91 instead of €299.90" in activity
    assert "Void" in page and f"Re-issued as invoice {new.number}" in page


def test_installments_each_take_their_share_of_a_discount(api, catalog, ten_off):
    n = _order(api, {"sku": "COURSE-1"}, currency="USD")
    api.post(f"orders/{n}/invoices", {"amounts": ["100.00", "150.00", "50.00"]})
    assert api.post(f"orders/{n}/discount-code", {"code": "TEN"}).status_code == 201
    pending = _pending(n)
    assert [(i.installment, i.amount) for i in pending] == [
        (1, Decimal("90.00")),
        (2, Decimal("135.00")),
        (3, Decimal("45.00")),
    ]
    assert Order.objects.get(number=n).total == Decimal("270.00")


def test_a_discount_is_refused_while_an_invoice_is_with_the_payment_provider(api, card, ten_off):
    n = _order(api, JACKET)
    (first,) = api.post(f"orders/{n}/invoices", {}).json()
    unknown = api.post(
        f"invoices/{first['number']}/charge",
        {"payment_system": "card", "card_token": "tok_gateway_error"},
    )
    assert unknown.status_code == 503  # the charge went out; its result is not known
    r = api.post(f"orders/{n}/discount-code", {"code": "TEN"})
    assert r.status_code == 409, r.content
    error = r.json()["error"]
    assert error["fields"] == {"invoice": f"{first['number']} is with the payment provider"}
    assert f"Invoice {first['number']}" in error["message"]
    # Nothing changed: the total, the invoice, the code's uses.
    assert Order.objects.get(number=n).total == Decimal("299.90")
    assert _invoices(n) == [("pending", "299.90", "")]
    assert DiscountCode.objects.get(code="TEN").redeemed == 0
    assert not Redemption.objects.exists()


def test_lines_replaced_by_a_re_sent_order_move_its_pending_invoice(api, catalog):
    n = _order(api, {"sku": "TEE-M"}, external_id="s-1")
    api.post(f"orders/{n}/invoices", {})
    resend = {"external_id": "s-1", "source": "shopify", "currency": "EUR"}
    r = api.post(
        "orders/bulk", {"orders": [{**resend, "lines": [{"sku": "TEE-M", "quantity": 3}]}]}
    )
    assert r.json()["results"][0]["result"] == "updated"
    assert [i.amount for i in _pending(n)] == [Decimal("59.70")]
    api.post("orders/bulk", {"orders": [{**resend, "lines": [{"sku": "TEE-M", "quantity": 2}]}]})
    assert [i.amount for i in _pending(n)] == [Decimal("39.80")]
    assert _invoices(n)[:2] == [("failed", "19.90", "reissued"), ("failed", "59.70", "reissued")]


def test_a_re_sent_order_whose_invoice_is_with_the_provider_is_refused_naming_it(api, card):
    n = _order(api, JACKET, external_id="s-1")
    (first,) = api.post(f"orders/{n}/invoices", {}).json()
    api.post(
        f"invoices/{first['number']}/charge",
        {"payment_system": "card", "card_token": "tok_gateway_error"},
    )
    cheaper = {**JACKET, "unit_price": "199.90"}
    r = api.post(
        "orders/bulk",
        {
            "orders": [
                {"external_id": "s-1", "source": "shopify", "currency": "EUR", "lines": [cheaper]}
            ]
        },
    )
    result = r.json()["results"][0]
    assert result["result"] == "error"
    assert result["fields"] == {"invoice": f"{first['number']} is with the payment provider"}
    assert Order.objects.get(number=n).total == Decimal("299.90")


def test_an_invoiced_order_cannot_change_currency(api, catalog):
    n = _order(api, {"name": "Tea", "unit_price": "45.00"}, external_id="s-1")
    api.post(f"orders/{n}/invoices", {})
    r = api.post(
        "orders/bulk",
        {
            "orders": [
                {
                    "external_id": "s-1",
                    "source": "shopify",
                    "currency": "USD",
                    "lines": [{"name": "Tea", "unit_price": "45.00"}],
                }
            ]
        },
    )
    assert r.json()["results"][0]["fields"] == {"currency": "invoiced in EUR"}
    assert Order.objects.get(number=n).currency == "EUR"


def test_a_cancelled_order_voids_its_pending_invoices(api, card):
    n = _order(api, JACKET)
    api.post(f"orders/{n}/invoices", {})
    assert api.post(f"orders/{n}/cancel", {}).status_code == 200
    assert _invoices(n) == [("failed", "299.90", "order_cancelled")]
    assert Order.objects.get(number=n).events.filter(kind="invoices_adjusted").exists()


def test_an_order_is_not_cancelled_while_its_invoice_is_with_the_provider(api, card):
    n = _order(api, JACKET)
    (first,) = api.post(f"orders/{n}/invoices", {}).json()
    api.post(
        f"invoices/{first['number']}/charge",
        {"payment_system": "card", "card_token": "tok_gateway_error"},
    )
    r = api.post(f"orders/{n}/cancel", {})
    assert r.status_code == 409
    assert r.json()["error"]["fields"] == {
        "invoice": f"{first['number']} is with the payment provider"
    }
    assert Order.objects.get(number=n).status == "open"


def test_a_manual_payment_outside_the_pending_invoices_leaves_them_asking_for_the_rest(
    api, catalog, bank, card
):
    n = _order(api, {"sku": "COURSE-1"}, currency="USD")
    (whole,) = api.post(f"orders/{n}/invoices", {}).json()
    r = api.post(f"orders/{n}/payments/manual", {"payment_system": "bank", "amount": "100.00"})
    assert r.status_code == 201, r.content
    (rest,) = _pending(n)
    assert rest.amount == Decimal("200.00")
    assert Invoice.objects.get(number=whole["number"]).failure_code == "reissued"
    api.post(
        f"invoices/{rest.number}/charge", {"payment_system": "card", "card_token": "tok_success"}
    )
    order = Order.objects.get(number=n)
    assert (order.status, order.payment_status) == ("completed", "paid")


def test_a_retry_never_invoices_what_another_invoice_already_asks_for(api, catalog, card):
    n = _order(api, {"sku": "COURSE-1"}, currency="USD")
    (first,) = api.post(f"orders/{n}/invoices", {}).json()
    api.post(
        f"invoices/{first['number']}/charge",
        {"payment_system": "card", "card_token": "tok_insufficient_funds"},
    )
    # The failed 300.00 is invoiced again as a new invoice; retrying it as well would ask
    # for 600.00 of a 300.00 order.
    assert api.post(f"orders/{n}/invoices", {}).status_code == 201
    r = api.post(f"invoices/{first['number']}/retry")
    assert r.status_code == 409, r.content
    assert r.json()["error"]["fields"] == {"invoice": "nothing left to invoice"}
    assert sum(i.amount for i in _pending(n)) == Decimal("300.00")


def test_money_the_provider_took_under_a_voided_invoice_is_recorded_not_dropped(api, card, ten_off):
    import json

    from django.test import Client

    from ordersight.payments.webhooks import SIGNATURE_HEADER, sign
    from tests.payments.conftest import WEBHOOK_SECRET

    n = _order(api, JACKET)
    (first,) = api.post(f"orders/{n}/invoices", {}).json()
    api.post(f"orders/{n}/discount-code", {"code": "TEN"})
    # The provider reports, late, a payment of the first invoice (say the customer paid a
    # link they had been sent before the discount): the money arrived and is recorded,
    # and the re-issued invoice asks for nothing more.
    event = {
        "id": "evt_late",
        "type": "payment.succeeded",
        "created": "2020-01-01T10:00:00Z",
        "data": {"invoice": first["number"], "amount": "299.90", "currency": "EUR"},
    }
    body = json.dumps(event).encode()
    r = Client().post(
        "/api/v1/payments/webhooks/card",
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body)},
    )
    assert r.json()["status"] == "applied", r.content
    order = Order.objects.get(number=n)
    assert (order.status, order.payment_status) == ("completed", "overpaid")
    assert not _pending(n)


@pytest.mark.parametrize("via", ["webhook", "gateway_result"])
def test_money_the_provider_took_while_the_order_was_declined_is_recorded(api, card, via):
    from ordersight.payments.services.capture import record_gateway_result

    n = _order(api, JACKET)
    (first,) = api.post(f"orders/{n}/invoices", {}).json()
    # A charge is sent and the provider gives no answer; the order is declined meanwhile.
    api.post(
        f"invoices/{first['number']}/charge",
        {"payment_system": "card", "card_token": "tok_gateway_error"},
    )
    sent_at = Invoice.objects.get(number=first["number"]).attempted_at
    r = api.post(f"orders/{n}/decline", {"reason": "customer stopped answering"})
    assert r.status_code == 200, r.content
    assert _invoices(n) == [("failed", "299.90", "order_declined")]
    # The provider then reports that the charge succeeded before the decline was recorded.
    declined_at = Invoice.objects.get(number=first["number"]).status_at
    succeeded_at = sent_at + (declined_at - sent_at) / 2
    if via == "webhook":
        event = {
            "id": "evt_after_decline",
            "type": "payment.succeeded",
            "created": succeeded_at.isoformat().replace("+00:00", "Z"),
            "data": {"invoice": first["number"], "amount": "299.90", "currency": "EUR"},
        }
        _post_webhook(event)
    else:
        assert record_gateway_result(
            invoice=Invoice.objects.get(number=first["number"]),
            succeeded=True,
            payment_system=card,
            occurred_at=succeeded_at,
            actor=SYSTEM,
        )
    order = Order.objects.get(number=n)
    assert _invoices(n) == [("succeeded", "299.90", "")]
    assert (order.status, order.payment_status) == ("declined", "paid")
    assert order.holds_money_net_of_refunds
    changed = order.events.filter(kind="payment_status_changed").last()
    assert changed.payload["payment_status"] == {"from": "unpaid", "to": "paid"}


def _post_webhook(event: dict) -> None:
    import json

    from django.test import Client

    from ordersight.payments.webhooks import SIGNATURE_HEADER, sign
    from tests.payments.conftest import WEBHOOK_SECRET

    body = json.dumps(event).encode()
    r = Client().post(
        "/api/v1/payments/webhooks/card",
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body)},
    )
    assert r.json()["status"] == "applied", r.content
