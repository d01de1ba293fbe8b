"""Pickers that do not grow with the store: customers, offers and SKUs are suggested as a
person types, pages list none of them, and what a picker sends is checked by name."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ordersight.customers.models import Customer
from ordersight.orders.models import Order, SalesPlanEntry
from ordersight.web.search import MAX_TERM
from ordersight.web.suggestions import LIMIT
from tests import factories


def _suggest(client: Client, kind: str, term: str):
    return client.get(reverse("web:suggestions", args=[kind]), {"q": term})


def _line(sku: str) -> dict[str, list[str]]:
    """The new-order form's one line, every column of it as the page sends them."""
    return {
        "line_sku": [sku],
        "line_name": [""],
        "line_unit_price": [""],
        "line_quantity": ["1"],
        "line_discount": [""],
    }


def _values(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [option["value"] for option in response.json()["options"]]


@pytest.mark.django_db
def test_customers_are_suggested_by_name_or_email(admin_web, customer):
    factories.CustomerFactory(name="Grace Hopper", email="grace@navy.example")
    assert _values(_suggest(admin_web, "customers", "lovel")) == [str(customer.pk)]
    assert _values(_suggest(admin_web, "customers", "NAVY.EX")) == [
        str(Customer.objects.get(name="Grace Hopper").pk)
    ]
    answer = _suggest(admin_web, "customers", "ada@").json()
    assert answer["options"] == [
        {"value": str(customer.pk), "label": "Ada Lovelace · ada@example.com"}
    ]


@pytest.mark.django_db
def test_offers_are_suggested_by_number_or_name(admin_web, catalog):
    assert _values(_suggest(admin_web, "offers", "201")) == ["201"]
    assert _values(_suggest(admin_web, "offers", "cours")) == ["201"]
    answer = _suggest(admin_web, "offers", "101").json()
    assert answer["options"] == [{"value": "101", "label": "101 · Tee (EUR)"}]


@pytest.mark.django_db
def test_skus_for_sale_are_suggested_by_sku_or_offer_name(admin_web, catalog):
    assert _values(_suggest(admin_web, "skus", "tee-")) == ["TEE-L", "TEE-M"]
    assert _values(_suggest(admin_web, "skus", "django")) == ["COURSE-1"]
    catalog["tee_l"].is_active = False
    catalog["tee_l"].save()
    assert _values(_suggest(admin_web, "skus", "tee")) == ["TEE-M"]
    label = _suggest(admin_web, "skus", "TEE-M").json()["options"][0]["label"]
    assert label.startswith("Tee — M · ") and "19.90" in label


@pytest.mark.django_db
def test_at_most_twenty_suggestions_and_none_for_an_empty_text(admin_web, catalog):
    for i in range(LIMIT + 5):
        factories.OfferFactory(number=1000 + i, name=f"Poster {i}")
    assert len(_values(_suggest(admin_web, "offers", "poster"))) == LIMIT
    assert _values(_suggest(admin_web, "offers", "   ")) == []


@pytest.mark.django_db
def test_bad_requests_are_refused_by_name(admin_web, roles):
    too_long = _suggest(admin_web, "offers", "x" * (MAX_TERM + 1))
    assert too_long.status_code == 400
    assert "q" in too_long.json()["errors"]
    unknown = _suggest(admin_web, "orders", "1")
    assert unknown.status_code == 404
    assert "kind" in unknown.json()["errors"]
    # Digits that are not 0-9 are not numbers of anything.
    assert _values(_suggest(admin_web, "offers", "²")) == []


@pytest.mark.django_db
def test_only_people_of_the_pages_that_pick_them_see_suggestions(roles, catalog, customer):
    nobody = factories.signed_in(roles, None, "nora")
    for kind in ("customers", "offers", "skus"):
        assert _suggest(nobody, kind, "tee").status_code == 403
    signed_out = _suggest(Client(), "offers", "tee")
    assert signed_out.status_code == 302
    viewer = factories.signed_in(roles, "Viewer", "vera")
    assert _values(_suggest(viewer, "offers", "101")) == ["101"]  # they filter All Orders


@pytest.mark.django_db
def test_pages_no_longer_list_the_catalog_or_the_customers(admin_web, catalog, customer):
    factories.OfferFactory(number=777, name="Unlisted poster")
    factories.CustomerFactory(name="Unlisted Person", email="unlisted@example.com")
    for url in (reverse("web:orders"), reverse("web:new_order")):
        page = admin_web.get(url).content.decode()
        assert "Unlisted" not in page
        assert "TEE-M" not in page
    card = admin_web.get(reverse("web:customer", args=[customer.pk])).content.decode()
    assert "Unlisted poster" not in card


@pytest.mark.django_db
def test_an_order_for_any_customer_and_the_picker_keeps_their_name(admin_web, catalog):
    # The select showed the first 500 customers by name: this one came after them.
    late = factories.CustomerFactory(name="Zoe Zimmer", email="zoe@example.com")
    form = {"customer_id": str(late.pk), **_line("NO-SUCH")}
    refused = admin_web.post(reverse("web:new_order"), form)
    assert refused.status_code == 422
    page = refused.content.decode()
    assert 'data-testid="customer-chosen">Zoe Zimmer · zoe@example.com<' in page
    form.update(_line("TEE-M"))
    assert admin_web.post(reverse("web:new_order"), form).status_code == 302
    assert Order.objects.get().customer == late


@pytest.mark.django_db
def test_words_left_in_the_customer_picker_are_refused_by_name(admin_web, catalog):
    form = {"customer_id": "Zoe", **_line("TEE-M")}
    refused = admin_web.post(reverse("web:new_order"), form)
    assert refused.status_code == 422
    assert "choose a customer from the suggestions" in refused.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_all_orders_filtered_by_offer_or_customer_names_them(admin_web, catalog, customer):
    page = admin_web.get(reverse("web:orders"), {"offer": "201"}).content.decode()
    assert "201 · Django course (USD)" in page  # the chip and the picker's words
    page = admin_web.get(reverse("web:orders"), {"customer": customer.pk}).content.decode()
    assert "Ada Lovelace · ada@example.com" in page
    unknown = admin_web.get(reverse("web:orders"), {"offer": "999"})
    assert unknown.status_code == 200
    words = admin_web.get(reverse("web:orders"), {"offer": "tee"})
    assert 'data-testid="filter-errors"' in words.content.decode()


@pytest.mark.django_db
def test_sales_plan_takes_an_offer_number_and_refuses_words(manager_web, catalog, customer):
    url = reverse("web:customer_sales_plan", args=[customer.pk])
    refused = manager_web.post(url, {"offer": "Tee"}, follow=True)
    assert "Choose the offer the customer paid for." in refused.content.decode()
    manager_web.post(url, {"offer": "²"})
    assert not SalesPlanEntry.objects.exists()
    manager_web.post(url, {"offer": "101"})
    assert SalesPlanEntry.objects.get().offer == catalog["tee"]


@pytest.mark.django_db
@pytest.mark.parametrize("digits", ["²", "١٠١", "１０１", "9" * 5000])
@pytest.mark.parametrize("name", ["at", "offer", "customer", "sales_manager"])
def test_digits_other_than_0_to_9_are_bad_input_not_a_failure(admin_web, catalog, name, digits):
    query = {"cursor": "x", "at": digits} if name == "at" else {name: digits}
    for page in ("web:orders", "web:payments", "web:recurring"):
        assert admin_web.get(reverse(page), query).status_code == 200, page
    searched = admin_web.get(reverse("web:search"), {"q": f"#{digits}"})
    assert searched.status_code == (400 if len(digits) >= MAX_TERM else 200)  # too long: named
    for kind in ("customers", "offers"):
        assert _values(_suggest(admin_web, kind, digits[:MAX_TERM])) == []


@pytest.mark.django_db
def test_other_digits_name_no_offer_in_the_sales_plan(manager_web, catalog, customer):
    url = reverse("web:customer_sales_plan", args=[customer.pk])
    manager_web.post(url, {"offer": "١٠١"})
    assert not SalesPlanEntry.objects.exists()
