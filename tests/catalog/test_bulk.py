"""POST /offers/bulk: a store's catalog in batches, found by offer number or variant SKU."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordersight.catalog.models import Offer, Variant


def _offer(number=None, sku="S-1", **extra):
    item = {
        "name": "Mug",
        "category_number": 10,
        "currency": "EUR",
        "unit_price": "9.90",
        "variants": [{"sku": sku, "name": "Blue"}],
        **extra,
    }
    if number is not None:
        item["number"] = number
    return item


def _bulk(api, offers):
    response = api.post("offers/bulk", {"offers": offers})
    assert response.status_code == 200, response.content
    return response.json()


def test_creates_then_updates_by_number_and_by_sku(api, catalog):
    body = _bulk(api, [_offer(7001, "MUG-B"), _offer(sku="CUP-1", name="Cup")])
    assert (body["created"], body["errors"]) == (2, 0)
    cup_number = body["results"][1]["number"]
    assert cup_number >= 1000 and Offer.objects.get(number=cup_number).name == "Cup"

    body = _bulk(
        api,
        [
            {"number": 7001, "unit_price": "12.50", "variants": [{"sku": "MUG-R", "name": "Red"}]},
            {"variants": [{"sku": "CUP-1", "name": "Cup, white"}]},
            {"number": 7001 + 0, "name": "Mug"},  # the same offer again in one batch
        ],
    )
    assert [r["result"] for r in body["results"]] == ["updated", "updated", "error"]
    assert body["results"][2]["fields"] == {"number": "the same offer as item 0"}
    mug = Offer.objects.get(number=7001)
    assert mug.unit_price == Decimal("12.50")
    assert set(mug.variants.values_list("sku", flat=True)) == {"MUG-B", "MUG-R"}
    assert Variant.objects.get(sku="CUP-1").name == "Cup, white"


def test_a_resent_batch_changes_nothing(api, catalog):
    batch = [_offer(7100 + i, f"R-{i}") for i in range(5)]
    _bulk(api, batch)
    body = _bulk(api, batch)
    assert (body["unchanged"], body["created"], body["updated"]) == (5, 0, 0)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"name": "No way to find or make it"}, "number"),
        (_offer(7200, "X-1", currency="EURO"), "currency"),
        (_offer(7201, "X-2", unit_price="abc"), "unit_price"),
        (_offer(7202, "X-3", unit_price="1.234"), "unit_price"),
        (_offer(7203, "X-4", category_number=999), "category_number"),
        (_offer(7204, "TEE-M"), "variants[0].sku"),  # a SKU of another offer
        ({"number": 7205, "name": "New", "variants": [{"sku": "N-1"}]}, "currency"),
        (_offer(7206, "X-6", allow_quantity="yes"), "allow_quantity"),
        ({**_offer(7207, "X-7"), "number": -1}, "number"),
        ({"number": 101, "currency": "USD"}, "currency"),  # fixed once the offer exists
        ({**_offer(7208, "X-8"), "variants": [{"sku": ""}]}, "variants[0].sku"),
    ],
)
def test_a_bad_item_is_reported_by_field_and_the_rest_saved(api, catalog, item, field):
    body = _bulk(api, [_offer(7300, "GOOD-1"), item, _offer(7301, "GOOD-2")])
    results = body["results"]
    assert [r["result"] for r in results] == ["created", "error", "created"], results
    assert field in results[1]["fields"], results[1]
    assert Offer.objects.filter(number__in=[7300, 7301]).count() == 2


def test_two_items_naming_one_sku_keep_the_first(api, catalog):
    body = _bulk(api, [_offer(7400, "DUP"), _offer(7401, "DUP")])
    assert [r["result"] for r in body["results"]] == ["created", "error"]
    assert body["results"][1]["fields"] == {"variants[0].sku": "also in item 0"}


def test_more_than_a_thousand_is_refused(api, db):
    response = api.post("offers/bulk", {"offers": [{}] * 1001})
    assert response.status_code == 422
