"""Invoices, charges, partial payments, manual payments, refunds, confirm and decline."""

from __future__ import annotations

import pytest

from ordersight.orders.models import Order
from ordersight.payments.models import Invoice, Refund
from tests import factories


def _invoice(api, number: int, **body) -> list[dict]:
    r = api.post(f"orders/{number}/invoices", body)
    assert r.status_code == 201, r.content
    return r.json()


def _charge(api, invoice: int, token: str = "tok_success", system: str = "card", **extra):
    return api.post(
        f"invoices/{invoice}/charge", {"payment_system": system, "card_token": token, **extra}
    )


def _order(api, number: int) -> dict:
    return api.get(f"orders/{number}").json()


def test_one_invoice_for_the_whole_order_with_its_own_number(api, card, tee_order):
    (invoice,) = _invoice(api, tee_order)
    assert invoice["number"] >= 5001 and invoice["number"] != tee_order
    assert (invoice["amount"], invoice["currency"], invoice["status"]) == (
        "39.80",
        "EUR",
        "pending",
    )
    assert invoice["payment_percent"] == "100.00"


def test_card_payment_takes_the_fee_and_completes_the_order(api, card, tee_order):
    (invoice,) = _invoice(api, tee_order)
    r = _charge(api, invoice["number"])
    assert r.status_code == 200, r.content
    paid = r.json()
    # 2.9 % of 39.80 = 1.1542, + 0.25 = 1.4042 → 1.40
    assert (paid["status"], paid["fee"], paid["funds_credited"]) == ("succeeded", "1.40", "38.40")
    assert paid["payment_system"] == "Acme Payments EU" and paid["transaction_id"]
    order = _order(api, tee_order)
    assert (order["status"], order["payment_status"], order["badge"]) == (
        "completed",
        "paid",
        "Completed",
    )
    kinds = [e["kind"] for e in api.get(f"orders/{tee_order}/events").json()]
    assert kinds[-3:] == ["payment_succeeded", "payment_status_changed", "status_changed"]


def test_paying_without_an_invoice_first_is_refused(api, card, tee_order):
    assert _charge(api, 999999).status_code == 404


def test_declined_card_leaves_a_failed_attempt_and_a_retry(api, card, tee_order):
    (invoice,) = _invoice(api, tee_order)
    failed = _charge(api, invoice["number"], "tok_insufficient_funds").json()
    assert (failed["status"], failed["failure_code"]) == ("failed", "insufficient_funds")
    assert _order(api, tee_order)["status"] == "open"
    again = _charge(api, invoice["number"])
    assert again.status_code == 409 and "Retry" in again.json()["error"]["message"]
    retry = api.post(f"invoices/{invoice['number']}/retry").json()
    assert retry["number"] > invoice["number"] and retry["installment"] == 1
    assert _charge(api, retry["number"]).json()["status"] == "succeeded"
    statuses = [i["status"] for i in _order(api, tee_order)["invoices"]]
    assert statuses == ["failed", "succeeded"]


def test_hard_decline(api, card, tee_order):
    (invoice,) = _invoice(api, tee_order)
    assert (
        _charge(api, invoice["number"], "tok_hard_decline").json()["failure_code"]
        == "card_declined"
    )


def test_gateway_error_is_503_and_the_invoice_stays_pending(api, card, tee_order):
    (invoice,) = _invoice(api, tee_order)
    r = _charge(api, invoice["number"], "tok_gateway_error")
    assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
    assert Invoice.objects.get(number=invoice["number"]).status == "pending"
    assert _charge(api, invoice["number"]).json()["status"] == "succeeded"


def test_one_click_payment(api, card, card_no_one_click, tee_order):
    (invoice,) = _invoice(api, tee_order)
    refused = _charge(api, invoice["number"], system="card2", one_click=True)
    assert refused.status_code == 422 and "one_click" in refused.json()["error"]["fields"]
    assert _charge(api, invoice["number"], "tok_one_click").json()["paid_in_one_click"] is True


def test_installments_split_in_minor_units(api, card, course_order):
    invoices = _invoice(api, course_order, installments=3)
    assert [i["amount"] for i in invoices] == ["100.00"] * 3
    assert [i["installment"] for i in invoices] == [1, 2, 3]
    assert [i["payment_percent"] for i in invoices] == ["33.33"] * 3


