"""The admin pages open for the demo's owner."""

import pytest

from tests import factories


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/orders/order/",
        "/admin/customers/customer/",
        "/admin/catalog/offer/",
        "/admin/accounts/apikey/",
    ],
)
def test_admin_pages_open(admin_client, path):
    factories.OrderFactory()
    assert admin_client.get(path).status_code == 200


def test_order_admin_shows_lines_and_events(admin_client, api, catalog):
    number = api.post("orders", {"lines": [{"sku": "TEE-M"}]}).json()["number"]
    from ordersight.orders.models import Order

    page = admin_client.get(f"/admin/orders/order/{Order.objects.get(number=number).pk}/change/")
    assert page.status_code == 200
    assert "TEE-M" in page.content.decode() and "created" in page.content.decode()


def test_the_admin_revoke_action_revokes_through_the_service(admin_client, db):
    from ordersight.accounts.models import ApiKey
    from ordersight.accounts.services import authenticate_api_key, create_api_key

    key, token = create_api_key(name="shop", scopes="read")
    page = admin_client.post(
        "/admin/accounts/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    assert "Revoked 1 key(s)." in page.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert authenticate_api_key(token=token) is None


def test_the_admin_creates_a_restricted_key(admin_client, db):
    from ordersight.accounts.models import ApiKey

    page = admin_client.post(
        "/admin/accounts/apikey/add/",
        {
            "name": "storefront",
            "scope_choices": ["read", "write"],
            "permission_choices": ["orders.add_order", "orders.view_order"],
        },
        follow=True,
    )
    assert page.status_code == 200
    key = ApiKey.objects.get(name="storefront")
    assert key.permissions == ["orders.add_order", "orders.view_order"]
    assert "shown once" in page.content.decode()
    assert key.has_perm("orders.add_order") and not key.has_perm("payments.add_refund")
