"""One list spec per list: the table, the API list and the CSV export agree on every filter,
every sort and every column."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from ordersight.customers.filters import CustomerFilterSet
from ordersight.customers.selectors import CUSTOMER_LIST
from ordersight.orders.filters import OrderFilterSet
from ordersight.orders.selectors import ORDER_LIST
from ordersight.payments.filters import InvoiceFilterSet
from ordersight.payments.selectors import INVOICE_LIST
from tests import factories

LISTS = [
    ("/orders/", "orders", ORDER_LIST, OrderFilterSet, "number"),
    ("/payments/", "payments", INVOICE_LIST, InvoiceFilterSet, "invoice_number"),
    ("/customers/", "customers", CUSTOMER_LIST, CustomerFilterSet, "id"),
]


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(("page", "api_path", "spec", "filterset", "key"), LISTS)
def test_the_filter_panel_has_every_filter_the_api_has(
    admin_web, page, api_path, spec, filterset, key
):
    html = admin_web.get(page).content.decode()
    for name in filterset.base_filters:
        assert f'name="{name}"' in html, f"{page} has no field for the {name} filter"


@pytest.fixture
def rows(db, catalog, paid_order):
    for name, total in (("Zoe", "5.00"), ("Abe", "70.00")):
        customer = factories.CustomerFactory(name=name, email=f"{name.lower()}@example.com")
        factories.OrderFactory(customer=customer, subtotal=Decimal(total), total=Decimal(total))
    return paid_order


@pytest.mark.parametrize(("page", "api_path", "spec", "filterset", "key"), LISTS)
def test_every_sort_gives_the_same_rows_in_list_and_export(
    rows, admin_web, api, page, api_path, spec, filterset, key
):
    api_key = {"orders": "number", "payments": "number", "customers": "id"}[api_path]
    for sort in spec.sorts:
        for direction in ("", "-"):
            listed = api.get(api_path, sort=f"{direction}{sort}", limit=500)
            assert listed.status_code == 200, (sort, listed.content)
            in_list = [str(item[api_key]) for item in listed.json()["items"]]
            exported = _csv(api.get(f"{api_path}/export.csv", sort=f"{direction}{sort}"))
            assert [row[key] for row in exported] == in_list, (api_path, direction + sort)
            on_page = _csv(admin_web.get(f"{page}export.csv?sort={direction}{sort}"))
            assert on_page == exported


@pytest.mark.parametrize(("page", "api_path", "spec", "filterset", "key"), LISTS)
def test_export_headers_come_from_the_spec(rows, api, page, api_path, spec, filterset, key):
    body = b"".join(api.get(f"{api_path}/export.csv").streaming_content).decode()
    assert next(csv.reader(io.StringIO(body))) == list(spec.headers)


def test_an_unknown_sort_names_the_allowed_ones(api, db):
    r = api.get("customers", sort="age")
    assert r.status_code == 422
    assert "name" in r.json()["error"]["fields"]["sort"]


def test_customers_filter_alike_on_the_page_the_api_and_the_export(admin_web, api, db):
    ada = factories.CustomerFactory(name="Ada", email="ada@example.com")
    factories.CustomerFactory(name="Bob Builder", email="bob@example.com")
    r = api.patch(f"customers/{ada.pk}", {"tags": ["b2b", "vip"]})
    assert r.status_code == 200, r.content
    for query in ("tag=b2b", "q=ada", "email=ADA@example.com"):
        listed = [c["id"] for c in api.get(f"customers?{query}").json()["items"]]
        assert listed == [ada.pk], query
        exported = _csv(admin_web.get(f"/customers/export.csv?{query}"))
        assert [int(row["id"]) for row in exported] == [ada.pk]
        assert exported[0]["tags"] == "b2b vip"
        page = admin_web.get(f"/customers/?{query}").content.decode()
        assert "Ada" in page and "Bob Builder" not in page


def test_a_bad_customer_filter_is_named_on_the_page_and_in_plain_text_on_export(admin_web, db):
    page = admin_web.get("/customers/?created_after=soon")
    assert 'data-testid="filter-errors"' in page.content.decode()
    export = admin_web.get("/customers/export.csv?created_after=<b>soon</b>")
    assert export.status_code == 422
    assert export["Content-Type"].startswith("text/plain")
    assert "created_after" in export.content.decode()
