"""Payments on the pages: payment systems and their fee rules, and on an order's page issuing
invoices, recording a manual payment and marking it paid. Bad input is named by field and
kept as typed; the webhook secret is never sent back into a page."""

from __future__ import annotations

from decimal import Decimal
from html import unescape

import pytest

from ordersight.orders.models import Order
from ordersight.payments.models import FeeRule, Invoice, PaymentSystem
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(roles):
    return factories.signed_in(roles, "Admin", "ada")


@pytest.fixture
def manager(roles):
    return factories.signed_in(roles, "Sales manager", "mia")


def _html(response) -> str:
    return unescape(response.content.decode())


# --- Payment systems -----------------------------------------------------------------------


def test_a_payment_system_is_created_and_listed(admin):
    done = admin.post(
        "/settings/payment-systems/new/",
        {"name": "Bank transfer", "code": "bank", "provider": "manual", "is_active": "on"},
        follow=True,
    )
    assert "Payment system Bank transfer created." in _html(done)
    system = PaymentSystem.objects.get(code="bank")
    assert system.is_manual and system.is_active
    assert "Bank transfer" in _html(admin.get("/settings/payment-systems/"))


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "", "code": "bank", "provider": "manual"}, "name"),
        ({"name": "Bank", "code": "Bank Transfer", "provider": "manual"}, "code"),
        # The address of the page that adds one: a system so coded would have no page.
        ({"name": "Bank", "code": "new", "provider": "manual"}, "code"),
        ({"name": "Bank", "code": "bank", "provider": "paypal"}, "provider"),
        (
            {"name": "Bank", "code": "bank", "provider": "manual", "supports_one_click": "on"},
            "supports_one_click",
        ),
        (
            {"name": "Cards", "code": "cards", "provider": "test", "webhook_secret": "short"},
            "webhook_secret",
        ),
    ],
)
def test_a_bad_payment_system_is_named_and_kept_as_typed_but_the_secret(admin, form, field):
    response = admin.post("/settings/payment-systems/new/", form)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    if form["name"]:
        assert f'value="{form["name"]}"' in html
    assert 'value="short"' not in html
    assert not PaymentSystem.objects.exists()


def test_a_taken_code_is_named(admin, bank):
    response = admin.post(
        "/settings/payment-systems/new/", {"name": "Other", "code": "bank", "provider": "manual"}
    )
    assert response.status_code == 422
    assert 'data-testid="error-code"' in response.content.decode()


def test_editing_keeps_the_secret_unless_a_new_one_is_given_or_it_is_removed(admin, card):
    url = "/settings/payment-systems/card/edit/"
    page = admin.get("/settings/payment-systems/card/").content.decode()
    assert "whsec_test_secret" not in page
    assert 'data-testid="secret-state">set<' in page
    admin.post(url, {"name": "Acme EU", "is_active": "on"})
    card.refresh_from_db()
    assert (card.name, card.webhook_secret, card.supports_one_click) == (
        "Acme EU",
        "whsec_test_secret",
        False,
    )
    admin.post(url, {"name": "Acme EU", "webhook_secret": "n" * 20, "is_active": "on"})
    card.refresh_from_db()
    assert card.webhook_secret == "n" * 20
    done = admin.post(url, {"name": "Acme EU", "remove_webhook_secret": "on"}, follow=True)
    card.refresh_from_db()
    assert card.webhook_secret == "" and not card.is_active
    assert "Payment system Acme EU saved." in _html(done)


