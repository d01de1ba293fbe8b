"""The variables a store connection may read its token and webhook secret from are the
operator's (names starting with SYNC_SECRET_ENV_PREFIX): the API refuses any other, and a
connection stored before that rule never reads nor sends one."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ordersight.orders.models import Order
from ordersight.sync import services
from ordersight.sync.models import StoreConnection
from ordersight.sync.webhooks import signature_of
from tests.sync.test_shopify_customers import shopper
from tests.sync.test_shopify_products_and_orders import order

pytestmark = pytest.mark.django_db
SERVER_SECRETS = ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "ORDERSIGHT_SYNC_"]


@pytest.mark.parametrize("variable", SERVER_SECRETS)
@pytest.mark.parametrize("field", ["token_env", "webhook_secret_env"])
def test_a_variable_outside_the_sync_prefix_is_refused_naming_the_field(api, field, variable):
    body = {"name": "main", "shop_url": "https://main.myshopify.com", field: variable}
    response = api.post("sync/connections", body)
    assert response.status_code == 422, response.content
    assert "ORDERSIGHT_SYNC_" in response.json()["error"]["fields"][field]
    assert not StoreConnection.objects.exists()


def test_the_prefix_is_the_operators_choice(api, settings):
    settings.SYNC_SECRET_ENV_PREFIX = "SHOP_SECRETS_"
    body = {"name": "main", "shop_url": "https://main.myshopify.com"}
    refused = api.post("sync/connections", {**body, "token_env": "ORDERSIGHT_SYNC_TOKEN"})
    assert refused.status_code == 422 and "token_env" in refused.json()["error"]["fields"]
    made = api.post("sync/connections", {**body, "token_env": "SHOP_SECRETS_MAIN"})
    assert made.status_code == 201 and made.json()["token_env"] == "SHOP_SECRETS_MAIN"


@pytest.mark.parametrize("variable", ["SECRET_KEY", "DATABASE_URL"])
def test_a_stored_connection_naming_a_server_secret_never_sends_it(shop, monkeypatch, variable):
    # A row written before the rule existed, pointing at a store that would log the token.
    monkeypatch.setenv(variable, "the-servers-own-secret")
    connection = StoreConnection.objects.create(
        name="old", platform="shopify", shop_url=shop.url, token_env=variable
    )
    shop.store.customers = [shopper(1)]
    run = services.run_feed(feed=services.feeds_of(connection=connection)["customers"])
    assert run.status == "failed"
    assert "ORDERSIGHT_SYNC_" in run.message and "the-servers-own-secret" not in run.message
    assert shop.store.requests == []


def test_a_stored_webhook_secret_outside_the_prefix_verifies_nothing(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "127.0.0.1,localhost")
    StoreConnection.objects.create(
        name="old",
        platform="shopify",
        shop_url="https://old.myshopify.com",
        webhook_secret_env="ALLOWED_HOSTS",
    )
    body = json.dumps(order(1)).encode()
    response = Client().post(
        "/api/v1/sync/old/webhooks/orders",
        data=body,
        content_type="application/json",
        headers={
            "X-Shopify-Hmac-Sha256": signature_of("127.0.0.1,localhost", body),
            "X-Shopify-Topic": "orders/create",
        },
    )
    assert response.status_code == 401
    assert not Order.objects.exists()


def test_the_webhook_answers_an_unknown_store_a_missing_secret_and_a_bad_signature_alike(
    monkeypatch,
):
    monkeypatch.setenv("ORDERSIGHT_SYNC_WEBHOOK_MAIN", "shpss_main")
    StoreConnection.objects.create(
        name="main",
        platform="shopify",
        shop_url="https://main.myshopify.com",
        webhook_secret_env="ORDERSIGHT_SYNC_WEBHOOK_MAIN",
    )
    StoreConnection.objects.create(
        name="bare", platform="shopify", shop_url="https://bare.myshopify.com"
    )
    StoreConnection.objects.create(
        name="unset",
        platform="shopify",
        shop_url="https://unset.myshopify.com",
        webhook_secret_env="ORDERSIGHT_SYNC_NOT_SET",
    )
    body = json.dumps(order(1)).encode()
    headers = {
        "X-Shopify-Hmac-Sha256": signature_of("a guess", body),
        "X-Shopify-Topic": "orders/create",
    }
    answers = {
        name: Client().post(
            f"/api/v1/sync/{name}/webhooks/orders",
            data=body,
            content_type="application/json",
            headers=headers,
        )
        for name in ("nowhere", "bare", "unset", "main")
    }
    assert {a.status_code for a in answers.values()} == {401}
    assert len({a.content for a in answers.values()}) == 1, {
        n: a.content for n, a in answers.items()
    }
    assert not Order.objects.exists()
