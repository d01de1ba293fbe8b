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
