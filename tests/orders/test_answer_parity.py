"""The order answers built for speed (a page's details read in two queries, sent without
django-ninja validating them again) are exactly what the schema's own validation gives."""

from __future__ import annotations

import pytest

from ordersight.api.lists import json_bytes
from ordersight.api.order_schemas import OrderOut, order_out
from ordersight.orders import selectors
from ordersight.payments.models import PaymentSystem
from tests import factories


def _validated(order_number: int) -> dict:
    """What the API sent before: `order_out` of the prefetched order, validated by
    django-ninja against OrderOut and dumped as it dumps it."""
    answer = order_out(selectors.get_order(number=order_number))
    return OrderOut.model_validate(answer).model_dump()


def _as_json(value) -> str:
    # The API's own writer (api/lists.py): the answers' content is what is compared.
    return json_bytes(value).decode()


@pytest.fixture
def varied_orders(api, catalog, customer, roles):
    """Orders with and without customer and manager, several lines, several invoices
    (failed, paid in parts, refunded in part and in full), in EUR, USD and JPY."""
    PaymentSystem.objects.create(code="card", name="Acme Payments EU", provider="test")
    PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")
    manager = factories.UserFactory(username="mia", first_name="Mia", last_name="Wong")
    manager.groups.add(roles["Sales manager"])
    numbers = []

    def order(**body):
        r = api.post("orders", body)
        assert r.status_code == 201, r.content
        numbers.append(r.json()["number"])
        return numbers[-1]

    def invoices(number, **body):
        r = api.post(f"orders/{number}/invoices", body)
        assert r.status_code == 201, r.content
        return [i["number"] for i in r.json()]

    def charge(invoice, token="tok_success"):
        r = api.post(f"invoices/{invoice}/charge", {"payment_system": "card", "card_token": token})
        assert r.status_code == 200, r.content

    order(lines=[{"sku": "TEE-M"}])
    refunded = order(
        customer_id=customer.pk,
        sales_manager_id=manager.pk,
        metadata={"channel": "phone", "gift": True},
        notes="Call first",
        lines=[{"sku": "TEE-M", "quantity": 2, "discount": "1.00"}, {"sku": "TEE-L"}],
    )
    (paid,) = invoices(refunded)
    charge(paid)
    api.post(f"invoices/{paid}/refunds", {"amount": "10.00", "reason": "size"})
    api.post(f"invoices/{paid}/refunds", {"amount": "5.00"})
    in_parts = order(customer_id=customer.pk, lines=[{"sku": "COURSE-1"}])
    first, second, third = invoices(in_parts, installments=3)
    charge(first, "tok_insufficient_funds")
    charge(second)
    manual = api.post(
        f"orders/{in_parts}/payments/manual",
        {"payment_system": "bank", "invoice": third, "buyer_comment": "Wire"},
    )
    assert manual.status_code == 201, manual.content
    whole = order(lines=[{"sku": "TEE-L", "quantity": 3}])
    (invoice,) = invoices(whole)
    charge(invoice)
    api.post(f"invoices/{invoice}/refunds", {"amount": "64.50"})
    order(currency="JPY", lines=[{"name": "Tea set", "unit_price": "4500", "quantity": 3}])
    api.post(f"orders/{refunded}/sales-attribution/confirm", {"manager_id": manager.pk})
    return numbers


def test_one_order_is_answered_as_the_schema_validates_it(api, varied_orders):
    for number in varied_orders:
        r = api.get(f"orders/{number}")
        assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
        assert r.content.decode() == _as_json(_validated(number))


@pytest.mark.parametrize("sort", [None, "-total", "item"])
def test_a_page_of_orders_is_answered_as_the_schema_validates_it(api, varied_orders, sort):
    params = {"limit": 4, **({"sort": sort} if sort else {})}
    seen = []
    while True:
        r = api.get("orders", **params)
        assert r.status_code == 200, r.content
        body = r.json()
        expected = {
            "items": [_validated(o["number"]) for o in body["items"]],
            "next_cursor": body["next_cursor"],
        }
        assert r.content.decode() == _as_json(expected)
        seen += [o["number"] for o in body["items"]]
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    assert sorted(seen) == sorted(varied_orders)
    refunds = {o["number"]: len(o["refunds"]) for o in api.get("orders").json()["items"]}
    assert sorted(refunds.values()) == [0, 0, 0, 1, 2]


@pytest.mark.parametrize(
    "body",
    [
        {"lines": [{"sku": "TEE-M"}]},
        {
            "customer": "ada",
            "sales_manager": "mia",
            "metadata": {"channel": "phone"},
            "notes": "Call first",
            "coupon_code": "SPRING",
            "lines": [{"sku": "TEE-M", "quantity": 2, "discount": "1.00"}, {"sku": "TEE-L"}],
        },
        {"currency": "JPY", "lines": [{"name": "Tea set", "unit_price": "4500", "quantity": 3}]},
    ],
)
def test_a_created_order_is_answered_as_the_schema_validates_it(
    api, catalog, customer, roles, body
):
    manager = factories.UserFactory(username="mia", first_name="Mia", last_name="Wong")
    manager.groups.add(roles["Sales manager"])
    if body.pop("customer", None):
        body["customer_id"] = customer.pk
    r = api.post("orders", {"external_id": "parity-1", **body})
    assert r.status_code == 201 and r["Content-Type"] == "application/json; charset=utf-8"
    assert r.content.decode() == _as_json(_validated(r.json()["number"]))
    assert r.json()["external_id"] == "parity-1" and r.json()["lines"]
