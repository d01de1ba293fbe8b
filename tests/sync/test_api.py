"""The store sync API: connections with feed statuses, refresh, runs, lookups, bad input."""

from __future__ import annotations

import psycopg
import pytest
import redis.exceptions
from django.db import OperationalError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from ordersight.api.sync import SHOP_URL_PATTERN
from ordersight.core import deadlocks
from ordersight.sync import services, transport
from ordersight.sync.models import ReceivedRecord, StoreConnection, SyncRun
from ordersight.sync.shopify import ShopifyClient
from tests import factories
from tests.fakes.shopify import TOKEN
from tests.sync.test_shopify_customers import shopper
from tests.sync.test_shopify_products_and_orders import product

pytestmark = pytest.mark.django_db


def test_a_connection_is_made_and_shows_its_feeds(api, db):
    r = api.post(
        "sync/connections",
        {
            "name": "main",
            "shop_url": "https://main.myshopify.com",
            "token_env": "ORDERSIGHT_SYNC_TOKEN_MAIN",
        },
    )
    assert r.status_code == 201, r.content
    feeds = {f["kind"]: f for f in r.json()["feeds"]}
    assert set(feeds) == {"products", "customers", "orders"}
    assert (
        feeds["customers"]["status"] == "amber"
        and "configuring" in feeds["customers"]["status_text"]
    )
    assert r.json()["token_env"] == "ORDERSIGHT_SYNC_TOKEN_MAIN"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "shop_url": "https://a.example"}, "name"),
        ({"name": "a", "shop_url": "ftp://a.example"}, "shop_url"),
        ({"name": "a", "shop_url": "https://a.example", "token_env": "not a var"}, "token_env"),
        ({"name": "a", "shop_url": "https://a.example", "currency": "XXX"}, "currency"),
        ({"name": "a", "shop_url": "https://a.example", "refresh_minutes": 0}, "refresh_minutes"),
        (
            {"name": "a", "shop_url": "https://a.example", "refresh_minutes": 1441},
            "refresh_minutes",
        ),
        ({"name": "a/b", "shop_url": "https://a.example"}, "name"),
        ({"name": "a", "shop_url": "https://shop.localhost"}, "shop_url"),
        ({"name": "a", "shop_url": "https://10.0.0.1"}, "shop_url"),
        ({"name": "a", "shop_url": "https://a.example/?page=2"}, "shop_url"),
        ({"name": "a", "shop_url": "https://a.example:0"}, "shop_url"),
        ({"name": "a", "shop_url": "https://a.example/" + "p" * 300}, "shop_url"),
        (
            {"name": "a", "shop_url": "https://a.example", "token_env": "ORDERSIGHT_SYNC_"},
            "token_env",
        ),
    ],
)
def test_a_bad_connection_is_refused_naming_the_field(api, db, body, field):
    r = api.post("sync/connections", body)
    assert r.status_code == 422 and field in r.json()["error"]["fields"]
    assert not StoreConnection.objects.exists()


def test_refresh_starts_a_run_once(api, db):
    api.post("sync/connections", {"name": "main", "shop_url": "https://main.example"})
    first = api.post("sync/connections/main/feeds/customers/refresh", {})
    assert first.status_code == 202 and first.json()["status"] == "running"
    assert api.post("sync/connections/main/feeds/customers/refresh", {}).status_code == 409
    assert api.post("sync/connections/main/feeds/nope/refresh", {}).status_code == 422
    assert SyncRun.objects.count() == 1


def test_a_run_shows_its_errors_and_the_lookups_show_what_the_store_sent(api, shop, monkeypatch):
    monkeypatch.setenv("ORDERSIGHT_SYNC_SHOPIFY_TOKEN_TEST", TOKEN)
    connection = StoreConnection.objects.create(
        name="main",
        platform="shopify",
        shop_url=shop.url,
        token_env="ORDERSIGHT_SYNC_SHOPIFY_TOKEN_TEST",
    )
    shop.store.customers = [shopper(1), shopper(2, email="bad")]
    shop.store.products = [product(1)]
    client = ShopifyClient(shop.url, TOKEN, sleep=lambda s: None)
    feeds = services.feeds_of(connection=connection)
    run = services.run_feed(feed=feeds["customers"], client=client)
    services.run_feed(feed=feeds["products"], client=client)
    detail = api.get(f"sync/runs/{run.pk}").json()
    assert detail["errors"] == 1 and detail["item_errors"][0]["external_id"] == "7002"
    customer = api.get("sync/connections/main/lookup/customer", external_id="7001").json()
    assert customer["stored"]["email"] == "buyer1@example.com"
    assert customer["received"]["first_name"] == "Buyer"
    assert customer["admin_url"].endswith("/admin/customers/7001")
    by_ours = api.get(
        "sync/connections/main/lookup/customer", id=str(customer["stored"]["id"])
    ).json()
    assert by_ours["received"]["id"] == 7001
    by_sku = api.get("sync/connections/main/lookup/product", sku="MUG1-B").json()
    assert by_sku["stored"]["name"] == "Mug 1" and by_sku["received"]["id"] == 101
    by_id = api.get("sync/connections/main/lookup/product", external_id="101").json()
    assert by_id["stored"]["sku"].startswith("MUG1-")
    assert api.get("sync/connections/main/lookup/product").status_code == 422
    assert api.get("sync/connections/main/lookup/customer", external_id="999").status_code == 404