def test_uneven_installments_put_the_remainder_first(api, catalog, card):
    offer = catalog["course"]
    offer.unit_price = "100.00"
    offer.save()
    number = api.post("orders", {"lines": [{"sku": "COURSE-1"}]}).json()["number"]
    assert [i["amount"] for i in _invoice(api, number, installments=3)] == [
        "33.34",
        "33.33",
        "33.33",
    ]


def test_plan_of_given_amounts_must_add_up(api, card, course_order):
    bad = api.post(f"orders/{course_order}/invoices", {"amounts": ["100.00", "100.00"]})
    assert bad.status_code == 422 and "amounts" in bad.json()["error"]["fields"]
    assert Invoice.objects.count() == 0
    assert [i["amount"] for i in _invoice(api, course_order, amounts=["50.00", "250.00"])] == [
        "50.00",
        "250.00",
    ]


def test_installments_need_an_offer_with_partial_payments(api, card, tee_order):
    r = api.post(f"orders/{tee_order}/invoices", {"installments": 2})
    assert r.status_code == 409 and "installments" in r.json()["error"]["fields"]


def test_fully_invoiced_order_takes_no_more_invoices(api, card, tee_order):
    _invoice(api, tee_order)
    assert api.post(f"orders/{tee_order}/invoices", {}).status_code == 409


def test_partial_payments_then_confirm_as_completed(api, card, course_order):
    first, *_ = _invoice(api, course_order, installments=3)
    _charge(api, first["number"])
    order = _order(api, course_order)
    assert (order["status"], order["payment_status"]) == ("open", "partially_paid")
    r = api.post(f"orders/{course_order}/confirm")
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert r.json()["payment_status"] == "partially_paid"


def test_confirm_needs_partial_payments(api, card, course_order):
    r = api.post(f"orders/{course_order}/confirm")
    assert r.status_code == 409 and r.json()["error"]["fields"] == {"payment_status": "unpaid"}


def test_paying_every_installment_completes_the_order(api, card, course_order):
    for invoice in _invoice(api, course_order, installments=2):
        _charge(api, invoice["number"])
    order = _order(api, course_order)
    assert (order["status"], order["payment_status"]) == ("completed", "paid")


def test_decline_fails_pending_invoices(api, card, course_order):
    first, second, third = _invoice(api, course_order, installments=3)
    _charge(api, first["number"])
    r = api.post(f"orders/{course_order}/decline", {"reason": "stopped paying"})
    assert r.status_code == 200 and r.json()["status"] == "declined"
    statuses = {i["number"]: (i["status"], i["failure_code"]) for i in r.json()["invoices"]}
    assert statuses[first["number"]] == ("succeeded", "")
    assert statuses[second["number"]] == statuses[third["number"]] == ("failed", "order_declined")
    assert _charge(api, second["number"]).status_code == 409


def _session_as(client, roles, role):
    user = factories.UserFactory(username=role.replace(" ", "_").lower())
    user.groups.add(roles[role])
    client.force_login(user)
    return user


def test_confirm_and_decline_of_partial_payments_need_the_permission(
    api, client, roles, card, course_order
):
    first, *_ = _invoice(api, course_order, installments=3)
    _charge(api, first["number"])
    _session_as(client, roles, "Sales manager")
    for action in ("confirm", "decline"):
        r = client.post(f"/api/v1/orders/{course_order}/{action}", content_type="application/json")
        assert r.status_code == 403
        assert r.json()["error"]["fields"] == {"permission": "payments.confirm_partial_payments"}
    assert Order.objects.get(number=course_order).status == "open"


def test_admin_role_may_confirm(api, client, roles, card, course_order):
    first, *_ = _invoice(api, course_order, installments=3)
    _charge(api, first["number"])
    _session_as(client, roles, "Admin")
    r = client.post(f"/api/v1/orders/{course_order}/confirm", content_type="application/json")
    assert r.status_code == 200, r.content


