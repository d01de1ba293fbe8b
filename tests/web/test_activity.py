"""An order's activity reads as sentences: every event kind, from the payloads the services
write, with the actor and the reason where there is one; never a dict, a list or a code."""

from __future__ import annotations

import re

import pytest

from ordersight.orders.models import OrderEventKind
from ordersight.web.activity import SENTENCES, event_sentence

K = OrderEventKind

# One payload of each kind as its service writes it, and the sentence it reads as.
CASES = [
    (
        K.CREATED,
        {"status": "open", "total": "39.80", "currency": "EUR", "source": "api"},
        "",
        "Order created from API, total €39.80, open",
    ),
    (
        K.IMPORTED,
        {"status": "completed", "total": "1200", "currency": "JPY", "source": "shopify"},
        "",
        "Order imported from Shopify, total ¥1,200, completed",
    ),
    (
        K.UPDATED,
        {"changed": {"metadata": {"set": ["gift"], "removed": []}}},
        "ana",
        "Metadata changed by ana: gift set",
    ),
    (
        K.UPDATED,
        {"changed": {"metadata": {"set": ["a", "b"], "removed": ["c"]}}},
        "",
        "Metadata changed: a, b set; c removed",
    ),
    (
        K.UPDATED,
        {"changed": {"order_type": {"from": "standard", "to": "wholesale"}}},
        "mia",
        "Order type changed from Standard to Wholesale by mia",
    ),
    (
        K.UPDATED,
        {"changed": ["notes", "coupon_code"]},
        "",
        "Order updated: notes, coupon code changed",
    ),
    (
        K.STATUS_CHANGED,
        {"from": "open", "to": "completed"},
        "mia",
        "Status changed from Open to Completed by mia",
    ),
    (
        K.STATUS_CHANGED,
        {"from": "open", "to": "declined", "reason": "fraud check"},
        "ana",
        "Status changed from Open to Declined by ana: fraud check",
    ),
    (K.FULFILLED, {}, "leo", "Order marked fulfilled by leo"),
    (
        K.LINES_REPLACED,
        {"total": "59.70", "previous_total": "39.80", "previous_currency": "EUR"},
        "API key shop",
        "Items changed, total from €39.80 to €59.70 by API key shop",
    ),
    (
        K.SALES_ATTRIBUTION_CHANGED,
        {"manager": "tom", "proposed_by": "sales plan"},
        "tom",
        "Sales manager changed to tom by tom: proposed by the sales plan, not confirmed yet",
    ),
    (
        K.SALES_ATTRIBUTION_CHANGED,
        {"manager": None},
        "",
        "Sales manager changed to the system: not confirmed yet",
    ),
    (K.SALES_ATTRIBUTION_CONFIRMED, {"manager": "tom"}, "ana", "Sale confirmed as tom's by ana"),
    (
        K.INVOICE_ISSUED,
        {"invoices": [5378, 5379], "amounts": ["19.90", "19.90"]},
        "",
        "Invoices 5378 (€19.90), 5379 (€19.90) issued",
    ),
    (
        K.INVOICE_ISSUED,
        {"invoices": [5380], "retry_of": 5378, "amounts": ["19.90"]},
        "ana",
        "Invoice 5380 (€19.90) issued by ana: a retry of invoice 5378",
    ),
    (
        K.PAYMENT_SUCCEEDED,
        {"invoice": 5378, "amount": "19.90", "payment_system": "Stripe", "one_click": True},
        "",
        "Invoice 5378 paid €19.90 through Stripe, in one click",
    ),
    (
        K.PAYMENT_FAILED,
        {"invoice": 5378, "code": "card_declined", "message": ""},
        "",
        "Payment of invoice 5378 failed: card declined",
    ),
    (
        K.REFUNDED,
        {"invoice": 5378, "amount": "5.00", "reason": "damaged"},
        "ana",
        "Invoice 5378 refunded €5.00 by ana: damaged",
    ),
    (
        K.PAYMENT_STATUS_CHANGED,
        {
            "payment_status": {"from": "unpaid", "to": "partially_paid"},
            "refund_status": {"from": "none", "to": "none"},
            "net": "19.90",
        },
        "",
        "Payment status changed from Unpaid to Partially paid; €19.90 received net",
    ),
    (
        K.PAYMENT_STATUS_CHANGED,
        {
            "payment_status": {"from": "paid", "to": "paid"},
            "refund_status": {"from": "none", "to": "partial"},
            "net": "34.80",
        },
        "",
        "Now partly refunded; €34.80 received net",
    ),
    (
        K.DISCOUNT_APPLIED,
        {"code": "SPRING", "amount": "4.00", "total": "35.80", "previous_total": "39.80"},
        "ana",
        "Discount code SPRING took €4.00 off, total now €35.80 by ana",
    ),
    (
        K.REDEMPTION_ROLLED_BACK,
        {"code": "SPRING", "amount": "4.00"},
        "",
        "Discount code SPRING given back (€4.00)",
    ),
    (
        K.INVOICES_ADJUSTED,
        {
            "voided": [5378],
            "invoices": [5381],
            "amounts": ["35.80"],
            "asked": {"from": "39.80", "to": "35.80"},
            "reason": "the order's total changed",
        },
        "",
        "Invoice 5378 voided, re-issued as invoice 5381; asking €35.80 instead of €39.80: "
        "the order's total changed",
    ),
]


@pytest.mark.parametrize(("kind", "payload", "actor", "sentence"), CASES)
def test_each_event_reads_as_a_sentence(kind, payload, actor, sentence):
    assert event_sentence(kind, payload, currency="EUR", actor=actor) == sentence


def test_every_event_kind_has_its_sentence_and_a_case_here():
    assert set(SENTENCES) == set(OrderEventKind.values)
    assert {kind for kind, *_ in CASES} == set(OrderEventKind.values)


@pytest.mark.parametrize(("kind", "payload", "actor", "sentence"), CASES)
def test_no_sentence_shows_a_dict_a_list_or_a_code(kind, payload, actor, sentence):
    said = event_sentence(kind, payload, currency="EUR", actor=actor)
    assert not re.search(r"[{}\[\]]|'\w+':|\b\w+_\w+\b", said)


def test_an_old_or_odd_payload_still_reads_as_words():
    said = event_sentence(K.UPDATED, {"changed": {"x": 1}}, currency="EUR")
    assert said == "X changed"
    unknown = event_sentence("archived", {"reason": "old", "flags": ["a", "b"]}, currency="EUR")
    assert unknown == "Archived: reason old, flags a, b"


@pytest.mark.django_db
def test_the_order_page_shows_the_activity_as_sentences(admin_web, paid_order):
    page = admin_web.get(f"/orders/{paid_order.number}/").content.decode()
    sentences = re.findall(r'class="activity-sentence">([^<]*)<', page)
    assert sentences[0].startswith("Order created")
    assert any(re.fullmatch(r"Invoice \d+ paid €39\.80.*", s) for s in sentences)
    for sentence in sentences:
        assert not re.search(r"[{}\[\]]|&#x27;|\b\w+_\w+\b", sentence), sentence
