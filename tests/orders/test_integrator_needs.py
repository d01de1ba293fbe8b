"""What loading a real store's history through the API needs: managers by username and the
list of them, customers found by external id across sources, an account's own sources and
order types."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def mia(roles):
    user = factories.UserFactory(username="mia", first_name="Mia", last_name="Rossi")
    user.groups.add(roles["Sales manager"])
    return user


def test_users_lists_the_assignable_sales_managers(api, mia, roles):
    factories.UserFactory(username="viewer").groups.add(roles["Viewer"])
    gone = factories.UserFactory(username="gone", is_active=False)
    gone.groups.add(roles["Sales manager"])
    response = api.get("users")
    assert response.status_code == 200
    assert response.json() == [
        {"id": mia.pk, "username": "mia", "name": "Mia Rossi", "roles": ["Sales manager"]}
    ]


def test_an_order_names_its_sales_manager_by_username(api, catalog, mia):
    response = api.post("orders", {"lines": [{"sku": "TEE-M"}], "sales_manager": "mia"})
    assert response.status_code == 201, response.content
    assert response.json()["sales_manager"]["username"] == "mia"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sales_manager": "nobody"}, "sales_manager"),
        ({"sales_manager": "mia", "sales_manager_id": 1}, "sales_manager"),
    ],
)
def test_a_bad_manager_name_is_refused_by_field(api, catalog, mia, body, field):
    response = api.post("orders", {"lines": [{"sku": "TEE-M"}], **body})
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


def test_bulk_names_managers_by_username(api, catalog, mia):
    response = api.post(
        "orders/bulk",
        {"orders": [{"external_id": "s-1", "lines": [{"sku": "TEE-M"}], "sales_manager": "mia"}]},
    )
    assert response.json()["results"][0]["result"] == "created"
    number = response.json()["results"][0]["number"]
    assert api.get(f"orders/{number}").json()["sales_manager"]["username"] == "mia"


def test_a_customer_external_id_is_found_under_another_source_when_unambiguous(api, catalog):
    ada = factories.CustomerFactory(name="Ada")
    ada.external_ids.create(source="shopify", external_id="C-1")
    response = api.post(
        "orders", {"lines": [{"sku": "TEE-M"}], "source": "feed", "customer_external_id": "C-1"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] == ada.pk


def test_an_ambiguous_external_id_is_refused_naming_the_field(api, catalog):
    factories.CustomerFactory().external_ids.create(source="shopify", external_id="C-2")
    factories.CustomerFactory().external_ids.create(source="storefront", external_id="C-2")
    response = api.post(
        "orders", {"lines": [{"sku": "TEE-M"}], "source": "feed", "customer_external_id": "C-2"}
    )
    assert response.status_code == 422
    assert "several sources" in response.json()["error"]["fields"]["customer_external_id"]


def test_the_own_source_wins_over_others(api, catalog):
    mine = factories.CustomerFactory()
    mine.external_ids.create(source="feed", external_id="C-3")
    factories.CustomerFactory().external_ids.create(source="shopify", external_id="C-3")
    response = api.post(
        "orders", {"lines": [{"sku": "TEE-M"}], "source": "feed", "customer_external_id": "C-3"}
    )
    assert response.json()["customer"]["id"] == mine.pk


def test_an_account_adds_a_source_and_an_order_type(api, catalog):
    assert api.post("order-sources", {"value": "amazon", "label": "Amazon"}).status_code == 201
    assert api.post("order-types", {"value": "pre-order", "label": "Pre-order"}).status_code == 201
    sources = {c["value"]: c for c in api.get("order-sources").json()}
    assert sources["amazon"] == {"value": "amazon", "label": "Amazon", "built_in": False}
    assert sources["api"]["built_in"] is True
    created = api.post(
        "orders", {"lines": [{"sku": "TEE-M"}], "source": "amazon", "order_type": "pre-order"}
    )
    assert created.status_code == 201, created.content
    listed = api.get("orders", source="amazon", order_type="pre-order").json()["items"]
    assert [o["number"] for o in listed] == [created.json()["number"]]
    patched = api.patch(f"orders/{created.json()['number']}", {"order_type": "standard"})
    assert patched.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"value": "Amazon Store", "label": "Amazon"}, 422, "value"),
        ({"value": "x" * 21, "label": "X"}, 422, "value"),
        ({"value": "ok", "label": ""}, 422, "label"),
        ({"value": "api", "label": "Again"}, 409, "value"),
    ],
)
def test_bad_choices_are_refused_by_field(api, db, body, status, field):
    response = api.post("order-sources", body)
    assert response.status_code == status, response.content
    assert field in response.json()["error"]["fields"]


def test_an_unknown_source_is_still_refused(api, catalog):
    api.post("order-sources", {"value": "amazon", "label": "Amazon"})
    response = api.post("orders", {"lines": [{"sku": "TEE-M"}], "source": "ebay"})
    assert response.status_code == 422
    # The answer lists every source the account may use, the added ones too.
    assert "amazon" in response.json()["error"]["fields"]["source"]
    assert "storefront" in response.json()["error"]["fields"]["source"]


def test_an_order_of_a_built_in_source_and_type_reads_no_added_choices(api, catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        created = api.post("orders", {"lines": [{"sku": "TEE-M"}], "source": "storefront"})
    assert created.status_code == 201, created.content
    assert not [q for q in queries.captured_queries if "orders_orderchoice" in q["sql"]]
