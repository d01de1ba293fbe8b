"""Sales attribution: sales plans propose a manager, "Add user" names one, "Check" confirms."""

from __future__ import annotations

import pytest

from ordersight.orders.models import Order
from tests import factories


@pytest.fixture
def manager(roles):
    user = factories.UserFactory(username="mia")
    user.groups.add(roles["Sales manager"])
    return user


def _sale(api, customer, sku="COURSE-1") -> int:
    number = api.post("orders", {"customer_id": customer.pk, "lines": [{"sku": sku}]}).json()[
        "number"
    ]
    api.post(f"orders/{number}/complete")
    return number


def test_sales_plan_entry_proposes_the_manager_on_existing_and_new_orders(
    api, catalog, customer, manager
):
    before = _sale(api, customer)
    other_offer = _sale(api, customer, sku="TEE-M")
    r = api.post(
        f"customers/{customer.pk}/sales-plan",
        {"offer_number": 201, "manager_id": manager.pk, "note": "called on Monday"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["manager"] == "mia"
    after = _sale(api, customer)
    for number in (before, after):
        order = api.get(f"orders/{number}").json()
        assert order["sales_manager"]["username"] == "mia"
        assert order["sales_confirmed_at"] is None  # proposed: shown red until checked
    assert api.get(f"orders/{other_offer}").json()["sales_manager"] is None
    assert [e["offer_number"] for e in api.get(f"customers/{customer.pk}/sales-plan").json()] == [
        201
    ]


def test_check_confirms_a_manager_or_the_system(api, client, roles, catalog, customer, manager):
    admin = factories.UserFactory(username="boss")
    admin.groups.add(roles["Admin"])
    client.force_login(admin)
    number = _sale(api, customer)
    r = client.post(
        f"/api/v1/orders/{number}/sales-attribution/confirm",
        {"manager_id": manager.pk},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["sales_manager"]["username"] == "mia"
    assert body["sales_confirmed_by"]["username"] == "boss" and body["sales_confirmed_at"]
    system = client.post(
        f"/api/v1/orders/{number}/sales-attribution/confirm",
        {"manager_id": None},
        content_type="application/json",
    ).json()
    assert system["sales_manager"] is None and system["sales_confirmed_at"]
    kinds = [e["kind"] for e in api.get(f"orders/{number}/events").json()]
    assert kinds.count("sales_attribution_confirmed") == 2


def test_add_user_resets_the_confirmation(api, client, roles, catalog, customer, manager):
    admin = factories.UserFactory(username="boss")
    admin.groups.add(roles["Admin"])
    client.force_login(admin)
    number = _sale(api, customer)
    client.post(
        f"/api/v1/orders/{number}/sales-attribution/confirm",
        {"manager_id": None},
        content_type="application/json",
    )
    r = client.post(
        f"/api/v1/orders/{number}/sales-attribution",
        {"manager_id": manager.pk},
        content_type="application/json",
    )
    assert r.json()["sales_manager"]["username"] == "mia"
    assert r.json()["sales_confirmed_at"] is None


def test_only_sales_are_checked(api, catalog, customer):
    number = api.post("orders", {"customer_id": customer.pk, "lines": [{"sku": "TEE-M"}]}).json()[
        "number"
    ]
    r = api.post(f"orders/{number}/sales-attribution/confirm", {"manager_id": None})
    assert r.status_code == 409 and r.json()["error"]["fields"] == {"status": "open"}


def test_sales_manager_cannot_confirm_attribution(client, manager, api, catalog, customer):
    number = _sale(api, customer)
    client.force_login(manager)
    r = client.post(
        f"/api/v1/orders/{number}/sales-attribution/confirm",
        {"manager_id": None},
        content_type="application/json",
    )
    assert r.status_code == 403
    assert r.json()["error"]["fields"] == {"permission": "orders.manage_sales_attribution"}
    assert Order.objects.get(number=number).sales_confirmed_at is None


def test_unknown_manager_or_offer(api, catalog, customer, manager):
    number = _sale(api, customer)
    r = api.post(f"orders/{number}/sales-attribution", {"manager_id": 999})
    assert r.status_code == 422 and "manager_id" in r.json()["error"]["fields"]
    r = api.post(
        f"customers/{customer.pk}/sales-plan", {"offer_number": 999, "manager_id": manager.pk}
    )
    assert r.status_code == 404 and "offer_number" in r.json()["error"]["fields"]
