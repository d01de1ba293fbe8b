"""Discount codes: each rule type, and/or, limits, redemption onto the lines, rollback."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ordersight.core.errors import Conflict, Invalid
from ordersight.orders.models import OrderEvent
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import transition_order
from ordersight.promotions import services
from ordersight.promotions.models import DiscountCode, Redemption
from tests import factories
from tests.promotions.conftest import SYSTEM, pay, place

pytestmark = pytest.mark.django_db


def code(name: str = "SAVE10", **data) -> DiscountCode:
    data.setdefault("kind", "percent")
    if data["kind"] == "percent":
        data.setdefault("percent", "10")
    return services.create_discount_code(code=name, actor=SYSTEM, **data)


def check(found: DiscountCode, *lines, customer=None, metadata=None):
    cart = services.cart_of_input(
        data=OrderInput(
            lines=[LineInput(sku=sku, quantity=q) for sku, q in lines],
            customer_id=customer.pk if customer else None,
            metadata=metadata,
        )
    )
    return services.validate_code(code=found, cart=cart)


def test_percent_off_the_whole_order(catalog):
    result = check(code(), ("TEE-M", 2), ("TEE-L", 1))  # 39.80 + 21.50
    assert result.valid and result.discount == Decimal("6.13")
    assert result.lines == {1: Decimal("3.98"), 2: Decimal("2.15")}


def test_fixed_amount_is_shared_over_the_lines_and_needs_the_currency(catalog):
    found = code(kind="fixed", amounts={"EUR": "5"})
    result = check(found, ("TEE-M", 1), ("TEE-L", 1))
    assert result.discount == Decimal("5.00") and sum(result.lines.values()) == Decimal("5.00")
    assert check(found, ("COURSE-1", 1)).reasons == ["the code has no amount in USD"]


def test_one_item_free_takes_the_cheapest_unit_of_the_chosen_lines(catalog):
    anywhere = code("FREEBIE", kind="free_item")
    result = check(anywhere, ("TEE-L", 2), ("TEE-M", 3))  # 21.50 and 19.90 a unit
    assert result.lines == {2: Decimal("19.90")}
    shirts = code("FREE-L", kind="free_item", target="lines", target_skus=["TEE-L"])
    assert check(shirts, ("TEE-L", 2), ("TEE-M", 3)).lines == {1: Decimal("21.50")}


def test_per_line_targeting_discounts_only_the_chosen_lines(catalog):
    found = code(target="lines", target_skus=["TEE-L"])
    assert check(found, ("TEE-M", 1), ("TEE-L", 2)).lines == {2: Decimal("4.30")}
    assert "no item in the cart" in check(found, ("TEE-M", 1)).reasons[0]


@pytest.mark.parametrize(
    ("rule", "lines", "reason"),
    [
        (
            {"type": "order_total", "currency": "EUR", "min": "50"},
            [("TEE-M", 1)],
            "the order total 19.90 EUR is below 50.00",
        ),
        (
            {"type": "order_total", "currency": "EUR", "max": "30"},
            [("TEE-M", 2)],
            "the order total 39.80 EUR is above 30.00",
        ),
        (
            {"type": "order_total", "currency": "EUR", "min": "1"},
            [("COURSE-1", 1)],
            "the order is in USD; this rule is for orders in EUR",
        ),
        ({"type": "items_required", "skus": ["TEE-L"]}, [("TEE-M", 1)], "the cart needs SKU TEE-L"),
        (
            {"type": "items_required", "categories": [20]},
            [("TEE-M", 1)],
            "the cart needs an item of category 20",
        ),
        (
            {"type": "items_excluded", "skus": ["TEE-M"]},
            [("TEE-M", 1)],
            "the cart may not hold SKU TEE-M",
        ),
        (
            {"type": "items_excluded", "categories": [10]},
            [("TEE-L", 1)],
            "the cart may not hold items of category 10",
        ),
        (
            {"type": "quantity", "sku": "TEE-M", "max": 2},
            [("TEE-M", 3)],
            "at most 2 of SKU TEE-M (the cart has 3)",
        ),
        (
            {"type": "quantity", "min": 3},
            [("TEE-M", 1), ("TEE-L", 1)],
            "at least 3 items in all (the cart has 2)",
        ),
        (
            {"type": "metadata", "key": "channel", "op": "eq", "value": "mobile_app"},
            [("TEE-M", 1)],
            "metadata channel must be mobile_app (it is missing)",
        ),
    ],
)
def test_each_rule_type_fails_with_a_readable_reason(catalog, rule, lines, reason):
    found = code(rules={"all": [rule]})
    assert check(found, *lines).reasons == [reason]


def test_passing_rules_and_metadata_in_a_set(catalog):
    found = code(
        rules={
            "all": [
                {"type": "order_total", "currency": "EUR", "min": "20", "max": "100"},
                {"type": "items_required", "skus": ["TEE-M"], "categories": [10]},
                {"type": "quantity", "sku": "TEE-M", "min": 2, "max": 2},
                {"type": "metadata", "key": "channel", "op": "in", "value": ["app", "web"]},
            ]
        }
    )
    assert check(found, ("TEE-M", 2), metadata={"channel": "web"}).valid


def test_any_passes_on_one_branch_and_explains_all_when_none_holds(catalog):
    found = code(
        rules={
            "any": [
                {"type": "items_required", "skus": ["COURSE-1"]},
                {
                    "all": [
                        {"type": "quantity", "min": 2},
                        {"type": "items_excluded", "skus": ["X"]},
                    ]
                },
            ]
        }
    )
    assert check(found, ("TEE-M", 2)).valid
    [reason] = check(found, ("TEE-M", 1)).reasons
    assert "the cart needs SKU COURSE-1" in reason and "at least 2 items" in reason


def test_a_segment_rule_checks_the_customer(catalog, bank):
    loyal = factories.CustomerFactory(name="Loyal")
    new = factories.CustomerFactory(name="New")
    for _ in range(2):
        pay(place(customer=loyal), bank)
    segment = services.create_segment(
        name="Two orders", rules={"field": "orders", "op": "gte", "value": 2}, actor=SYSTEM
    )
    found = code(rules={"all": [{"type": "segment", "segment": segment.pk}]})
    assert check(found, ("TEE-M", 1), customer=loyal).valid
    assert check(found, ("TEE-M", 1), customer=new).reasons == [
        "the customer is not in the segment 'Two orders'"
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "percent", "percent": "0"}, "percent"),
        ({"kind": "fixed", "amounts": {"EUR": "-1"}}, "amounts.EUR"),
        ({"kind": "percent", "target": "lines"}, "target_skus"),
        ({"kind": "percent", "usage_limit": 0}, "usage_limit"),
        (
            {"kind": "percent", "rules": {"all": [{"type": "segment", "segment": 999}]}},
            "rules.all[0].segment",
        ),
        (
            {"kind": "percent", "rules": {"any": [{"type": "order_total", "currency": "EUR"}]}},
            "rules.any[0]",
        ),
        (
            {"kind": "percent", "rules": {"all": [{"type": "quantity", "min": 3, "max": 1}]}},
            "rules.all[0].max",
        ),
        (
            {"kind": "percent", "rules": {"all": [{"type": "metadata", "key": "a", "op": "gt"}]}},
            "rules.all[0].op",
        ),
        # The column keeps four places: a fifth would be rounded away unseen.
        ({"kind": "percent", "percent": "10.00005"}, "percent"),
        (
            {"kind": "percent", "rules": {"all": [{"type": "quantity", "min": 1.5}]}},
            "rules.all[0].min",
        ),
        (
            {"kind": "percent", "rules": {"all": [{"type": "quantity", "max": True}]}},
            "rules.all[0].max",
        ),
        (
            {"kind": "percent", "rules": {"all": [{"type": "items_required", "categories": [0]}]}},
            "rules.all[0].categories",
        ),
    ],
)
def test_a_bad_code_is_refused_naming_the_field(catalog, data, field):
    data.setdefault("percent", "10")
    with pytest.raises(Invalid) as caught:
        services.create_discount_code(code="BAD", actor=SYSTEM, **data)
    assert field in caught.value.fields
    assert not DiscountCode.objects.exists()


def test_redeeming_applies_the_discount_to_the_lines_and_writes_an_event(catalog, customer):
    order = place("TEE-M", 2, customer=customer)
    code("SPRING")
    redemption = services.redeem_code(order=order, code="spring", actor=SYSTEM)
    order.refresh_from_db()
    assert (redemption.amount, order.total, order.discount_total) == (
        Decimal("3.98"),
        Decimal("35.82"),
        Decimal("3.98"),
    )
    assert order.lines.get().discount == Decimal("3.98")
    assert order.coupon_code == "SPRING"
    assert OrderEvent.objects.filter(order=order, kind="discount_applied").exists()
    assert DiscountCode.objects.get(code="SPRING").redeemed == 1
    with pytest.raises(Conflict):
        services.redeem_code(order=order, code="SPRING", actor=SYSTEM)


def test_a_code_that_does_not_apply_is_refused_with_its_reasons_and_nothing_changes(catalog):
    order = place("TEE-M", 1)
    code(rules={"all": [{"type": "order_total", "currency": "EUR", "min": "50"}]})
    with pytest.raises(Invalid) as caught:
        services.redeem_code(order=order, code="SAVE10", actor=SYSTEM)
    assert "below 50.00" in caught.value.fields["code"]
    order.refresh_from_db()
    assert order.total == Decimal("19.90") and not Redemption.objects.exists()


def test_usage_limits_overall_and_per_customer(catalog, customer):
    code(usage_limit=2, per_customer_limit=1)
    services.redeem_code(order=place(customer=customer), code="SAVE10", actor=SYSTEM)
    with pytest.raises(Invalid) as caught:
        services.redeem_code(order=place(customer=customer), code="SAVE10", actor=SYSTEM)
    assert "already used the code 1 time" in caught.value.fields["code"]
    other = factories.CustomerFactory()
    services.redeem_code(order=place(customer=other), code="SAVE10", actor=SYSTEM)
    with pytest.raises(Invalid) as caught:
        services.redeem_code(
            order=place(customer=factories.CustomerFactory()), code="SAVE10", actor=SYSTEM
        )
    assert "used up (2 uses)" in caught.value.fields["code"]


def test_dates_and_the_active_flag(catalog):
    now = timezone.now()
    code("LATER", starts_at=now + timedelta(days=1))
    code("OVER", ends_at=now - timedelta(days=1))
    code("OFF", is_active=False)
    for name, reason in (("LATER", "valid from"), ("OVER", "expired"), ("OFF", "not active")):
        assert reason in check(DiscountCode.objects.get(code=name), ("TEE-M", 1)).reasons[0]


def test_cancelling_the_order_rolls_the_redemption_back(catalog, bank, customer):
    code(usage_limit=1)
    order = place(customer=customer)
    services.redeem_code(order=order, code="SAVE10", actor=SYSTEM)
    pay(order, bank)
    assert DiscountCode.objects.get().redeemed == 1
    transition_order(order=order, to="cancelled", actor=SYSTEM)
    assert DiscountCode.objects.get().redeemed == 0
    assert Redemption.objects.get().status == "rolled_back"
    assert OrderEvent.objects.filter(order=order, kind="redemption_rolled_back").exists()
    # The use came back: another order may take it.
    services.redeem_code(order=place(customer=customer), code="SAVE10", actor=SYSTEM)


def test_a_paid_order_takes_no_discount(catalog, bank):
    order = pay(place(), bank)
    code()
    with pytest.raises(Conflict):
        services.redeem_code(order=order, code="SAVE10", actor=SYSTEM)


def test_generated_codes_are_unique_and_share_their_settings(catalog):
    codes = services.generate_discount_codes(
        count=50, prefix="vip-", length=8, actor=SYSTEM, kind="percent", percent="15"
    )
    names = {c.code for c in codes}
    assert len(names) == 50 and all(n.startswith("VIP-") and len(n) == 12 for n in names)
    assert {c.percent for c in DiscountCode.objects.all()} == {Decimal("15")}
    with pytest.raises(Invalid) as caught:
        services.generate_discount_codes(count=0, actor=SYSTEM, kind="percent", percent="1")
    assert "count" in caught.value.fields


def test_rolling_back_locks_the_codes_at_once_in_primary_key_order_before_writing(
    catalog, customer
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    code()
    order = place(customer=customer)
    services.redeem_code(order=order, code="SAVE10", actor=SYSTEM)
    table = DiscountCode._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        services.rollback_redemptions(order=order, actor=SYSTEM)
    on_codes = [q["sql"] for q in queries if f'"{table}"' in q["sql"]]
    lock, *writes = on_codes
    assert lock.startswith("SELECT") and f'ORDER BY "{table}"."id" ASC' in lock
    assert "IN (" in lock
    if connection.features.has_select_for_no_key_update:
        assert lock.endswith("FOR NO KEY UPDATE")
    assert writes and all(sql.startswith("UPDATE") for sql in writes)


def test_whole_numbers_written_with_a_point_are_whole_numbers_in_rules(catalog, bank):
    # JSON has one number type: 2.0 is the whole number 2, as JSON Schema's integer says.
    customer = factories.CustomerFactory()
    pay(place(customer=customer), bank)
    segment = services.create_segment(
        name="Buyers", rules={"field": "orders", "op": "gte", "value": 1}, actor=SYSTEM
    )
    found = code(
        rules={
            "all": [
                {"type": "quantity", "min": 2.0, "max": 3.0},
                {"type": "segment", "segment": float(segment.pk)},
            ]
        }
    )
    assert check(found, ("TEE-M", 2), customer=customer).valid
    assert check(found, ("TEE-M", 1), customer=customer).reasons == [
        "at least 2 items in all (the cart has 1)"
    ]
    no_courses = code("NOCOURSE", rules={"type": "items_excluded", "categories": [20.0]})
    assert check(no_courses, ("TEE-M", 1)).valid
    assert check(no_courses, ("COURSE-1", 1)).reasons == [
        "the cart may not hold items of category 20"
    ]


def test_a_change_that_does_not_fit_what_the_code_keeps_is_a_conflict(catalog, customer):
    starts, ends = timezone.now(), timezone.now() + timedelta(days=10)
    found = code(usage_limit=2, starts_at=starts, ends_at=ends)
    services.redeem_code(order=place(customer=customer), code="SAVE10", actor=SYSTEM)
    services.redeem_code(order=place(), code="SAVE10", actor=SYSTEM)
    lines = code("LINES", target="lines", target_skus=["TEE-M"])
    for target, changes, field in (
        (found, {"ends_at": starts - timedelta(days=1)}, "ends_at"),
        (found, {"starts_at": ends + timedelta(days=1)}, "starts_at"),
        (found, {"usage_limit": 1}, "usage_limit"),
        (lines, {"target_skus": []}, "target_skus"),
    ):
        with pytest.raises(Conflict) as caught:
            services.update_discount_code(code=target, changes=changes, actor=SYSTEM)
        assert field in caught.value.fields
    found.refresh_from_db()
    assert (found.starts_at, found.ends_at, found.usage_limit) == (starts, ends, 2)
    assert DiscountCode.objects.get(code="LINES").target_skus == ["TEE-M"]
    # The same rules broken by the request alone are invalid input.
    for changes, field in (
        ({"starts_at": ends, "ends_at": starts}, "ends_at"),
        ({"target": "lines"}, "target_skus"),
    ):
        with pytest.raises(Invalid) as caught:
            services.update_discount_code(code=found, changes=changes, actor=SYSTEM)
        assert field in caught.value.fields