def test_lookups_show_only_the_fields_that_are_imported(read_api, shop, connection):
    shop.store.customers = [
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
    shop.store.products = [{**product(1), "vendor": "Hidden Supplier Ltd", "body_html": "<p>"}]
    client = ShopifyClient(shop.url, TOKEN, sleep=lambda s: None)
    feeds = services.feeds_of(connection=connection)
    services.run_feed(feed=feeds["customers"], client=client)
    services.run_feed(feed=feeds["products"], client=client)
    customer = read_api.get("sync/connections/main/lookup/customer", external_id="7001").json()
    received = customer["received"]
    assert received["email"] == "buyer1@example.com" and received["tags"] == "b2b"
    assert "note" not in received and "addresses" not in received
    assert received["metafields"] == [{"namespace": "ordersight", "key": "tier", "value": "gold"}]
    product_found = read_api.get("sync/connections/main/lookup/product", sku="MUG1-A").json()
    assert product_found["received"]["title"] == "Mug 1"
    assert (
        "vendor" not in product_found["received"] and "body_html" not in product_found["received"]
    )


def test_a_refresh_that_cannot_be_queued_fails_its_run_instead_of_blocking_the_feed(
    api, db, monkeypatch, django_capture_on_commit_callbacks
):
    from ordersight.sync import tasks

    def queue_away(run_id):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    api.post("sync/connections", {"name": "main", "shop_url": "https://main.example"})
    feed = services.feeds_of(connection=StoreConnection.objects.get(name="main"))["customers"]
    monkeypatch.setattr(tasks, "_run_started", queue_away)
    with (
        pytest.raises(redis.exceptions.ConnectionError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.refresh_in_worker(feed)
    run = SyncRun.objects.get()
    assert run.status == "failed" and "queue" in run.message and run.finished_at
    monkeypatch.undo()
    with django_capture_on_commit_callbacks():  # queued for real is not this test's concern
        again = api.post("sync/connections/main/feeds/customers/refresh", {})
    assert again.status_code == 202


def test_json_stored_before_the_imported_fields_rule_shows_only_the_imported_fields(
    read_api, roles
):
    """Rows received before only imported fields were kept still hold the whole item: the
    lookups (API and page) show its imported fields only."""
    connection = StoreConnection.objects.create(
        name="main", platform="shopify", shop_url="https://main.myshopify.com"
    )
    full_customer = {
        "id": 7001,
        "email": "buyer@example.com",
        "tags": "b2b",
        "note": "door code 4711",
        "metafields": [
            {"namespace": "ordersight", "key": "tier", "value": "gold"},
            {"namespace": "private", "key": "pin", "value": "1234"},
        ],
    }
    full_product = {
        "id": 101,
        "title": "Mug",
        "vendor": "Hidden Supplier Ltd",
        "variants": [{"id": 1, "sku": "MUG-A", "inventory_item_id": 99}],
    }
    ReceivedRecord.objects.create(
        connection=connection,
        kind="customers",
        external_id="7001",
        payload=full_customer,
        received_at=timezone.now(),
    )
    ReceivedRecord.objects.create(
        connection=connection,
        kind="products",
        external_id="101",
        payload=full_product,
        search_keys=" MUG-A ",
        received_at=timezone.now(),
    )
    customer = read_api.get("sync/connections/main/lookup/customer", external_id="7001").json()
    assert customer["received"] == {
        "id": 7001,
        "email": "buyer@example.com",
        "tags": "b2b",
        "metafields": [{"namespace": "ordersight", "key": "tier", "value": "gold"}],
    }
    for query in ({"sku": "MUG-A"}, {"external_id": "101"}):
        found = read_api.get("sync/connections/main/lookup/product", **query).json()
        assert found["received"] == {
            "id": 101,
            "title": "Mug",
            "variants": [{"id": 1, "sku": "MUG-A"}],
        }
    viewer = factories.signed_in(roles, "Viewer", "vic")
    page = viewer.get("/sync/main/lookup/", {"kind": "customer", "external_id": "7001"})
    assert "tier" in page.content.decode()
    assert "door code" not in page.content.decode() and "1234" not in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_start_is_aborted_by_a_deadlock_starts_on_the_next_attempt(monkeypatch):
    monkeypatch.setattr(deadlocks, "sleep", lambda seconds: None)
    connection = StoreConnection.objects.create(
        name="main", platform="shopify", shop_url="https://main.myshopify.com"
    )
    feed = services.feeds_of(connection=connection)["orders"]
    create, calls = SyncRun.objects.create, []

    def aborted_once(**fields):
        calls.append(fields)
        if len(calls) == 1:
            exc = OperationalError("deadlock detected")
            exc.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
            raise exc
        return create(**fields)

    monkeypatch.setattr(SyncRun.objects, "create", aborted_once)
    run = services.start_run(feed=feed)
    assert len(calls) == 2 and SyncRun.objects.filter(pk=run.pk, feed=feed).exists()


@settings(max_examples=200, deadline=None)
@given(st.from_regex(SHOP_URL_PATTERN, fullmatch=True))
def test_every_store_address_the_schema_admits_is_one_sync_accepts(url):
    # What the API's schema states is a rule of store sync's own (transport.url_refusal),
    # without its private-network allowance: the two must not drift apart.
    assert transport.url_refusal(url, files=False) is None
