"""Provider webhooks: HMAC signatures, each event once, any arrival order ends right."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from ordersight.payments.models import Invoice, Refund, WebhookEvent
from ordersight.payments.webhooks import SIGNATURE_HEADER, sign
from tests.payments.conftest import WEBHOOK_SECRET

URL = "/api/v1/payments/webhooks/card"


@pytest.fixture
def invoice(api, card, tee_order) -> Invoice:
    number = api.post(f"orders/{tee_order}/invoices", {}).json()[0]["number"]
    return Invoice.objects.get(number=number)


def _event(invoice: Invoice, event_id: str, kind: str, minute: int, **data) -> dict:
    return {
        "id": event_id,
        "type": kind,
        "created": f"2026-11-20T10:{minute:02d}:00Z",
        "data": {
            "invoice": invoice.number,
            "amount": "39.80",
            "currency": "EUR",
            "transaction_id": "ch_1",
            **data,
        },
    }


def _send(
    event: dict,
    *,
    secret: str = WEBHOOK_SECRET,
    header: str | None = None,
    raw: bytes | None = None,
):
    body = raw if raw is not None else json.dumps(event).encode()
    signature = header if header is not None else sign(secret, body)
    return Client().post(
        URL, data=body, content_type="application/json", headers={SIGNATURE_HEADER: signature}
    )


def _status(invoice: Invoice) -> str:
    invoice.refresh_from_db()
    return invoice.status


def test_signed_success_event_pays_the_invoice(invoice):
    r = _send(_event(invoice, "evt_1", "payment.succeeded", 1))
    assert r.status_code == 200, r.content
    assert r.json() == {"event_id": "evt_1", "status": "applied", "duplicate": False}
    assert _status(invoice) == "succeeded"
    assert (
        invoice.fee > 0
        and invoice.order.__class__.objects.get(pk=invoice.order_id).status == "completed"
    )


@pytest.mark.parametrize(
    "header",
    ["", "t=1,v1=deadbeef", "garbage", None],
    ids=["missing", "wrong-digest", "malformed", "wrong-secret"],
)
def test_bad_signature_is_401_and_stores_nothing(invoice, header):
    event = _event(invoice, "evt_1", "payment.succeeded", 1)
    r = _send(event, secret="not-the-secret") if header is None else _send(event, header=header)
    assert r.status_code == 401
    assert SIGNATURE_HEADER in r.json()["error"]["fields"]
    assert WebhookEvent.objects.count() == 0
    assert _status(invoice) == "pending"


def test_old_signature_timestamp_is_refused(invoice):
    body = json.dumps(_event(invoice, "evt_1", "payment.succeeded", 1)).encode()
    r = _send({}, raw=body, header=sign(WEBHOOK_SECRET, body, int(time.time()) - 3600))
    assert r.status_code == 401 and WebhookEvent.objects.count() == 0


def test_body_changed_after_signing_is_refused(invoice):
    body = json.dumps(_event(invoice, "evt_1", "payment.succeeded", 1)).encode()
    header = sign(WEBHOOK_SECRET, body)
    r = _send({}, raw=body.replace(b"39.80", b"0.01"), header=header)
    assert r.status_code == 401


def test_replayed_event_is_processed_once(invoice):
    event = _event(invoice, "evt_r", "refund.succeeded", 2, refund_id="re_9")
    _send(_event(invoice, "evt_1", "payment.succeeded", 1))
    event["data"]["amount"] = "5.00"
    first = _send(event)
    again = _send(event)
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    assert Refund.objects.count() == 1


def test_older_failure_arriving_after_success_changes_nothing(invoice):
    _send(_event(invoice, "evt_ok", "payment.succeeded", 5))
    r = _send(_event(invoice, "evt_fail", "payment.failed", 1, failure_code="card_declined"))
    assert r.json()["status"] == "stale"
    assert _status(invoice) == "succeeded"


def test_newer_success_after_a_failure_pays(invoice):
    _send(_event(invoice, "evt_fail", "payment.failed", 1, failure_code="card_declined"))
    assert _status(invoice) == "failed"
    _send(_event(invoice, "evt_ok", "payment.succeeded", 5))
    assert _status(invoice) == "succeeded"


def test_older_failure_after_newer_failure_keeps_the_newer_reason(invoice):
    _send(_event(invoice, "e2", "payment.failed", 5, failure_code="insufficient_funds"))
    _send(_event(invoice, "e1", "payment.failed", 1, failure_code="card_declined"))
    invoice.refresh_from_db()
    assert invoice.failure_code == "insufficient_funds"


def test_refund_reported_before_its_payment_waits_for_it(invoice):
    r = _send(_event(invoice, "evt_r", "refund.succeeded", 9, amount="10.00", refund_id="re_1"))
    assert r.json()["status"] == "deferred"
    assert Refund.objects.count() == 0
    _send(_event(invoice, "evt_ok", "payment.succeeded", 1))
    invoice.refresh_from_db()
    assert (invoice.status, str(invoice.refunded_amount)) == ("succeeded", "10.0000")
    assert WebhookEvent.objects.get(event_id="evt_r").status == "applied"
    order = invoice.order.__class__.objects.get(pk=invoice.order_id)
    assert (order.payment_status, order.refund_status) == ("partially_paid", "partial")


def test_refund_we_made_is_not_counted_again_when_the_provider_reports_it(api, invoice):
    _send(_event(invoice, "evt_ok", "payment.succeeded", 1))
    refund = api.post(f"invoices/{invoice.number}/refunds", {"amount": "5.00"}).json()
    _send(
        _event(
            invoice,
            "evt_r",
            "refund.succeeded",
            2,
            amount="5.00",
            refund_id=refund["transaction_id"],
        )
    )
    assert Refund.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "payment.exploded"}, "type"),
        ({"data": {"invoice": 1}}, "data.amount"),
        ({"created": "yesterday"}, "created"),
        ({"id": ""}, "id"),
    ],
)
def test_unknown_or_malformed_events_are_422_and_stored_nowhere(invoice, change, field):
    event = {**_event(invoice, "evt_1", "payment.succeeded", 1), **change}
    r = _send(event)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert WebhookEvent.objects.count() == 0 and _status(invoice) == "pending"


def test_event_for_an_unknown_invoice(invoice):
    event = _event(invoice, "evt_1", "payment.succeeded", 1)
    event["data"]["invoice"] = 424242
    r = _send(event)
    assert r.status_code == 422 and "data.invoice" in r.json()["error"]["fields"]


def test_event_with_the_wrong_amount_or_currency(invoice):
    assert _send(_event(invoice, "e1", "payment.succeeded", 1, amount="1.00")).status_code == 422
    assert _send(_event(invoice, "e2", "payment.succeeded", 1, currency="USD")).status_code == 422
    assert _status(invoice) == "pending"


def test_refund_event_beyond_the_captured_amount_is_refused(invoice):
    _send(_event(invoice, "evt_ok", "payment.succeeded", 1))
    r = _send(_event(invoice, "evt_r", "refund.succeeded", 2, amount="50.00", refund_id="re_x"))
    assert r.status_code == 422 and Refund.objects.count() == 0
    assert not WebhookEvent.objects.filter(event_id="evt_r").exists()


def test_unknown_payment_system(invoice):
    body = json.dumps(_event(invoice, "e", "payment.succeeded", 1)).encode()
    r = Client().post(
        "/api/v1/payments/webhooks/nope",
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body)},
    )
    assert r.status_code == 404
