"""Money cells where a row has no amount: a dash, never an error page."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template

from ordersight.campaigns.services import create_campaign
from ordersight.core.actors import Actor
from ordersight.customers.services import create_customer
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.promotions.services import create_segment

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (None, "EUR", "—"),
        ("", "EUR", "—"),  # what a template makes of a missing attribute
        ("", "", "—"),
        (Decimal("12.5"), "EUR", "€12.50"),
        (Decimal("12.5"), "JPY", "¥12"),
        (7, "EUR", "€7.00"),
    ],
)
def test_the_money_filter_shows_a_dash_for_no_amount(amount, currency, shown):
    rendered = Template("{% load web %}{{ amount|money:currency }}").render(
        Context({"amount": amount, "currency": currency})
    )
    assert rendered == shown


def test_the_money_filter_reads_a_missing_related_row_as_no_amount(customer):
    # A customer who never ordered has no figures row at all.
    rendered = Template(
        "{% load web %}{{ c.figures.last_order_amount|money:c.figures.last_order_currency }}"
    ).render(Context({"c": customer}))
    assert rendered == "—"


@pytest.fixture
def rows_without_money(catalog):
    """A customer with no orders (no figures), an open order with no invoice, a segment of
    customers who never bought, a campaign with no conversions."""
    quiet = create_customer(name="Quiet Customer", tags=["vip"], actor=SYSTEM)
    order = create_order(
        data=OrderInput(customer_id=quiet.pk, lines=[LineInput(sku="TEE-M", quantity=1)]),
        actor=SYSTEM,
    )
    segment = create_segment(
        name="Never bought",
        rules={"all": [{"field": "orders", "op": "eq", "value": 0}]},
        actor=SYSTEM,
    )
    campaign = create_campaign(
        name="Empty campaign",
        starts_on=date(2026, 1, 1),
        commission_kind="percent",
        commission_percent="10",
        actor=SYSTEM,
    )
    return {"customer": quiet, "order": order, "segment": segment, "campaign": campaign}


@pytest.mark.parametrize(
    "page",
    [
        "/customers/{customer.pk}/",
        "/customers/",
        "/promotions/segments/{segment.pk}/",
        "/promotions/segments/",
        "/promotions/redemptions/",
        "/orders/",
        "/orders/{order.number}/",
        "/orders/{order.number}/invoices/",
        "/payments/",
        "/orders/recurring/",
        "/",
        "/sales/report/",
        "/sales/history/",
        "/campaigns/",
        "/campaigns/{campaign.pk}/",
        "/promotions/codes/",
    ],
)
def test_every_page_listing_money_answers_for_rows_without_an_amount(
    admin_web, rows_without_money, page
):
    response = admin_web.get(page.format(**rows_without_money))
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"<td[^>]*>\s*None\b|None EUR", html)
