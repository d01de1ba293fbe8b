"""The Shopify connector against a fake store on 127.0.0.1: pages, throttling, retries,
per-item errors, the B2B filter, incremental runs, idempotent re-import, feed statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ordersight.core.errors import Conflict
from ordersight.customers.models import Customer
from ordersight.sync import services
from ordersight.sync.models import ReceivedRecord, StoreConnection, SyncRun
from ordersight.sync.shopify import ShopifyClient
from ordersight.sync.transport import StoreUnavailable
from tests.fakes.shopify import TOKEN

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def shopper(n: int, *, tags: str = "b2b", updated: datetime = T0, **extra) -> dict:
    return {
        "id": 7000 + n,
        "email": f"buyer{n}@example.com",
        "first_name": "Buyer",
        "last_name": str(n),
        "tags": tags,
        "updated_at": updated.isoformat(),
        **extra,
    }


def customers_feed(connection):
    return services.feeds_of(connection=connection)["customers"]


def quick(connection) -> ShopifyClient:
    return ShopifyClient(connection.shop_url, TOKEN, sleep=lambda seconds: None)


def test_pages_are_followed_by_the_link_header(shop, connection):
    shop.store.customers = [shopper(n) for n in range(600)]
    run = services.run_feed(feed=customers_feed(connection), client=quick(connection))
    assert (run.status, run.expected, run.received, run.created) == ("succeeded", 600, 600, 600)
    pages = [r for r in shop.store.requests if "/customers.json" in r]
    assert len(pages) == 3 and "page_info=" in pages[1]
    assert Customer.objects.filter(external_ids__source="shopify").count() == 600


def test_throttling_is_waited_out_as_retry_after_says(shop, connection):
    shop.store.customers = [shopper(n) for n in range(300)]
    shop.store.throttle_every = 2
    shop.store.retry_after = "1.5"
    waits: list[float] = []
    client = ShopifyClient(connection.shop_url, TOKEN, sleep=waits.append)
    run = services.run_feed(feed=customers_feed(connection), client=client)
    assert run.status == "succeeded" and run.created == 300
    assert client.throttled >= 1 and set(waits) == {1.5}


def test_server_errors_are_retried_with_backoff_then_the_run_fails_and_says_why(shop, connection):
    shop.store.customers = [shopper(1)]
    shop.store.fail_next(2)
    waits: list[float] = []
    client = ShopifyClient(connection.shop_url, TOKEN, sleep=waits.append)
    assert services.run_feed(feed=customers_feed(connection), client=client).status == "succeeded"
    assert waits == [0.5, 1.0]
    shop.store.fail_next(50)
    failed = services.run_feed(feed=customers_feed(connection), client=quick(connection), full=True)
    assert failed.status == "failed" and "500" in failed.message
    # What the first run wrote is still there.
    assert Customer.objects.filter(email="buyer1@example.com").exists()


def test_only_tagged_customers_or_those_with_the_namespace_are_imported(shop, connection):
    shop.store.customers = [
        shopper(1, tags="B2B, vip"),
        shopper(2, tags="retail"),
        shopper(
            3, tags="", metafields=[{"namespace": "ordersight", "key": "tier", "value": "gold"}]
        ),
        shopper(4, tags="", metafields=[{"namespace": "other", "key": "x", "value": "y"}]),
    ]
    run = services.run_feed(feed=customers_feed(connection), client=quick(connection))
    assert (run.received, run.created, run.skipped) == (4, 2, 2)
    imported = Customer.objects.get(email="buyer3@example.com")
    assert imported.metadata == {"ordersight": {"tier": "gold"}}
    assert sorted(
        Customer.objects.get(email="buyer1@example.com").tags.values_list("name", flat=True)
    ) == ["b2b", "vip"]


def test_a_bad_record_is_reported_with_its_id_and_the_run_goes_on(shop, connection):
    shop.store.customers = [shopper(1), shopper(2, email="not an email"), shopper(3)]
    run = services.run_feed(feed=customers_feed(connection), client=quick(connection))
    assert (run.status, run.created, run.errors) == ("succeeded", 2, 1)
    [error] = run.item_errors.all()
    assert error.external_id == "7002" and "email" in error.reason


def test_incremental_runs_ask_for_what_changed_and_re_import_is_idempotent(shop, connection):
    shop.store.customers = [shopper(n) for n in range(3)]
    feed = customers_feed(connection)
    first = services.run_feed(feed=feed, client=quick(connection))
    feed.refresh_from_db()
    assert feed.synced_until == first.started_at
    later = first.started_at + timedelta(minutes=5)
    shop.store.customers[1] = shopper(1, updated=later, phone="+48 600 100 200")
    second = services.run_feed(feed=feed, client=quick(connection))
    assert (second.received, second.created, second.updated) == (1, 0, 1)
    assert "updated_at_min=" in shop.store.requests[-1]
    again = services.run_feed(feed=feed, client=quick(connection), full=True)
    assert (again.received, again.created) == (3, 0)
    assert Customer.objects.count() == 3
    assert ReceivedRecord.objects.get(external_id="7001").payload["phone"] == "+48 600 100 200"


def test_a_refresh_already_running_is_not_started_twice(connection):
    feed = customers_feed(connection)
    services.start_run(feed=feed)
    with pytest.raises(Conflict):
        services.run_feed(feed=feed)
    assert SyncRun.objects.filter(feed=feed).count() == 1


def test_the_three_feed_statuses(shop, connection):
    feed = customers_feed(connection)
    assert services.feed_status(feed=feed).colour == "amber"  # nothing received yet
    assert "configuring" in services.feed_status(feed=feed).text
    shop.store.customers = [shopper(1)]
    services.run_feed(feed=feed, client=quick(connection))
    assert services.feed_status(feed=feed).colour == "green"
    shop.store.customers = [shopper(2, email="nope")]
    services.run_feed(feed=feed, client=quick(connection), full=True)
    status = services.feed_status(feed=feed)
    assert status.colour == "amber" and "1 error" in status.text


def test_a_feed_whose_first_refresh_could_not_reach_the_store_says_so(shop, connection):
    shop.stop()  # nothing listens at the store's address any more
    feed = customers_feed(connection)
    run = services.run_feed(feed=feed, client=quick(connection))
    assert run.status == "failed" and run.received == 0
    status = services.feed_status(feed=feed)
    assert status.colour == "amber"
    assert status.text == "The last refresh failed: could not reach the store"


def test_a_missing_token_fails_the_run_naming_the_variable(db, shop):
    connection = StoreConnection.objects.create(
        name="No token",
        platform="shopify",
        shop_url=shop.url,
        token_env="ORDERSIGHT_SYNC_UNSET_TOKEN",
    )
    run = services.run_feed(feed=customers_feed(connection))
    assert run.status == "failed" and "ORDERSIGHT_SYNC_UNSET_TOKEN" in run.message


def test_wrong_credentials_are_not_retried(shop, connection):
    client = ShopifyClient(connection.shop_url, "wrong", sleep=lambda s: None)
    with pytest.raises(StoreUnavailable, match="401"):
        list(client.pages("customers"))
    assert len(shop.store.requests) == 1


class _FailingOnPage:
    """The store's client, the store failing when asked for page `failing` (from 1)."""

    def __init__(self, client: ShopifyClient, failing: int) -> None:
        self.client = client
        self.failing = failing

    def count(self, *args, **kwargs):
        return self.client.count(*args, **kwargs)

    def pages(self, *args, **kwargs):
        for number, page in enumerate(self.client.pages(*args, **kwargs), start=1):
            if number == self.failing:
                raise StoreUnavailable("the store answered 500")
            yield page