def test_a_bad_edit_is_named_and_saves_nothing(admin, card):
    response = admin.post(
        "/settings/payment-systems/card/edit/", {"name": "", "webhook_secret": "short"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="error-name"' in html and 'data-testid="error-webhook_secret"' in html
    card.refresh_from_db()
    assert card.name == "Acme Payments EU"


def test_a_fee_rule_is_set_replaced_and_removed(admin, card):
    url = "/settings/payment-systems/card/fee-rules/"
    done = admin.post(url, {"currency": "GBP", "percent": "1,5", "fixed": "0.20"}, follow=True)
    assert "Acme Payments EU now keeps 1.5% + 0.20 GBP of each payment in GBP." in _html(done)
    rule = FeeRule.objects.get(payment_system=card, currency="GBP")
    assert (rule.percent, rule.fixed) == (Decimal("1.5"), Decimal("0.20"))
    admin.post(url, {"currency": "GBP", "percent": "2", "fixed": ""})
    rule.refresh_from_db()
    assert (rule.percent, rule.fixed) == (Decimal("2"), Decimal("0"))
    page = admin.get("/settings/payment-systems/card/").content.decode()
    assert 'data-currency="GBP"' in page and 'data-percent="2"' in page
    removed = admin.post("/settings/payment-systems/card/fee-rules/GBP/remove/", follow=True)
    assert "no longer has a fee rule for GBP" in _html(removed)
    assert not FeeRule.objects.filter(payment_system=card, currency="GBP").exists()


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"currency": "GBP", "percent": "lots", "fixed": ""}, "percent"),
        ({"currency": "GBP", "percent": "100", "fixed": ""}, "percent"),
        ({"currency": "GBP", "percent": "1", "fixed": "0.001"}, "fixed"),
        ({"currency": "JPY", "percent": "1", "fixed": "0.5"}, "fixed"),
        ({"currency": "GBP", "percent": "1", "fixed": "-1"}, "fixed"),
        ({"currency": "XYZ", "percent": "1", "fixed": ""}, "currency"),
    ],
)
def test_a_bad_fee_rule_is_named_and_kept_as_typed(admin, card, form, field):
    response = admin.post("/settings/payment-systems/card/fee-rules/", form)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    if field != "currency":
        assert f'value="{form[field]}"' in html
    assert not FeeRule.objects.filter(payment_system=card, currency=form["currency"]).exists()


def test_removing_a_missing_fee_rule_says_so(admin, card):
    done = admin.post("/settings/payment-systems/card/fee-rules/GBP/remove/", follow=True)
    assert "No fee rule removed: Acme Payments EU has no fee rule for GBP." in _html(done)


def test_a_sales_manager_sees_the_systems_but_cannot_change_them(manager, card):
    page = manager.get("/settings/payment-systems/card/").content.decode()
    assert 'data-testid="fee-form"' not in page and 'data-testid="payment-system-form"' not in page
    refused = manager.post("/settings/payment-systems/card/edit/", {"name": "X"})
    assert refused.status_code == 403
    assert "payments.change_paymentsystem" in refused.content.decode()


# --- On an order's page ---------------------------------------------------------------------


def _invoices(number: int) -> list[tuple[str, Decimal]]:
    order = Order.objects.get(number=number)
    return [(i.status, i.amount) for i in order.invoices.order_by("installment")]


def test_the_order_page_offers_invoicing_and_manual_payments(admin, course_order, bank):
    page = admin.get(f"/orders/{course_order}/").content.decode()
    assert 'data-testid="issue-invoice-form"' in page
    assert 'data-testid="manual-payment-form"' in page and 'data-testid="mark-paid-form"' in page
    assert 'data-testid="left-to-invoice" data-amount="300.0000"' in page


def test_installments_are_issued_from_the_order_page(admin, course_order):
    done = admin.post(
        f"/orders/{course_order}/invoice/",
        {"plan": "installments", "installments": "3"},
        follow=True,
    )
    assert _invoices(course_order) == [("pending", Decimal("100"))] * 3
    assert f"Order {course_order}: 3 invoices (" in _html(done)


def test_amounts_are_issued_from_the_order_page(admin, course_order):
    admin.post(f"/orders/{course_order}/invoice/", {"plan": "amounts", "amounts": "100 200.00"})
    assert _invoices(course_order) == [("pending", Decimal("100")), ("pending", Decimal("200"))]


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"plan": "installments", "installments": "three"}, "installments", "whole number"),
        ({"plan": "installments", "installments": "30"}, "installments", "1 to 24"),
        ({"plan": "amounts", "amounts": "100 abc"}, "amounts", "not a number"),
        ({"plan": "amounts", "amounts": ""}, "amounts", "give each invoice's amount"),
        ({"plan": "amounts", "amounts": "100 100"}, "amounts", "must add up to 300.00"),
        ({"plan": "amounts", "amounts": "100.001 199.999"}, "amounts", "amounts"),
    ],
)
def test_bad_invoice_plans_are_named_kept_and_issue_nothing(admin, course_order, form, field, says):
    response = admin.post(f"/orders/{course_order}/invoice/", form)
    assert response.status_code == 422
    html = _html(response)
    assert f'data-testid="error-{field}"' in html and says in html
    assert f'value="{form[field]}"' in html
    assert 'data-testid="payments-tab">' in html  # the tab with the form is the one open
    assert _invoices(course_order) == []


