"""Store sync fixtures: a fake Shopify store on 127.0.0.1 and a connection to it."""

from __future__ import annotations

import pytest

from ordersight.sync.models import StoreConnection
from tests.fakes.shopify import TOKEN, FakeShopify


@pytest.fixture
def shop():
    fake = FakeShopify().start()
    yield fake
    fake.stop()


@pytest.fixture
def connection(shop, monkeypatch):
    """ "main", a Shopify connection in EUR whose token is in SHOPIFY_TOKEN_TEST."""
    monkeypatch.setenv("SHOPIFY_TOKEN_TEST", TOKEN)
    return StoreConnection.objects.create(
        name="main", platform="shopify", shop_url=shop.url, token_env="SHOPIFY_TOKEN_TEST"
    )