def test_pages_are_written_a_thousand_items_at_most_a_transaction(shop, connection, monkeypatch):
    monkeypatch.setattr(services, "ITEMS_PER_WRITE", 500)
    writes: list[int] = []
    write = services._write_page

    def counted(run, connection, items, counts):
        writes.append(len(items))
        return write(run, connection, items, counts)

    monkeypatch.setattr(services, "_write_page", counted)
    shop.store.customers = [shopper(n) for n in range(1100)]
    run = services.run_feed(feed=customers_feed(connection), client=quick(connection))
    assert (run.status, run.received, run.created) == ("succeeded", 1100, 1100)
    assert writes == [500, 500, 100]  # pages of 250, never split


def test_what_came_before_a_failing_page_is_written_and_the_run_says_why(shop, connection):
    shop.store.customers = [shopper(n) for n in range(600)]
    client = _FailingOnPage(quick(connection), failing=3)
    run = services.run_feed(feed=customers_feed(connection), client=client)
    assert (run.status, run.received, run.created) == ("failed", 500, 500)
    assert "500" in run.message
    assert Customer.objects.filter(external_ids__source="shopify").count() == 500
    # The next run starts again from where the last good one ended: nothing is skipped.
    again = services.run_feed(feed=customers_feed(connection), client=quick(connection))
    assert (again.status, again.created) == ("succeeded", 100)


class _RepeatingOnPage:
    """The store's client, the store bringing its first customer again on page 2 (changed
    while the run paged through it)."""

    def __init__(self, client: ShopifyClient) -> None:
        self.client = client

    def count(self, *args, **kwargs):
        return self.client.count(*args, **kwargs)

    def pages(self, *args, **kwargs):
        first = None
        for number, page in enumerate(self.client.pages(*args, **kwargs), start=1):
            if number == 1:
                first = page.items[0]
            elif number == 2:
                page.items.append({**first, "first_name": "Renamed"})
            yield page


def test_an_item_brought_again_on_a_later_page_is_updated_not_refused(shop, connection):
    shop.store.customers = [shopper(n) for n in range(300)]
    run = services.run_feed(
        feed=customers_feed(connection), client=_RepeatingOnPage(quick(connection))
    )
    assert (run.status, run.received, run.errors) == ("succeeded", 301, 0)
    assert (run.created, run.updated) == (300, 1)
    assert Customer.objects.get(email="buyer0@example.com").name == "Renamed 0"