def test_an_offer_without_partial_payments_takes_one_invoice(admin, tee_order):
    response = admin.post(
        f"/orders/{tee_order}/invoice/", {"plan": "installments", "installments": "2"}
    )
    assert response.status_code == 422
    assert "partial payments are not allowed" in _html(response)
    admin.post(f"/orders/{tee_order}/invoice/", {"plan": "one"})
    assert _invoices(tee_order) == [("pending", Decimal("39.80"))]


def test_a_manual_payment_settles_a_pending_invoice(admin, course_order, bank):
    admin.post(f"/orders/{course_order}/invoice/", {"plan": "amounts", "amounts": "100 200"})
    first = Order.objects.get(number=course_order).invoices.order_by("installment").first()
    done = admin.post(
        f"/orders/{course_order}/manual-payment/",
        {"payment_system": "bank", "invoice": str(first.number), "buyer_comment": "ref 42"},
        follow=True,
    )
    assert f"payment of 100.00 USD recorded through Bank transfer (invoice {first.number})" in (
        _html(done)
    )
    first.refresh_from_db()
    assert first.status == "succeeded" and first.buyer_comment == "ref 42"
    assert Order.objects.get(number=course_order).payment_status == "partially_paid"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"payment_system": "card", "amount": "10"}, "payment_system"),
        ({"payment_system": "nope", "amount": "10"}, "payment_system"),
        ({"payment_system": "bank", "amount": "ten"}, "amount"),
        ({"payment_system": "bank", "amount": "301"}, "amount"),
        ({"payment_system": "bank", "amount": "0.001"}, "amount"),
        ({"payment_system": "bank", "invoice": "99999"}, "invoice"),
    ],
)
def test_a_bad_manual_payment_is_named_kept_and_records_nothing(
    admin, course_order, bank, card, form, field
):
    response = admin.post(
        f"/orders/{course_order}/manual-payment/", {**form, "buyer_comment": "kept"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    assert 'value="kept"' in html
    assert _invoices(course_order) == []


def test_mark_paid_settles_pending_invoices_then_the_rest(admin, course_order, bank):
    admin.post(f"/orders/{course_order}/invoice/", {"plan": "amounts", "amounts": "100 200"})
    Invoice.objects.filter(order__number=course_order, installment=2).update(status="failed")
    done = admin.post(f"/orders/{course_order}/mark-paid/", {"payment_system": "bank"}, follow=True)
    assert f"Order {course_order} marked paid through Bank transfer: invoices " in _html(done)
    assert _invoices(course_order) == [
        ("succeeded", Decimal("100")),
        ("failed", Decimal("200")),
        ("succeeded", Decimal("200")),
    ]
    assert Order.objects.get(number=course_order).payment_status == "paid"
    again = admin.post(f"/orders/{course_order}/mark-paid/", {"payment_system": "bank"})
    assert again.status_code == 422 or "nothing-due" in again.content.decode()


def test_mark_paid_needs_a_manual_method(admin, tee_order, card):
    response = admin.post(f"/orders/{tee_order}/mark-paid/", {"payment_system": "card"})
    assert response.status_code == 422
    assert "choose one of the active manual payment methods" in _html(response)
    assert _invoices(tee_order) == []


def test_a_sales_manager_is_not_offered_and_is_refused_payments(manager, tee_order, bank):
    page = manager.get(f"/orders/{tee_order}/").content.decode()
    assert 'data-testid="take-payment"' not in page
    for path in ("invoice", "manual-payment", "mark-paid"):
        refused = manager.post(f"/orders/{tee_order}/{path}/", {"payment_system": "bank"})
        assert refused.status_code == 403
        assert "payments.add_invoice" in refused.content.decode()
