"""The header search: each kind found by what people type, grouped, linked to its page, and
only the kinds the user's role may see."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from ordersight.campaigns.services import create_creator
from ordersight.core.actors import Actor
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services as payments
from ordersight.promotions.services import create_discount_code
from ordersight.web.search import MAX_TERM, PER_KIND
from tests import factories


@pytest.fixture
def order(catalog, customer):
    return create_order(
        data=OrderInput(
            customer_id=customer.pk,
            external_id="SHOP-7781",
            lines=[LineInput(sku="TEE-M", quantity=1)],
        ),
        actor=Actor.system(),
    )


def _search(client: Client, term: str, *, htmx: bool = True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.get(reverse("web:search"), {"q": term}, headers=headers)


def _hits(response, kind: str) -> list[str]:
    """The links of one kind's group, in order (empty when the group is absent)."""
    html = response.content.decode()
    marker = f'data-testid="search-group-{kind}"'
    if marker not in html:
        return []
    group = html.split(marker, 1)[1].split('role="group"', 1)[0]
    return [part.split('"', 1)[0] for part in group.split('href="')[1:]]


@pytest.mark.django_db
def test_order_found_by_number_with_or_without_hash(admin_web, order):
    url = reverse("web:order", args=[order.number])
    assert _hits(_search(admin_web, str(order.number)), "orders") == [url]
    assert _hits(_search(admin_web, f"#{order.number}"), "orders") == [url]


@pytest.mark.django_db
def test_order_found_by_external_id(admin_web, order):
    response = _search(admin_web, "SHOP-7781")
    assert _hits(response, "orders") == [reverse("web:order", args=[order.number])]
    assert "external id SHOP-7781" in response.content.decode()


@pytest.mark.django_db
def test_customer_found_by_part_of_name_or_email(admin_web, customer):
    url = reverse("web:customer", args=[customer.pk])
    assert _hits(_search(admin_web, "lovel"), "customers") == [url]
    assert _hits(_search(admin_web, "ADA@EXAMPLE"), "customers") == [url]


@pytest.mark.django_db
def test_two_letters_find_no_customer_by_part(admin_web, customer):
    # Shorter than a trigram: matched whole only, so "Ad" is not part-searched.
    assert _hits(_search(admin_web, "Ad"), "customers") == []


@pytest.mark.django_db
def test_many_customers_offer_the_filtered_list(admin_web):
    for n in range(PER_KIND + 2):
        factories.CustomerFactory(name=f"Grace Hopper {n}")
    hits = _hits(_search(admin_web, "hopper"), "customers")
    assert len(hits) == PER_KIND + 1
    assert hits[-1] == reverse("web:customers") + "?q=hopper"


@pytest.mark.django_db
def test_invoice_found_by_number_opens_its_order(admin_web, order):
    (invoice,) = payments.issue_invoices(order=order, actor=Actor.system())
    response = _search(admin_web, str(invoice.number))
    assert _hits(response, "invoices") == [reverse("web:order", args=[order.number]) + "#invoices"]
    assert f"order {order.number}" in response.content.decode()


@pytest.mark.django_db
def test_discount_code_found_by_part_exact_first(admin_web):
    system = Actor.system()
    for code in ("SUMMER10", "SUMMER", "WINTER"):
        create_discount_code(code=code, kind="percent", percent="10", actor=system)
    hits = _hits(_search(admin_web, "summer"), "discount-codes")
    assert hits == [
        reverse("web:discount_code", args=["SUMMER"]),
        reverse("web:discount_code", args=["SUMMER10"]),
    ]


@pytest.mark.django_db
def test_creator_found_by_handle_with_or_without_at(admin_web):
    creator = create_creator(name="Anna", handle="anna.cooks", actor=Actor.system())
    url = reverse("web:creator", args=[creator.pk])
    assert _hits(_search(admin_web, "@anna.cooks"), "creators") == [url]
    assert _hits(_search(admin_web, "cooks"), "creators") == [url]


@pytest.mark.django_db
def test_sku_opens_the_orders_of_its_offer(admin_web, catalog):
    hits = _hits(_search(admin_web, "tee-"), "skus")
    assert hits == [reverse("web:orders") + "?offer=101"] * 2


@pytest.mark.django_db
def test_results_are_grouped_by_kind_in_one_answer(admin_web, catalog, customer):
    create_discount_code(code="TEEVIP", kind="percent", percent="5", actor=Actor.system())
    html = _search(admin_web, "tee").content.decode()
    assert html.index("search-group-discount-codes") < html.index("search-group-skus")


@pytest.mark.django_db
def test_viewer_without_customers_sees_no_customers(roles, customer, order):
    viewer = Group.objects.create(name="Viewer without customers")
    viewer.permissions.set(roles["Viewer"].permissions.exclude(content_type__app_label="customers"))
    client = factories.signed_in({"x": viewer}, "x", "val")
    response = _search(client, "Lovelace")
    assert _hits(response, "customers") == []
    assert reverse("web:customer", args=[customer.pk]) not in response.content.decode()
    assert "customers" not in response.content.decode().split('data-testid="search-empty"')[1]
    # The same text names the order's customer to someone who may see customers…
    assert _hits(_search(factories.signed_in(roles, "Viewer", "vic"), "Lovelace"), "customers")
    # …and the kinds the role may search are still searched.
    assert _hits(_search(client, str(order.number)), "orders")


@pytest.mark.django_db
def test_role_without_any_kind_is_told_so(db):
    client = factories.signed_in({}, None, "nobody")
    response = _search(client, "anything")
    assert response.status_code == 200
    assert "may not search anything" in response.content.decode()


@pytest.mark.django_db
def test_nothing_found_says_what_was_searched(viewer_web):
    response = _search(viewer_web, "no-such-thing")
    assert 'data-testid="search-empty"' in response.content.decode()
    assert "orders, customers, invoices" in response.content.decode()


@pytest.mark.django_db
def test_too_long_a_search_is_refused_naming_the_field(admin_web):
    response = _search(admin_web, "x" * (MAX_TERM + 1), htmx=False)
    assert response.status_code == 400
    assert f"q: at most {MAX_TERM} characters" in response.content.decode()


@pytest.mark.django_db
def test_search_page_without_htmx_is_a_whole_page(admin_web, order):
    response = _search(admin_web, str(order.number), htmx=False)
    html = response.content.decode()
    assert "<html" in html and 'data-testid="search-page"' in html
    assert reverse("web:order", args=[order.number]) in html


@pytest.mark.django_db
def test_search_needs_sign_in(client):
    response = client.get(reverse("web:search"), {"q": "1"})
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_every_page_has_the_search_box(admin_web):
    assert 'data-testid="search-box"' in admin_web.get(reverse("web:orders")).content.decode()
