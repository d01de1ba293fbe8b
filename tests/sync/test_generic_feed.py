"""The generic feed: JSON Lines or CSV files in ordersight's own format, read from a
file:// address, validated row by row with the line named."""

from __future__ import annotations

import json

import pytest

from ordersight.catalog.models import Variant
from ordersight.customers.models import Customer
from ordersight.orders.models import Order
from ordersight.sync import services
from ordersight.sync.models import ReceivedRecord, StoreConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path, catalog, settings):
    settings.SYNC_FILE_ROOT = str(tmp_path)  # the operator's folder of feeds
    return tmp_path


def connect(folder):
    return StoreConnection.objects.create(
        name="files", platform="feed", shop_url=folder.as_uri(), currency="EUR"
    )


def run(connection, kind):
    return services.run_feed(feed=services.feeds_of(connection=connection)[kind])


def test_json_lines_are_read_and_a_bad_line_is_named(folder):
    (folder / "customers.jsonl").write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "external_id": "c1",
                        "name": "Ada",
                        "email": "ada@example.com",
                        "tags": ["b2b"],
                    }
                ),
                "{not json",
                json.dumps({"external_id": "c3", "name": "Bob", "email": "nope", "tags": ["b2b"]}),
                json.dumps(["a list"]),
            ]
        )
    )
    result = run(connect(folder), "customers")
    assert (result.status, result.received, result.created, result.errors) == ("succeeded", 4, 1, 3)
    reasons = sorted(e.reason for e in result.item_errors.all())
    assert any(r.startswith("line 2: not JSON") for r in reasons)
    assert any("line 3:" in r and "email" in r for r in reasons)
    assert any(r.startswith("line 4: not a JSON object") for r in reasons)
    assert Customer.objects.get(external_ids__source="feed").name == "Ada"


def test_csv_products_and_orders(folder):
    (folder / "products.csv").write_text(
        "name,category_number,currency,unit_price,sku,variant_name\n"
        "Poster,10,EUR,15.00,POSTER-S,Small\n"
        "Poster,10,EUR,15.00,POSTER-L,Large\n"
    )
    (folder / "orders.csv").write_text(
        "external_id,created_at,currency,customer_external_id,status,coupon_code,referral_code,sku,name,quantity,unit_price,discount\n"
        "o1,2026-11-01T10:00:00Z,EUR,,open,,,POSTER-S,,2,,\n"
        "o1,2026-11-01T10:00:00Z,EUR,,open,,,,Frame,1,9.50,\n"
        "o2,2026-11-01T11:00:00Z,EUR,,open,,,NOPE,,1,,\n"
    )
    connection = connect(folder)
    products = run(connection, "products")
    assert (products.created, products.errors) == (1, 0)
    assert set(Variant.objects.filter(sku__startswith="POSTER").values_list("sku", flat=True)) == {
        "POSTER-S",
        "POSTER-L",
    }
    orders = run(connection, "orders")
    assert (orders.created, orders.errors) == (1, 1)
    placed = Order.objects.get(source="feed", external_id="o1")
    assert placed.total == 39.5 and placed.line_count == 2
    [error] = orders.item_errors.all()
    assert error.reason.startswith("line 4:") and "NOPE" in error.reason
    again = run(connection, "orders")
    assert again.created == 0 and Order.objects.filter(source="feed").count() == 1


def test_a_feed_without_files_is_amber_and_says_so(folder):
    connection = connect(folder)
    result = run(connection, "customers")
    assert (result.status, result.received) == ("succeeded", 0)
    assert (
        services.feed_status(feed=services.feeds_of(connection=connection)["customers"]).colour
        == "amber"
    )


def test_lookups_find_what_a_generic_feed_sent(folder):
    from ordersight.sync import selectors

    (folder / "customers.jsonl").write_text(
        json.dumps(
            {
                "external_id": "c1",
                "name": "Ada",
                "email": "ada@example.com",
                "tags": ["b2b"],
                "password": "hunter2",
            }
        )
    )
    connection = connect(folder)
    run(connection, "customers")
    found = selectors.lookup_customer(connection=connection, external_id="c1")
    assert found.stored.name == "Ada" and found.received.payload["email"] == "ada@example.com"
    assert "password" not in found.received.payload  # only what is imported is shown
    assert found.admin_url == ""  # a feed has no admin to open
    by_ours = selectors.lookup_customer(connection=connection, customer_id=str(found.stored.pk))
    assert by_ours.received.payload["external_id"] == "c1"


