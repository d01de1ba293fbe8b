"""POST /customers/bulk: a store's customers in batches, by their id in the source system."""

from __future__ import annotations

import pytest

from ordersight.customers.models import Customer, CustomerExternalId


def _bulk(api, customers):
    response = api.post("customers/bulk", {"customers": customers})
    assert response.status_code == 200, response.content
    return response.json()


def test_creates_then_updates_by_source_and_external_id(api, db):
    body = _bulk(
        api,
        [
            {"source": "shopify", "external_id": "C-1", "name": "Ada", "tags": ["b2b", "vip"]},
            {"source": "shopify", "external_id": "C-2", "name": "Bea", "email": "bea@example.com"},
        ],
    )
    assert (body["created"], body["errors"]) == (2, 0)
    ada_id = body["results"][0]["id"]
    body = _bulk(
        api,
        [
            {
                "source": "shopify",
                "external_id": "C-1",
                "email": "ada@example.com",
                "tags": ["b2b"],
            },
            {"source": "shopify", "external_id": "C-2", "name": "Bea"},
            {"source": "feed", "external_id": "C-1", "name": "Another Ada"},
        ],
    )
    assert [r["result"] for r in body["results"]] == ["updated", "unchanged", "created"]
    ada = Customer.objects.get(pk=ada_id)
    assert (ada.name, ada.email) == ("Ada", "ada@example.com")
    assert sorted(ada.tags.values_list("name", flat=True)) == ["b2b"]
    assert CustomerExternalId.objects.filter(external_id="C-1").count() == 2


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"source": "shopify", "name": "No id"}, "external_id"),
        ({"external_id": "N-1"}, "name"),  # a new customer needs a name
        ({"external_id": "N-2", "name": "A", "email": "not-an-email"}, "email"),
        ({"external_id": "N-3", "name": "A", "metadata": [1, 2]}, "metadata"),
        ({"external_id": "N-4", "name": "A", "tags": ["x" * 65]}, "tags[0]"),
        ({"external_id": "N-5", "name": ""}, "name"),
        ({"external_id": "x" * 256, "name": "A"}, "external_id"),
    ],
)
def test_a_bad_item_is_reported_by_field_and_the_rest_saved(api, db, item, field):
    body = _bulk(
        api,
        [{"external_id": "OK-1", "name": "Good"}, item, {"external_id": "OK-2", "name": "Good"}],
    )
    results = body["results"]
    assert [r["result"] for r in results] == ["created", "error", "created"], results
    assert field in results[1]["fields"], results[1]


def test_the_same_customer_twice_in_a_batch_keeps_the_first(api, db):
    body = _bulk(api, [{"external_id": "D", "name": "A"}, {"external_id": "D", "name": "B"}])
    assert [r["result"] for r in body["results"]] == ["created", "error"]
    assert Customer.objects.get().name == "A"


def test_a_resent_batch_changes_nothing(api, db):
    batch = [{"external_id": f"R-{i}", "name": f"R {i}", "tags": ["b2b"]} for i in range(5)]
    _bulk(api, batch)
    body = _bulk(api, batch)
    assert body["unchanged"] == 5
