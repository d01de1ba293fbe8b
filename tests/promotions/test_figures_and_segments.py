"""Customer figures follow the orders; segments select by them in one query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ordersight.core.errors import Invalid
from ordersight.customers.models import Tag
from ordersight.orders.services import transition_order
from ordersight.payments.models import Invoice
from ordersight.payments.services import refund_invoice
from ordersight.promotions.figures import rebuild_figures
from ordersight.promotions.models import CustomerFigures, CustomerSpend
from ordersight.promotions.segments import count_members, members
from tests import factories
from tests.promotions.conftest import SYSTEM, pay, place

pytestmark = pytest.mark.django_db


def spend(customer) -> dict[str, tuple[int, Decimal]]:
    return {
        s.currency: (s.orders, s.spent) for s in CustomerSpend.objects.filter(customer=customer)
    }


def test_completed_orders_count_net_of_refunds_per_currency(catalog, bank, customer):
    first = pay(place("TEE-M", 2, customer=customer, at=datetime(2026, 1, 5, tzinfo=UTC)), bank)
    pay(place("COURSE-1", customer=customer, at=datetime(2026, 2, 1, tzinfo=UTC)), bank)
    place("TEE-L", customer=customer)  # open: not counted
    refund_invoice(invoice=Invoice.objects.get(order=first), amount=Decimal("9.80"), actor=SYSTEM)
    assert spend(customer) == {"EUR": (1, Decimal("30.00")), "USD": (1, Decimal("300.00"))}
    figures = CustomerFigures.objects.get(customer=customer)
    assert figures.orders == 2
    assert figures.first_order_at == datetime(2026, 1, 5, tzinfo=UTC)
    assert (figures.last_order_amount, figures.last_order_currency) == (Decimal("300"), "USD")


def test_a_full_refund_or_a_cancellation_takes_the_order_out(catalog, bank, customer):
    order = pay(place(customer=customer), bank)
    refund_invoice(invoice=Invoice.objects.get(order=order), amount=Decimal("19.90"), actor=SYSTEM)
    assert not CustomerFigures.objects.filter(customer=customer).exists()
    other = place(customer=customer)
    transition_order(order=other, to="cancelled", actor=SYSTEM)
    assert spend(customer) == {}


def test_moving_an_order_to_another_customer_moves_its_figures(catalog, bank, customer):
    from ordersight.orders.ingest import upsert_orders
    from ordersight.orders.pricing import LineInput, OrderInput

    other = factories.CustomerFactory()

    def send(who):
        return OrderInput(
            lines=[LineInput(sku="TEE-M")],
            source="shopify",
            external_id="s-1",
            customer_id=who.pk,
            status="completed",
        )

    upsert_orders(items=[send(customer)], actor=SYSTEM)
    assert spend(customer) == {"EUR": (1, Decimal("19.90"))}
    upsert_orders(items=[send(other)], actor=SYSTEM)
    assert spend(customer) == {} and spend(other) == {"EUR": (1, Decimal("19.90"))}


def test_the_rebuild_recomputes_the_same_figures(catalog, bank, customer):
    pay(place("TEE-M", 3, customer=customer), bank)
    pay(place("COURSE-1", customer=customer), bank)
    before = (spend(customer), CustomerFigures.objects.get(customer=customer).orders)
    CustomerSpend.objects.all().delete()
    CustomerFigures.objects.all().delete()
    assert rebuild_figures() == 2
    assert (spend(customer), CustomerFigures.objects.get(customer=customer).orders) == before


@pytest.fixture
def shoppers(catalog, bank):
    """Ada: 3 EUR orders (59.70); Ben: 1 USD order (300) long ago; Cy: nothing; Di: tagged vip."""
    ada = factories.CustomerFactory(name="Ada", metadata={"tier": "gold", "visits": 12})
    ben = factories.CustomerFactory(name="Ben", metadata={"tier": "silver"})
    cy = factories.CustomerFactory(name="Cy")
    di = factories.CustomerFactory(name="Di")
    di.tags.add(Tag.objects.create(name="vip"))
    for _ in range(3):
        pay(place(customer=ada), bank)
    pay(place("COURSE-1", customer=ben, at=timezone.now() - timedelta(days=200)), bank)
    return {"ada": ada, "ben": ben, "cy": cy, "di": di}


def names(rules) -> list[str]:
    return sorted(members(rules).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"all": [{"field": "orders", "op": "gte", "value": 3}]}, ["Ada"]),
        ({"field": "spent", "currency": "EUR", "op": "gte", "value": "59.70"}, ["Ada"]),
        ({"field": "spent", "currency": "EUR", "op": "lt", "value": "10"}, ["Ben", "Cy", "Di"]),
        ({"field": "spent", "currency": "USD", "op": "eq", "value": 0}, ["Ada", "Cy", "Di"]),
        ({"field": "average", "currency": "USD", "op": "gt", "value": "100"}, ["Ben"]),
        ({"field": "orders", "op": "lt", "value": 1}, ["Cy", "Di"]),
        ({"field": "orders", "op": "ne", "value": 3}, ["Ben", "Cy", "Di"]),
        ({"field": "last_order_at", "op": "lt", "value": "-90d"}, ["Ben"]),
        ({"field": "first_order_at", "op": "gte", "value": "-1d"}, ["Ada"]),
        ({"field": "tag", "op": "eq", "value": "vip"}, ["Di"]),
        ({"field": "tag", "op": "ne", "value": "vip"}, ["Ada", "Ben", "Cy"]),
        ({"field": "metadata.tier", "op": "in", "value": ["gold", "silver"]}, ["Ada", "Ben"]),
        ({"field": "metadata.visits", "op": "gt", "value": 10}, ["Ada"]),
        # JSON has one number type: 12.0 is the whole number 12.
        ({"field": "metadata.visits", "op": "eq", "value": 12.0}, ["Ada"]),
        (
            {
                "any": [
                    {
                        "all": [
                            {"field": "orders", "op": "gte", "value": 3},
                            {"field": "spent", "currency": "EUR", "op": "gte", "value": 50},
                        ]
                    },
                    {"field": "tag", "op": "eq", "value": "vip"},
                ]
            },
            ["Ada", "Di"],
        ),
    ],
)
def test_segment_rules_select_the_customers_the_figures_say(shoppers, rules, expected):
    assert names(rules) == expected
    # The count (from the figures alone where nobody without orders can match) agrees.
    assert count_members(rules) == len(expected)


@pytest.mark.parametrize(
    ("rules", "path"),
    [
        ({"all": []}, "rules.all"),
        ({"all": [{"field": "orders", "op": "gte", "value": "x"}]}, "rules.all[0].value"),
        ({"all": [{"field": "spent", "op": "gt", "value": 1}]}, "rules.all[0].currency"),
        ({"any": [{"field": "nope", "op": "eq", "value": 1}]}, "rules.any[0].field"),
        ({"field": "orders", "op": "like", "value": 1}, "rules.op"),
        ({"field": "last_order_at", "op": "lt", "value": "yesterday"}, "rules.value"),
        ({"field": "tag", "op": "gt", "value": "vip"}, "rules.op"),
        ("everyone", "rules"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_path(db, rules, path):
    with pytest.raises(Invalid) as caught:
        members(rules)
    assert path in caught.value.fields


def test_the_rebuild_command_reports_what_it_counted(catalog, bank, customer, capsys):
    from django.core.management import call_command

    pay(place(customer=customer), bank)
    CustomerFigures.objects.all().delete()
    call_command("promotions", "rebuild-figures")
    assert "Counted 1 orders for 1 customers" in capsys.readouterr().out
    assert CustomerFigures.objects.get(customer=customer).orders == 1