def test_manual_payment_with_the_buyers_comment(api, bank, tee_order):
    r = api.post(
        f"orders/{tee_order}/payments/manual",
        {"payment_system": "bank", "buyer_comment": "Paid from ACME Ltd, ref 42"},
    )
    assert r.status_code == 201, r.content
    invoice = r.json()
    assert (invoice["amount"], invoice["status"], invoice["fee"]) == ("39.80", "succeeded", "0.00")
    assert invoice["buyer_comment"] == "Paid from ACME Ltd, ref 42"
    assert _order(api, tee_order)["status"] == "completed"


def test_manual_payment_settles_a_pending_installment(api, card, bank, course_order):
    _first, second = _invoice(api, course_order, installments=2)
    r = api.post(
        f"orders/{course_order}/payments/manual",
        {"payment_system": "bank", "invoice": second["number"]},
    )
    assert r.json()["number"] == second["number"] and r.json()["status"] == "succeeded"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"payment_system": "card"}, 422, "payment_system"),
        ({"payment_system": "nope"}, 422, "payment_system"),
        ({"payment_system": "bank", "currency": "USD"}, 422, "currency"),
        ({"payment_system": "bank", "amount": "-5.00"}, 422, "amount"),
        ({"payment_system": "bank", "amount": "0"}, 422, "amount"),
        ({"payment_system": "bank", "amount": "1.001"}, 422, "amount"),
        # An invoice named in the body that does not exist: the order in the path does, so
        # this is the body's field, not a 404 naming the path's number.
        ({"payment_system": "bank", "invoice": 424242}, 422, "invoice"),
    ],
)
def test_bad_manual_payments_change_nothing(api, card, bank, tee_order, body, status, field):
    r = api.post(f"orders/{tee_order}/payments/manual", body)
    assert r.status_code == status, r.content
    assert field in r.json()["error"]["fields"]
    assert Invoice.objects.count() == 0
    assert _order(api, tee_order)["payment_status"] == "unpaid"


def test_manual_payment_without_an_amount_on_a_fully_invoiced_order_is_a_conflict(
    api, bank, course_order
):
    # Nothing is left to invoice, so there is no balance to default to: the order's state
    # answers (409) and names the amount; the pending invoices are left as they were.
    _invoice(api, course_order, installments=2)
    r = api.post(f"orders/{course_order}/payments/manual", {"payment_system": "bank"})
    assert r.status_code == 409, r.content
    assert "amount" in r.json()["error"]["fields"]
    assert sorted(Invoice.objects.values_list("status", flat=True)) == ["pending", "pending"]
    assert _order(api, course_order)["payment_status"] == "unpaid"


def test_no_payment_on_a_cancelled_order(api, card, bank, tee_order):
    (invoice,) = _invoice(api, tee_order)
    api.post(f"orders/{tee_order}/cancel")
    r = api.post(f"orders/{tee_order}/payments/manual", {"payment_system": "bank"})
    assert r.status_code == 409 and r.json()["error"]["fields"] == {"status": "cancelled"}
    assert _charge(api, invoice["number"]).status_code == 409
    # A cancelled order asks for nothing: its pending invoice was voided.
    voided = Invoice.objects.get()
    assert (voided.status, voided.failure_code) == ("failed", "order_cancelled")


def _paid_invoice(api, order_number: int) -> dict:
    (invoice,) = _invoice(api, order_number)
    return _charge(api, invoice["number"]).json()


def test_partial_then_full_refund(api, card, tee_order):
    invoice = _paid_invoice(api, tee_order)
    r = api.post(f"invoices/{invoice['number']}/refunds", {"amount": "10.00", "reason": "size"})
    assert r.status_code == 201, r.content
    assert r.json()["transaction_id"].startswith("re_")
    order = _order(api, tee_order)
    assert (order["payment_status"], order["refund_status"]) == ("partially_paid", "partial")
    assert order["invoices"][0]["refundable"] == "29.80"
    assert [x["amount"] for x in order["refunds"]] == ["10.00"]
    api.post(f"invoices/{invoice['number']}/refunds", {"amount": "29.80"})
    order = _order(api, tee_order)
    assert (order["refund_status"], order["badge"]) == ("full", "Refund")
    assert order["invoices"][0]["status"] == "refunded"
    assert order["status"] == "completed"  # a sale that was refunded, not a cancelled order


