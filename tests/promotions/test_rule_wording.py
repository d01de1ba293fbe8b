"""Rules read as sentences: every segment condition and every code rule in words, groups
joined by "and"/"or" and nested groups in brackets."""

from __future__ import annotations

import pytest

from ordersight.promotions.wording import (
    describe_code_rules,
    describe_segment_rules,
    vocabulary,
)


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"field": "orders", "op": "gte", "value": 3}, "Orders ≥ 3"),
        ({"field": "orders", "op": "in", "value": [1, 2]}, "Orders is one of 1, 2"),
        (
            {"field": "spent", "currency": "eur", "op": "gte", "value": "100"},
            "Spent in EUR ≥ 100",
        ),
        (
            {"field": "average", "currency": "USD", "op": "lt", "value": 50},
            "Average order in USD < 50",
        ),
        (
            {"field": "last_order_at", "op": "lt", "value": "-90d"},
            "Last order more than 90 days ago",
        ),
        (
            {"field": "first_order_at", "op": "gte", "value": "2025-01-01"},
            "First order on or after 2025-01-01",
        ),
        (
            {"field": "last_order_at", "op": "gt", "value": "-12h"},
            "Last order less than 12 hours ago",
        ),
        ({"field": "tag", "op": "eq", "value": "vip"}, "Tag is vip"),
        ({"field": "tag", "op": "ne", "value": "vip"}, "Tag is not vip"),
        ({"field": "tag", "op": "in", "value": ["b2b", "vip"]}, "Tag is one of b2b, vip"),
        ({"field": "metadata.plan", "op": "eq", "value": "gold"}, "Metadata plan = gold"),
        ({"field": "metadata.a.b", "op": "lte", "value": 3}, "Metadata a.b ≤ 3"),
        ({"field": "metadata.beta", "op": "ne", "value": True}, "Metadata beta ≠ true"),
    ],
)
def test_every_segment_condition_reads_in_words(condition, words):
    assert describe_segment_rules(condition) == words
    assert describe_segment_rules({"all": [condition]}) == words


def test_segment_groups_join_with_and_or_and_nest_in_brackets():
    rules = {
        "all": [
            {"field": "orders", "op": "gte", "value": 3},
            {
                "any": [
                    {"field": "tag", "op": "eq", "value": "vip"},
                    {"field": "spent", "currency": "EUR", "op": "gte", "value": "100"},
                ]
            },
        ]
    }
    assert describe_segment_rules(rules) == ("Orders ≥ 3 and (Tag is vip or Spent in EUR ≥ 100)")


def test_segment_without_rules_is_everyone():
    assert describe_segment_rules(None) == "Everyone"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (
            {"type": "order_total", "currency": "EUR", "min": "20", "max": "500"},
            "Order total between 20 and 500 EUR",
        ),
        ({"type": "order_total", "currency": "EUR", "min": "50"}, "Order total at least 50 EUR"),
        ({"type": "order_total", "currency": "USD", "max": 80}, "Order total at most 80 USD"),
        (
            {"type": "items_required", "skus": ["TEE-M", "TEE-L"], "categories": [10]},
            "Cart holds SKU TEE-M, TEE-L and category 10",
        ),
        (
            {"type": "items_excluded", "skus": ["GIFT"], "categories": [20, 30]},
            "Cart holds none of SKU GIFT or category 20, 30",
        ),
        (
            {"type": "quantity", "sku": "TEE-M", "min": 1, "max": 3},
            "Quantity of TEE-M between 1 and 3",
        ),
        ({"type": "quantity", "max": 10}, "Items in all at most 10"),
        ({"type": "segment", "segment": 4}, "Customer in segment “Loyal”"),
        ({"type": "segment", "segment": 99}, "Customer in segment “#99”"),
        (
            {"type": "metadata", "key": "channel", "op": "eq", "value": "mobile_app"},
            "Order metadata channel = mobile_app",
        ),
        (
            {"type": "metadata", "key": "store", "op": "in", "value": ["berlin", 7]},
            "Order metadata store is one of berlin, 7",
        ),
    ],
)
def test_every_code_rule_reads_in_words(rule, words):
    assert describe_code_rules(rule, {4: "Loyal"}) == words


def test_code_rules_nest_in_brackets():
    rules = {
        "any": [
            {"type": "order_total", "currency": "EUR", "min": "20"},
            {
                "all": [
                    {"type": "quantity", "max": 3},
                    {"type": "metadata", "key": "c", "op": "eq", "value": "x"},
                ]
            },
        ]
    }
    assert describe_code_rules(rules) == (
        "Order total at least 20 EUR or (Items in all at most 3 and Order metadata c = x)"
    )
    assert describe_code_rules(None) == "No conditions"


def test_the_rows_vocabulary_names_every_field_and_type_the_rules_know():
    from ordersight.promotions.rules import TYPES
    from ordersight.promotions.segments import FIELDS

    words = vocabulary()
    assert {f for f, _ in words["segment_fields"]} == {*FIELDS, "metadata"}
    assert {t for t, _ in words["code_types"]} == set(TYPES)
