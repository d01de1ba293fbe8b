"""The Data Sync page: green and amber feeds with their errors a click away, Refresh, and
both lookups showing the JSON received."""

from __future__ import annotations

import pytest

from ordersight.sync import services
from ordersight.sync.models import StoreConnection, SyncRun
from ordersight.sync.shopify import ShopifyClient
from tests import factories
from tests.fakes.shopify import TOKEN, FakeShopify
from tests.sync.test_shopify_customers import shopper
from tests.sync.test_shopify_products_and_orders import product

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(monkeypatch, settings):
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = True  # the fake store is on 127.0.0.1
    fake = FakeShopify().start()
    monkeypatch.setenv("ORDERSIGHT_SYNC_SHOPIFY_TOKEN_TEST", TOKEN)
    connection = StoreConnection.objects.create(
        name="main",
        platform="shopify",
        shop_url=fake.url,
        token_env="ORDERSIGHT_SYNC_SHOPIFY_TOKEN_TEST",
    )
    fake.store.customers = [
        shopper(
            1,
            note="door code 4711",
            addresses=[{"address1": "1 Main Street"}],
            metafields=[
                {"namespace": "ordersight", "key": "tier", "value": "gold"},
                {"namespace": "private", "key": "pin", "value": "1234"},
            ],
        )
    ]
    fake.store.products = [product(1), product(2, skus=("X", ""))]
    client = ShopifyClient(fake.url, TOKEN, sleep=lambda s: None)
    feeds = services.feeds_of(connection=connection)
    services.run_feed(feed=feeds["customers"], client=client)
    products = services.run_feed(feed=feeds["products"], client=client)
    yield {"connection": connection, "products_run": products}
    fake.stop()


@pytest.fixture
def admin(roles):
    return factories.signed_in(roles, "Admin", "ada")


def test_feeds_show_green_amber_and_the_errors_one_click_away(admin, synced):
    html = admin.get("/sync/").content.decode()
    assert 'data-testid="feed-customers" data-status="green"' in html
    assert 'data-testid="feed-products" data-status="amber"' in html
    assert 'data-testid="feed-orders" data-status="amber"' in html
    run = synced["products_run"]
    assert f'href="/sync/runs/{run.pk}/"' in html
    errors = admin.get(f"/sync/runs/{run.pk}/").content.decode()
    assert "102" in errors and "has no SKU" in errors


def test_refresh_starts_a_run_and_a_second_press_is_refused(admin, synced):
    admin.post("/sync/main/orders/refresh/")
    assert SyncRun.objects.filter(feed__kind="orders", status="running").count() == 1
    again = admin.post("/sync/main/orders/refresh/", follow=True)
    assert "already refreshing" in again.content.decode()
    assert 'data-testid="progress"' in admin.get("/sync/").content.decode()


def test_both_lookups_show_the_json_received(admin, synced):
    product = admin.get("/sync/main/lookup/", {"kind": "product", "sku": "MUG1-A"}).content.decode()
    assert 'data-testid="received-json"' in product and "Mug 1" in product
    customer = admin.get(
        "/sync/main/lookup/", {"kind": "customer", "external_id": "7001"}
    ).content.decode()
    assert "buyer1@example.com" in customer and "/admin/customers/7001" in customer
    missing = admin.get("/sync/main/lookup/", {"kind": "customer", "external_id": "9"})
    assert "No such customer" in missing.content.decode()


def test_a_viewer_sees_statuses_but_no_refresh(roles, synced):
    viewer = factories.signed_in(roles, "Viewer", "vic")
    html = viewer.get("/sync/").content.decode()
    assert 'data-testid="feed-customers"' in html and 'data-testid="refresh-customers"' not in html
    assert viewer.post("/sync/main/customers/refresh/").status_code == 403


def test_a_viewer_sees_only_the_fields_that_are_imported(roles, synced):
    viewer = factories.signed_in(roles, "Viewer", "vic")
    html = viewer.get(
        "/sync/main/lookup/", {"kind": "customer", "external_id": "7001"}
    ).content.decode()
    assert "buyer1@example.com" in html and "gold" in html
    assert "4711" not in html and "Main Street" not in html and "1234" not in html


def test_a_generic_feed_has_no_admin_link(roles, settings, tmp_path):
    import json

    settings.SYNC_FILE_ROOT = str(tmp_path)
    (tmp_path / "customers.jsonl").write_text(
        json.dumps({"external_id": "c1", "name": "Ada", "tags": ["b2b"]})
    )
    connection = StoreConnection.objects.create(
        name="files", platform="feed", shop_url=tmp_path.as_uri()
    )
    services.run_feed(feed=services.feeds_of(connection=connection)["customers"])
    viewer = factories.signed_in(roles, "Viewer", "vic")
    html = viewer.get(
        "/sync/files/lookup/", {"kind": "customer", "external_id": "c1"}
    ).content.decode()
    assert 'data-testid="received-json"' in html and "Ada" in html
    assert 'data-testid="admin-link"' not in html and "/products/None" not in html
