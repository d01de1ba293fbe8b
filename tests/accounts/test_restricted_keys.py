"""Restricted API keys carry permissions, like the roles; unauthenticated writes are 401."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ordersight.accounts.services import create_api_key
from ordersight.core.errors import Invalid
from tests.conftest import ApiClient

STOREFRONT = "orders.add_order,orders.view_order,catalog.view_variant"


@pytest.fixture
def storefront(db) -> ApiClient:
    return ApiClient(create_api_key(name="shop", scopes="read,write", permissions=STOREFRONT)[1])


def test_a_storefront_key_creates_orders_but_cannot_refund_or_confirm(storefront, api, catalog):
    created = storefront.post("orders", {"lines": [{"sku": "COURSE-1"}]})
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    for path, body, perm in [
        (f"orders/{number}/confirm", None, "orders.change_order"),
        (f"orders/{number}/invoices", {}, "payments.add_invoice"),
        ("customers", {"name": "Eve"}, "customers.add_customer"),
        (
            "payment-systems",
            {"code": "x", "name": "X", "provider": "test"},
            "payments.add_paymentsystem",
        ),
    ]:
        r = storefront.post(path, body)
        assert r.status_code == 403, (path, r.content)
        assert r.json()["error"]["fields"] == {"permission": perm}
        assert "API key" in r.json()["error"]["message"]
    invoice = api.post(f"orders/{number}/invoices", {}).json()[0]["number"]
    refused = storefront.post(f"invoices/{invoice}/refunds", {"amount": "1.00"})
    assert refused.status_code == 403
    assert storefront.get(f"orders/{number}").status_code == 200
    assert storefront.get("payments").status_code == 403


def test_a_restricted_key_cannot_complete_unpaid_orders_through_bulk(storefront, catalog):
    r = storefront.post(
        "orders/bulk",
        {
            "orders": [
                {
                    "source": "storefront",
                    "external_id": "s1",
                    "status": "completed",
                    "lines": [{"sku": "TEE-M"}],
                }
            ]
        },
    )
    item = r.json()["results"][0]
    assert item["result"] == "error"
    assert item["fields"] == {"permission": "payments.confirm_partial_payments"}


def test_unknown_permissions_are_refused_by_name(db):
    with pytest.raises(Invalid) as refused:
        create_api_key(name="x", scopes="write", permissions="orders.add_order,orders.fly")
    assert "orders.fly" in refused.value.fields["permissions"]


def test_the_shell_creates_restricted_keys(db, capsys):
    call_command(
        "apikey",
        "create",
        "--name",
        "shop",
        "--scopes",
        "write",
        "--permissions",
        "orders.add_order",
    )
    out = capsys.readouterr().out
    assert "restricted to orders.add_order" in out


def test_read_and_write_keys_keep_their_scope_rules(api, read_api, catalog):
    assert read_api.post("orders", {"lines": [{"sku": "TEE-M"}]}).status_code == 403
    assert read_api.get("orders").status_code == 200
    assert api.post("orders", {"lines": [{"sku": "TEE-M"}]}).status_code == 201


@pytest.mark.parametrize("path", ["orders", "orders/bulk", "customers", "payment-systems"])
def test_unauthenticated_writes_get_401_with_the_error_shape(db, path):
    r = ApiClient().post(path, {})
    assert r.status_code == 401, r.content
    assert r.json()["error"]["code"] == "unauthenticated"
