"""Shopify order webhooks: verified by their HMAC header, then imported like the feed."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ordersight.orders.models import Order
from ordersight.sync.models import StoreConnection
from ordersight.sync.webhooks import signature_of
from tests.sync.test_shopify_products_and_orders import order

pytestmark = pytest.mark.django_db
SECRET = "shpss_webhook_secret"
URL = "/api/v1/sync/main/webhooks/orders"


@pytest.fixture
def connection(monkeypatch):
    monkeypatch.setenv("ORDERSIGHT_SYNC_WEBHOOK_SECRET_TEST", SECRET)
    return StoreConnection.objects.create(
        name="main",
        platform="shopify",
        shop_url="https://main.example",
        webhook_secret_env="ORDERSIGHT_SYNC_WEBHOOK_SECRET_TEST",
    )


def send(body: bytes, signature: str, topic: str = "orders/create"):
    return Client().post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": topic},
    )


def test_a_signed_order_webhook_imports_the_order_once(connection):
    body = json.dumps(order(1)).encode()
    first = send(body, signature_of(SECRET, body))
    assert first.status_code == 200, first.content
    assert first.json()["result"] == "created"
    again = send(body, signature_of(SECRET, body), topic="orders/updated")
    assert again.json()["result"] == "unchanged"
    placed = Order.objects.get(external_id="5001")
    assert (placed.source, placed.status) == ("shopify", "completed")


def test_a_bad_signature_is_refused_and_nothing_is_imported(connection):
    body = json.dumps(order(1)).encode()
    response = send(body, signature_of("another secret", body))
    assert response.status_code == 401
    assert "X-Shopify-Hmac-Sha256" in response.json()["error"]["fields"]
    tampered = body.replace(b"28.00", b"0.01")
    assert send(tampered, signature_of(SECRET, body)).status_code == 401
    assert not Order.objects.exists()


def test_other_topics_and_bodies_are_refused_by_name(connection):
    body = b'{"id": 1}'
    assert send(body, signature_of(SECRET, body), topic="products/create").status_code == 422
    junk = b"not json"
    response = send(junk, signature_of(SECRET, junk))
    assert response.status_code == 422 and "body" in response.json()["error"]["fields"]
    assert (
        Client()
        .post("/api/v1/sync/nope/webhooks/orders", data=body, content_type="application/json")
        .status_code
        == 401  # as a wrong signature: an outsider learns no connection's name
    )


def test_the_fake_store_sends_a_signed_webhook_to_the_running_app(connection, live_server):
    from tests.fakes.shopify import FakeShopify

    store = FakeShopify()
    status = store.send_webhook(f"{live_server.url}{URL}", "orders/create", order(7), SECRET)
    assert status == 200
    assert Order.objects.get(external_id="5007").source == "shopify"
    forged = store.send_webhook(f"{live_server.url}{URL}", "orders/create", order(8), "guess")
    assert forged == 401 and not Order.objects.filter(external_id="5008").exists()