def test_the_json_received_is_kept_once_per_item_and_replaced_when_received_again(folder):
    from ordersight.sync.models import ReceivedRecord

    connection = connect(folder)
    services.record_received(
        connection=connection,
        kind="customers",
        items=[
            {"external_id": "c1", "email": "old@example.com", "_line": 1},
            {"external_id": "c2", "email": "bad", "_error": "email"},  # refused: not kept
            {"email": "no id"},  # nothing to find it by: not kept
            {"external_id": "c1", "email": "later@example.com", "name": 'a "quote"'},
        ],
    )
    (kept,) = ReceivedRecord.objects.filter(connection=connection)
    assert (kept.kind, kept.external_id) == ("customers", "c1")
    assert kept.payload == {"external_id": "c1", "email": "later@example.com", "name": 'a "quote"'}
    services.record_received(
        connection=connection, kind="customers", items=[{"external_id": "c1", "email": "x@y.z"}]
    )
    (again,) = ReceivedRecord.objects.filter(connection=connection)
    assert again.pk == kept.pk and again.payload == {"external_id": "c1", "email": "x@y.z"}
    assert again.received_at >= kept.received_at


def test_only_customers_tagged_or_carrying_the_namespace_are_imported_from_a_feed(folder):
    (folder / "customers.jsonl").write_text(
        "\n".join(
            json.dumps(c)
            for c in [
                {"external_id": "c1", "name": "Tagged", "tags": ["B2B", "vip"]},
                {"external_id": "c2", "name": "Untagged"},
                {"external_id": "c3", "name": "Meta", "metadata": {"ordersight": {"tier": "g"}}},
                {"external_id": "c4", "name": "Retail", "tags": ["retail"]},
                {"external_id": "c5", "name": "Other", "metadata": {"other": {"x": 1}}},
            ]
        )
    )
    result = run(connect(folder), "customers")
    assert (result.received, result.created, result.skipped) == (5, 2, 3)
    assert set(Customer.objects.values_list("name", flat=True)) == {"Tagged", "Meta"}
    assert not ReceivedRecord.objects.filter(external_id__in=["c2", "c4", "c5"]).exists()


def test_csv_customers_are_filtered_by_tag_too(folder):
    (folder / "customers.csv").write_text(
        "external_id,name,email,phone,tags\n"
        "c1,Tagged,t@example.com,,b2b;vip\n"
        "c2,Plain,p@example.com,,\n"
    )
    result = run(connect(folder), "customers")
    assert (result.created, result.skipped) == (1, 1)
    assert Customer.objects.get().name == "Tagged"


def test_a_feed_over_https_reads_the_same_files_through_the_store_address_rules(folder, settings):
    from tests.fakes.shopify import FakeShopify

    settings.SYNC_ALLOW_PRIVATE_NETWORKS = False
    fake = FakeShopify().start()
    try:
        connection = StoreConnection.objects.create(
            name="remote", platform="feed", shop_url=fake.url
        )
        result = run(connection, "customers")
    finally:
        fake.stop()
    assert result.status == "failed" and "SYNC_ALLOW_PRIVATE_NETWORKS" in result.message
    assert fake.store.requests == []


def test_bidi_controls_in_a_feed_refuse_the_row_naming_line_and_field(folder):
    rlo = "\u202e"
    (folder / "customers.csv").write_text(
        "external_id,name,email,phone,tags\n"
        "c1,Ada,ada@example.com,,b2b\n"
        f"c2,Eve{rlo}gpj.exe,eve@example.com,,b2b\n",
        encoding="utf-8",
    )
    (folder / "products.jsonl").write_text(
        json.dumps(
            {
                "name": "Mug",
                "category_number": 10,
                "currency": "EUR",
                "unit_price": "5",
                "variants": [{"sku": f"MUG{rlo}1"}],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    connection = connect(folder)
    customers = run(connection, "customers")
    assert (customers.created, customers.errors) == (1, 1)
    [error] = customers.item_errors.all()
    assert error.external_id == "c2"
    assert error.reason == "line 3: name contains U+202E, a bidirectional control character"
    assert not Customer.objects.filter(name__contains=rlo).exists()
    products = run(connection, "products")
    assert (products.created, products.errors) == (0, 1)
    [error] = products.item_errors.all()
    assert error.reason.startswith("line 1: variants[0].sku contains U+202E")
