"""Store sync fixtures: a fake Shopify store on 127.0.0.1 and a connection to it."""

from __future__ import annotations

import pytest

from ordersight.sync.models import StoreConnection
from tests.fakes.shopify import TOKEN, FakeShopify

TOKEN_ENV = "ORDERSIGHT_SYNC_SHOPIFY_TOKEN_TEST"


@pytest.fixture
def shop(settings):
    """The fake store listens on 127.0.0.1 over plain http: only an operator who allows
    private networks lets sync reach it."""
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = True
    fake = FakeShopify().start()
    yield fake
    fake.stop()


@pytest.fixture
def connection(shop, monkeypatch):
    """ "main", a Shopify connection in EUR whose token is in ORDERSIGHT_SYNC_SHOPIFY_TOKEN_TEST."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return StoreConnection.objects.create(
        name="main", platform="shopify", shop_url=shop.url, token_env=TOKEN_ENV
    )
