"""Payment systems through the API alone: create, fee rules, secret never shown, bad input."""

from __future__ import annotations

import json
import time

import pytest

from ordersight.payments.models import PaymentSystem
from ordersight.payments.webhooks import SIGNATURE_HEADER, sign

SECRET = "whsec_0123456789abcdef"


def test_a_fresh_install_takes_card_and_manual_payments_through_the_api_alone(api, catalog):
    card = api.post(
        "payment-systems",
        {
            "code": "acme",
            "name": "Acme Payments EU",
            "provider": "test",
            "supports_one_click": True,
            "webhook_secret": SECRET,
        },
    )
    assert card.status_code == 201, card.content
    body = card.json()
    assert body["has_webhook_secret"] is True and SECRET not in card.content.decode()
    assert body["webhook_url"] == "/api/v1/payments/webhooks/acme"
    fee = api.request(
        "put", "payment-systems/acme/fee-rules/eur", {"percent": "2.9", "fixed": "0.25"}
    )
    assert fee.status_code == 200, fee.content
    assert fee.json()["fee_rules"] == [{"currency": "EUR", "percent": "2.9", "fixed": "0.25"}]
    assert (
        api.post(
            "payment-systems", {"code": "bank", "name": "Bank", "provider": "manual"}
        ).status_code
        == 201
    )

    number = api.post("orders", {"lines": [{"sku": "TEE-M", "quantity": 2}]}).json()["number"]
    (invoice,) = api.post(f"orders/{number}/invoices", {}).json()
    charged = api.post(
        f"invoices/{invoice['number']}/charge",
        {"payment_system": "acme", "card_token": "tok_success"},
    ).json()
    assert (charged["status"], charged["fee"], charged["funds_credited"]) == (
        "succeeded",
        "1.40",
        "38.40",
    )

    other = api.post("orders", {"lines": [{"sku": "TEE-M"}]}).json()["number"]
    manual = api.post(
        f"orders/{other}/payments/manual", {"payment_system": "bank", "buyer_comment": "wire"}
    )
    assert manual.status_code == 201 and manual.json()["status"] == "succeeded"
    assert api.get(f"orders/{other}").json()["status"] == "completed"


def test_the_webhook_secret_set_through_the_api_verifies_webhooks(api, catalog):
    api.post(
        "payment-systems",
        {"code": "acme", "name": "Acme", "provider": "test", "webhook_secret": SECRET},
    )
    body = json.dumps(
        {
            "id": "evt_1",
            "type": "payment.failed",
            "created": int(time.time()),
            "data": {"invoice": 999999},
        }
    ).encode()
    good = api.request(
        "post", "payments/webhooks/acme", raw=body, headers={SIGNATURE_HEADER: sign(SECRET, body)}
    )
    assert good.status_code != 401
    rotated = api.patch("payment-systems/acme", {"webhook_secret": "whsec_rotated_0123456789"})
    assert rotated.status_code == 200 and "whsec" not in rotated.content.decode()
    stale = api.request(
        "post", "payments/webhooks/acme", raw=body, headers={SIGNATURE_HEADER: sign(SECRET, body)}
    )
    assert stale.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "Bad Code", "name": "X", "provider": "test"}, "code"),
        ({"code": "x", "name": "", "provider": "test"}, "name"),
        ({"code": "x", "name": "X", "provider": "paypal"}, "provider"),
        (
            {"code": "x", "name": "X", "provider": "test", "webhook_secret": "short"},
            "webhook_secret",
        ),
        (
            {"code": "x", "name": "X", "provider": "manual", "supports_one_click": True},
            "supports_one_click",
        ),
        ({"code": "x", "name": "X", "provider": "test", "fee": 1}, "fee"),
    ],
)
def test_bad_payment_systems_are_refused_naming_the_field(api, body, field):
    r = api.post("payment-systems", body)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert not PaymentSystem.objects.exists()


def test_codes_and_names_are_unique_and_the_code_never_changes(api):
    api.post("payment-systems", {"code": "acme", "name": "Acme", "provider": "test"})
    again = api.post("payment-systems", {"code": "acme", "name": "Other", "provider": "test"})
    assert again.status_code == 409
    assert api.patch("payment-systems/acme", {"code": "new"}).status_code == 422
    assert api.patch("payment-systems/nope", {"name": "x"}).status_code == 404
    assert PaymentSystem.objects.get().name == "Acme"


@pytest.mark.parametrize(
    ("currency", "body", "field"),
    [
        ("XXY", {"percent": "1"}, "currency"),
        ("EUR", {"percent": "100"}, "percent"),
        ("EUR", {"percent": "-1"}, "percent"),
        ("EUR", {"percent": "1.00001"}, "percent"),
        ("EUR", {"fixed": "0.001"}, "fixed"),
        ("JPY", {"fixed": "0.5"}, "fixed"),
        ("EUR", {"fixed": "-1"}, "fixed"),
    ],
)
def test_bad_fee_rules_are_refused_and_keep_the_old_rule(api, currency, body, field):
    api.post("payment-systems", {"code": "acme", "name": "Acme", "provider": "test"})
    api.request("put", f"payment-systems/acme/fee-rules/{currency}", {"percent": "2"})
    before = api.get("payment-systems/acme").json()["fee_rules"]
    r = api.request("put", f"payment-systems/acme/fee-rules/{currency}", body)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert api.get("payment-systems/acme").json()["fee_rules"] == before


def test_a_fee_rule_is_replaced_and_removed_per_currency(api):
    api.post("payment-systems", {"code": "acme", "name": "Acme", "provider": "test"})
    api.request("put", "payment-systems/acme/fee-rules/USD", {"percent": "3.5"})
    api.request("put", "payment-systems/acme/fee-rules/USD", {"percent": "3", "fixed": "0.30"})
    assert api.get("payment-systems/acme").json()["fee_rules"] == [
        {"currency": "USD", "percent": "3", "fixed": "0.30"}
    ]
    assert api.request("delete", "payment-systems/acme/fee-rules/USD").status_code == 200
    assert api.request("delete", "payment-systems/acme/fee-rules/USD").status_code == 404


def test_a_sales_manager_reads_but_cannot_create_payment_systems(client, roles):
    from tests import factories

    user = factories.UserFactory()
    user.groups.add(roles["Sales manager"])
    client.force_login(user)
    assert client.get("/api/v1/payment-systems").status_code == 200
    r = client.post(
        "/api/v1/payment-systems",
        {"code": "x", "name": "X", "provider": "test"},
        content_type="application/json",
    )
    assert r.status_code == 403
    assert r.json()["error"]["fields"] == {"permission": "payments.add_paymentsystem"}