@pytest.mark.parametrize(
    ("amount", "field"),
    [("39.81", "amount"), ("-1.00", "amount"), ("0", "amount"), ("1.234", "amount")],
)
def test_bad_refund_amounts(api, card, tee_order, amount, field):
    invoice = _paid_invoice(api, tee_order)
    r = api.post(f"invoices/{invoice['number']}/refunds", {"amount": amount})
    assert r.status_code == 422 and field in r.json()["error"]["fields"]
    assert Refund.objects.count() == 0


def test_refund_beyond_what_is_left(api, card, tee_order):
    invoice = _paid_invoice(api, tee_order)
    api.post(f"invoices/{invoice['number']}/refunds", {"amount": "30.00"})
    r = api.post(f"invoices/{invoice['number']}/refunds", {"amount": "10.00"})
    assert r.status_code == 422 and r.json()["error"]["fields"] == {"amount": "at most 9.80"}


def test_refund_on_a_failed_or_pending_invoice(api, card, tee_order):
    (invoice,) = _invoice(api, tee_order)
    assert api.post(f"invoices/{invoice['number']}/refunds", {"amount": "1.00"}).status_code == 409
    _charge(api, invoice["number"], "tok_hard_decline")
    r = api.post(f"invoices/{invoice['number']}/refunds", {"amount": "1.00"})
    assert r.status_code == 409 and r.json()["error"]["fields"] == {"invoice": "failed"}


def test_refund_replayed_with_the_same_key_refunds_once(api, card, tee_order):
    invoice = _paid_invoice(api, tee_order)
    path = f"invoices/{invoice['number']}/refunds"
    for _ in range(3):
        api.post(path, {"amount": "5.00"}, headers={"Idempotency-Key": "refund-1"})
    assert Refund.objects.count() == 1


def test_read_key_cannot_move_money(read_api, api, card, tee_order):
    (invoice,) = _invoice(api, tee_order)
    assert _charge(read_api, invoice["number"]).status_code == 403
    assert Invoice.objects.get().status == "pending"


def test_payments_list_filters_and_export(api, card, bank, tee_order, course_order, customer):
    paid = _paid_invoice(api, tee_order)
    first, second = _invoice(api, course_order, installments=2)
    _charge(api, first["number"], "tok_one_click")
    _charge(api, second["number"], "tok_hard_decline")

    def numbers(**params):
        r = api.get("payments", **params)
        assert r.status_code == 200, r.content
        return [i["number"] for i in r.json()["items"]]

    assert numbers() == [second["number"], first["number"], paid["number"]]
    assert numbers(status="failed") == [second["number"]]
    assert numbers(one_click="true") == [first["number"]]
    assert numbers(currency="EUR") == [paid["number"]]
    assert numbers(order=course_order) == [second["number"], first["number"]]
    assert numbers(payment_system="card", status="succeeded") == [first["number"], paid["number"]]
    assert numbers(partial="true") == [second["number"], first["number"]]
    assert numbers(sort="amount") == [paid["number"], first["number"], second["number"]]
    assert api.get("payments", status="lost").status_code == 422

    export = api.get("payments/export.csv", status="succeeded")
    text = b"".join(export.streaming_content).decode().splitlines()
    assert text[0].startswith('"invoice_number","order_number"')
    assert len(text) == 3
    assert any(',"yes",' in line for line in text[1:])


def test_payments_filter_by_customer_and_date_range(api, card, catalog, customer):
    mine = api.post("orders", {"customer_id": customer.pk, "lines": [{"sku": "TEE-M"}]}).json()
    other = api.post("orders", {"lines": [{"sku": "TEE-L"}]}).json()
    (invoice,) = _invoice(api, mine["number"])
    _invoice(api, other["number"])
    found = api.get("payments", customer=customer.pk).json()["items"]
    assert [i["number"] for i in found] == [invoice["number"]]
    assert api.get("payments", created_before="2000-01-01").json()["items"] == []
    assert len(api.get("payments", created_after="2000-01-01").json()["items"]) == 2
    bad = api.get("payments", created_after="soon")
    assert bad.status_code == 422 and "created_after" in bad.json()["error"]["fields"]
