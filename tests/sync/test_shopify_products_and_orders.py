"""Products and orders from the fake Shopify store: offers with variants, orders through the
same ingest (paid, refunded, cancelled, codes), per-item errors, idempotent re-import."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ordersight.catalog.models import Offer, Variant
from ordersight.orders.models import Order
from ordersight.payments.models import Refund
from ordersight.sync import services
from ordersight.sync.shopify import ShopifyClient
from tests.fakes.shopify import TOKEN

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def run(connection, kind: str, *, full: bool = False):
    client = ShopifyClient(connection.shop_url, TOKEN, sleep=lambda s: None)
    return services.run_feed(
        feed=services.feeds_of(connection=connection)[kind], client=client, full=full
    )


def product(n: int, *, skus=("A", "B"), product_type="Mugs") -> dict:
    return {
        "id": 100 + n,
        "title": f"Mug {n}",
        "product_type": product_type,
        "updated_at": T0.isoformat(),
        "variants": [
            {
                "id": 1000 + n * 10 + i,
                "sku": f"MUG{n}-{s}" if s else "",
                "title": s,
                "price": "12.50",
            }
            for i, s in enumerate(skus)
        ],
    }


def order(n: int, **extra) -> dict:
    return {
        "id": 5000 + n,
        "name": f"#{1000 + n}",
        "created_at": T0.isoformat(),
        "updated_at": T0.isoformat(),
        "currency": "EUR",
        "financial_status": "paid",
        "cancelled_at": None,
        "customer": None,
        "line_items": [
            {"sku": "MUG1-A", "title": "Mug 1 A", "price": "12.50", "quantity": 2},
            {"sku": "", "title": "Gift wrap", "price": "3.00", "quantity": 1},
        ],
        "transactions": [{"id": 9000 + n, "kind": "sale", "status": "success", "amount": "28.00"}],
        "refunds": [],
        **extra,
    }


def test_products_become_offers_with_their_variants_and_bad_ones_are_reported(shop, connection):
    shop.store.products = [product(1), product(2, skus=("X", "")), product(3, product_type="")]
    result = run(connection, "products")
    assert (result.status, result.created, result.errors) == ("succeeded", 2, 1)
    assert set(Variant.objects.values_list("sku", flat=True)) == {
        "MUG1-A",
        "MUG1-B",
        "MUG3-A",
        "MUG3-B",
    }
    assert Offer.objects.get(name="Mug 1").category.name == "Mugs"
    [error] = result.item_errors.all()
    assert error.external_id == "102" and "has no SKU" in error.reason
    again = run(connection, "products", full=True)
    assert again.created == 0 and Offer.objects.count() == 2


def test_orders_arrive_paid_with_their_lines_and_codes(shop, connection):
    shop.store.products = [product(1)]
    run(connection, "products")
    shop.store.orders = [
        order(1, discount_codes=[{"code": "spring10"}], landing_site="/?ref=anna-ig"),
        order(2, financial_status="pending", transactions=[]),
        order(3, cancelled_at=T0.isoformat(), financial_status="voided", transactions=[]),
    ]
    result = run(connection, "orders")
    assert (result.status, result.created, result.errors) == ("succeeded", 3, 0)
    paid = Order.objects.get(external_id="5001")
    assert (paid.status, paid.payment_status, paid.total) == ("completed", "paid", Decimal("28.00"))
    assert [ln.sku for ln in paid.lines.all()] == ["MUG1-A", ""]
    assert (paid.coupon_code, paid.referral_code, paid.source) == ("SPRING10", "ANNA-IG", "shopify")
    assert paid.invoices.get().transaction_id == "9001"
    assert Order.objects.get(external_id="5002").status == "open"
    assert Order.objects.get(external_id="5003").status == "cancelled"


def test_refunds_are_recorded_once_however_often_the_order_arrives(shop, connection):
    shop.store.orders = [order(1)]
    run(connection, "orders")
    shop.store.orders = [
        order(
            1,
            financial_status="partially_refunded",
            refunds=[
                {
                    "transactions": [
                        {"id": 777, "kind": "refund", "status": "success", "amount": "10.00"}
                    ]
                }
            ],
        )
    ]
    run(connection, "orders", full=True)
    run(connection, "orders", full=True)
    refunded = Order.objects.get(external_id="5001")
    assert [r.amount for r in Refund.objects.filter(order=refunded)] == [Decimal("10.00")]
    assert refunded.refund_status == "partial"
    assert Order.objects.count() == 1


def test_a_bad_order_is_reported_and_the_others_go_in(shop, connection):
    shop.store.orders = [
        order(1),
        order(2, currency="XXX"),
        order(3, line_items=[{"title": "x", "price": "abc", "quantity": 1}]),
    ]
    result = run(connection, "orders")
    assert (result.created, result.errors) == (1, 2)
    ids = sorted(e.external_id for e in result.item_errors.all())
    assert ids == ["5002", "5003"]


def test_a_re_imported_order_with_new_lines_is_recomputed_like_any_change(shop, connection):
    pending = order(1, financial_status="pending", transactions=[])
    shop.store.orders = [pending]
    run(connection, "orders")
    placed = Order.objects.get(external_id="5001")
    assert placed.total == Decimal("28.00")
    more = order(1, financial_status="paid")
    more["line_items"][0]["quantity"] = 4
    shop.store.orders = [more]
    result = run(connection, "orders", full=True)
    assert result.updated == 1
    placed.refresh_from_db()
    assert (placed.total, placed.status, placed.payment_status) == (
        Decimal("53.00"),
        "completed",
        "paid",
    )
    assert placed.events.filter(kind="lines_replaced").exists()


def test_an_order_with_a_bidi_control_is_refused_naming_the_field(shop, connection):
    shop.store.products = [product(1)]
    run(connection, "products")
    bad = order(2)
    bad["line_items"][1]["title"] = "Gift\u202epaw"
    shop.store.orders = [order(1), bad]
    result = run(connection, "orders")
    assert (result.created, result.errors) == (1, 1)
    [error] = result.item_errors.all()
    assert error.external_id == "5002"
    assert error.reason == "line_items[1].title contains U+202E, a bidirectional control character"
    assert not Order.objects.filter(external_id="5002").exists()
