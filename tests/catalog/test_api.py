"""Catalog API: categories, offers with variants (SKUs) and external ids."""

from __future__ import annotations

import csv
import io

import jsonschema_rs
import pytest

from ordersight.api import api as api_schema_source
from ordersight.catalog.models import Offer, Variant


def api_schema() -> dict:
    return api_schema_source.get_openapi_schema()


@pytest.fixture
def category(api):
    return api.post("categories", {"name": "Courses", "number": 7}).json()


def _offer(api, **body):
    body = {
        "name": "Course",
        "category_number": 7,
        "currency": "USD",
        "unit_price": "99.00",
        **body,
    }
    return api.post("offers", body)


def test_create_offer_with_variants_and_external_ids(api, category):
    r = _offer(
        api,
        variants=[
            {"sku": "C-1", "external_ids": {"shopify": "v1"}},
            {"sku": "C-2", "unit_price": "49.50"},
        ],
        external_ids={"shopify": "p1"},
        allow_quantity=True,
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"] >= 1000 and body["category_number"] == 7
    assert [(v["sku"], v["unit_price"]) for v in body["variants"]] == [
        ("C-1", "99.00"),
        ("C-2", "49.50"),
    ]
    assert body["external_ids"] == {"shopify": "p1"}


def test_lookup_variant_by_sku_or_external_ids(api, category):
    _offer(
        api,
        variants=[{"sku": "C-1", "external_ids": {"shopify": "v1"}}],
        external_ids={"shopify": "p1"},
    )

    def skus(**params):
        return [v["sku"] for v in api.get("variants", **params).json()["items"]]

    assert skus(sku="c-1") == ["C-1"]
    assert skus(external_id="v1") == ["C-1"]
    assert skus(external_id="p1") == ["C-1"]


def test_categories_and_offer_updates(api, category):
    assert api.get("categories").json() == [{"number": 7, "name": "Courses"}]
    assert api.patch("categories/7", {"name": "Classes"}).json()["name"] == "Classes"
    number = _offer(api).json()["number"]
    r = api.patch(f"offers/{number}", {"unit_price": "120.00", "allow_partial_payments": True})
    assert (r.json()["unit_price"], r.json()["allow_partial_payments"]) == ("120.00", True)
    assert api.get("offers", q="cour").json()["items"][0]["number"] == number


def test_an_offer_price_patched_to_null_is_refused_naming_the_field(api, category):
    # Found by the schema fuzzer: null reached Decimal("None") and answered 500.
    number = _offer(api).json()["number"]
    r = api.patch(f"offers/{number}", {"unit_price": None})
    assert r.status_code == 422, r.content
    assert r.json()["error"]["fields"] == {"unit_price": "required"}
    assert api.get(f"offers/{number}").json()["unit_price"] == "99.00"


def test_add_and_update_variant(api, category):
    number = _offer(api).json()["number"]
    assert api.post(f"offers/{number}/variants", {"sku": "C-9"}).status_code == 201
    r = api.patch("variants/C-9", {"unit_price": "10.00", "is_active": False})
    assert (r.json()["unit_price"], r.json()["is_active"]) == ("10.00", False)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"currency": "ABC"}, 422, "currency"),
        ({"unit_price": "-1"}, 422, "unit_price"),
        ({"unit_price": "1.001"}, 422, "unit_price"),
        ({"category_number": 99}, 422, "category_number"),
        ({"unit_price": "abc"}, 422, "unit_price"),
        ({"variants": [{"sku": "D"}, {"sku": "D"}]}, 409, "variants[1].sku"),
        ({"external_ids": {"shopify": "p" * 256}}, 422, "external_ids.shopify"),
        (
            {"variants": [{"sku": "D", "external_ids": {"": "v1"}}]},
            422,
            "variants[0].external_ids.",
        ),
    ],
)
def test_bad_offer_is_refused_whole(api, category, body, status, field):
    r = _offer(api, **body)
    assert r.status_code == status, r.content
    assert field in r.json()["error"]["fields"]
    assert Offer.objects.count() == 0 and Variant.objects.count() == 0


@pytest.mark.parametrize(
    ("currency", "price", "accepted"),
    [
        ("JPY", "1500", True),
        ("JPY", "1500.5", False),
        ("KWD", "1.125", True),
        ("EUR", "1.125", False),
    ],
)
def test_the_schema_and_the_service_agree_on_a_currencys_decimals(
    api, category, currency, price, accepted
):
    body = {"name": "Course", "category_number": 7, "currency": currency, "unit_price": price}
    schema = api_schema()
    offer_in = {**schema["components"]["schemas"]["OfferIn"], "components": schema["components"]}
    assert jsonschema_rs.validator_for(offer_in).is_valid(body) is accepted
    r = api.post("offers", body)
    assert r.status_code == (201 if accepted else 422), r.content
    if not accepted:
        assert "unit_price" in r.json()["error"]["fields"]


def test_duplicate_numbers_conflict(api, category):
    assert api.post("categories", {"name": "Again", "number": 7}).status_code == 409
    _offer(api, number=5)
    assert _offer(api, number=5).status_code == 409


def test_inactive_sku_cannot_be_ordered(api, category):
    _offer(api, variants=[{"sku": "C-1"}])
    api.patch("variants/C-1", {"is_active": False})
    r = api.post("orders", {"lines": [{"sku": "C-1"}]})
    assert r.status_code == 422 and "lines[0].sku" in r.json()["error"]["fields"]


def _csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_offers_and_variants_sort_page_and_export_as_one_list(api, category):
    first = _offer(api, name="Zebra course", variants=[{"sku": "Z-1"}]).json()["number"]
    second = _offer(
        api, name="Apple course", currency="JPY", unit_price="1200", variants=[{"sku": "A-1"}]
    ).json()["number"]
    by_name = api.get("offers", sort="name", limit=1).json()
    assert [o["name"] for o in by_name["items"]] == ["Apple course"]
    after = api.get("offers", sort="name", limit=1, cursor=by_name["next_cursor"]).json()
    assert [o["name"] for o in after["items"]] == ["Zebra course"]
    offers = _csv_rows(api.get("offers/export.csv", sort="-number"))
    assert [row["number"] for row in offers] == [str(second), str(first)]
    assert offers[0]["unit_price"] == "1200" and offers[1]["unit_price"] == "99.00"
    assert offers[0]["is_active"] == "yes"
    r = api.patch("variants/A-1", {"unit_price": "1000"})
    assert r.status_code == 200, r.content
    by_offer = api.get("variants", sort="-offer").json()["items"]
    assert [v["sku"] for v in by_offer] == ["A-1", "Z-1"]
    variants = _csv_rows(api.get("variants/export.csv"))
    assert [(v["sku"], v["unit_price"], v["currency"]) for v in variants] == [
        ("A-1", "1000", "JPY"),
        ("Z-1", "", "USD"),  # sells at its offer's price
    ]
    assert _csv_rows(api.get("variants/export.csv", offer=first))[0]["sku"] == "Z-1"


@pytest.mark.parametrize("path", ["offers", "offers/export.csv", "variants", "variants/export.csv"])
def test_a_bad_sort_or_filter_of_the_catalog_is_refused_by_name(api, category, path):
    r = api.get(path, sort="price")
    assert r.status_code == 422 and "sort" in r.content.decode()
    r = api.get(path, colour="red")
    assert r.status_code == 422 and "colour" in r.content.decode()
