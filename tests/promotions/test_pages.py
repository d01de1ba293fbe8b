"""The promotions pages: codes, the validate panel, redemptions, segments with their live
count, redeeming on the order page, and the report by discount code."""

from __future__ import annotations

import json

import pytest

from ordersight.customers.services import create_customer
from ordersight.promotions import services
from ordersight.promotions.models import DiscountCode, Segment
from tests import factories
from tests.promotions.conftest import SYSTEM, pay, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(roles):
    return factories.signed_in(roles, "Admin", "ada")


def test_a_code_is_created_from_the_page_with_its_rules(admin, catalog):
    rules = {"all": [{"type": "order_total", "currency": "EUR", "min": "30"}]}
    response = admin.post(
        "/promotions/codes/new/",
        {
            "code": "page10",
            "kind": "percent",
            "percent": "10",
            "target": "order",
            "is_active": "on",
            "rules": json.dumps(rules),
        },
    )
    assert response.status_code == 302 and response["Location"] == "/promotions/codes/PAGE10/"
    assert DiscountCode.objects.get().rules == rules
    html = admin.get("/promotions/codes/").content.decode()
    assert "PAGE10" in html


def test_a_bad_rule_on_the_page_names_its_path_and_nothing_is_created(admin, catalog):
    response = admin.post(
        "/promotions/codes/new/",
        {
            "code": "BAD",
            "kind": "percent",
            "percent": "10",
            "target": "order",
            "rules": json.dumps({"all": [{"type": "quantity"}]}),
        },
        follow=True,
    )
    assert "rules.all[0]" in response.content.decode()
    assert not DiscountCode.objects.exists()


def test_the_validate_panel_shows_the_discount_or_the_reasons(admin, catalog):
    services.create_discount_code(
        code="BIG",
        kind="percent",
        percent="10",
        actor=SYSTEM,
        rules={"all": [{"type": "order_total", "currency": "EUR", "min": "30"}]},
    )
    ok = admin.get("/promotions/codes/BIG/", {"lines": "TEE-M x2"}).content.decode()
    assert "Valid: €3.98 off" in ok
    bad = admin.get("/promotions/codes/BIG/", {"lines": "TEE-M"}).content.decode()
    assert "the order total 19.90 EUR is below 30.00" in bad
    wrong = admin.get("/promotions/codes/BIG/", {"lines": "NOPE"}).content.decode()
    assert "order.lines[0].sku" in wrong


def test_redeem_from_the_order_page_and_see_it_in_the_history(admin, catalog):
    services.create_discount_code(code="TEN", kind="percent", percent="10", actor=SYSTEM)
    order = place("TEE-M", 2)
    response = admin.post(f"/orders/{order.number}/discount-code/", {"code": "ten"})
    assert response.status_code == 302
    html = admin.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="applied-discount"' in html and "TEN" in html
    history = admin.get("/promotions/redemptions/?code=TEN").content.decode()
    assert str(order.number) in history
    again = admin.post(f"/orders/{order.number}/discount-code/", {"code": "TEN"}, follow=True)
    assert "already has a discount code" in again.content.decode()
    other = place("TEE-M")
    refused = admin.post(f"/orders/{other.number}/discount-code/", {"code": "NOPE"}, follow=True)
    assert "No discount code" in refused.content.decode()


def test_segments_with_a_live_count_and_their_members(admin, catalog, bank):
    buyer = factories.CustomerFactory(name="Buyer")
    pay(place(customer=buyer), bank)
    factories.CustomerFactory(name="Browser")
    rules = json.dumps({"all": [{"field": "orders", "op": "gte", "value": 1}]})
    count = admin.post("/promotions/segments/count/", {"rules": rules}).content.decode()
    assert 'data-testid="member-count">1<' in count
    bad = admin.post("/promotions/segments/count/", {"rules": '{"all": [{"field": "x"}]}'})
    assert "rules.all[0].field" in bad.content.decode()
    response = admin.post("/promotions/segments/new/", {"name": "Buyers", "rules": rules})
    segment = Segment.objects.get()
    assert response["Location"] == f"/promotions/segments/{segment.pk}/"
    html = admin.get(f"/promotions/segments/{segment.pk}/").content.decode()
    assert "Buyer" in html and "Browser" not in html
    listed = admin.get("/promotions/segments/").content.decode()
    assert "Buyers" in listed


def test_the_report_by_discount_code(admin, api, catalog, bank):
    services.create_discount_code(code="TEN", kind="percent", percent="10", actor=SYSTEM)
    services.create_discount_code(code="FIVE", kind="fixed", amounts={"EUR": "5"}, actor=SYSTEM)
    for code, quantity in (("TEN", 2), ("TEN", 1), ("FIVE", 1)):
        order = place("TEE-M", quantity)
        services.redeem_code(order=order, code=code, actor=SYSTEM)
        pay(order, bank)
    place("TEE-M")  # no code, not a sale
    cancelled = place("TEE-M")
    services.redeem_code(order=cancelled, code="FIVE", actor=SYSTEM)
    from ordersight.orders.services import transition_order

    transition_order(order=cancelled, to="cancelled", actor=SYSTEM)
    report = api.get("reports/sales", group_by="discount_code", range="7d").json()
    rows = {r["key"]: (r["orders"], r["gross"], r["discount"]) for r in report["rows"]}
    assert rows == {"TEN": (2, "53.73", "5.97"), "FIVE": (1, "14.90", "5.00")}
    assert report["totals"][0]["discount"] == "10.97"
    html = admin.get("/sales/report/?range=7d&group_by=discount_code").content.decode()
    assert 'data-testid="row-discount"' in html and "/promotions/redemptions/?code=TEN" in html


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "orders", "op": "eq", "value": 0},
        {"field": "tag", "op": "eq", "value": "vip"},
    ],
    ids=["no-orders", "by-tag"],
)
def test_a_segment_lists_members_without_orders_with_a_dash_for_their_amount(
    admin, catalog, bank, rule
):
    create_customer(name="Never bought", tags=["vip"], actor=SYSTEM)
    segment = services.create_segment(name="Quiet", rules={"all": [rule]}, actor=SYSTEM)
    response = admin.get(f"/promotions/segments/{segment.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Never bought" in html
    row = html[html.index("Never bought") : html.index("</tr>", html.index("Never bought"))]
    assert row.count("—") == 3  # first order, last order, last amount
