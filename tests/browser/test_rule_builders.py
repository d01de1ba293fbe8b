"""Rule builders in a real browser: rules load into rows in words, rows write the same rules
back, for every kind of segment condition and every kind of code rule, nested any/all."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow

# Every segment condition, in the shapes the rows write (money as text, counts as numbers).
SEGMENT_RULES = {
    "all": [
        {"field": "orders", "op": "gte", "value": 3},
        {"field": "orders", "op": "in", "value": [1, 2]},
        {"field": "spent", "currency": "EUR", "op": "gte", "value": "100"},
        {"field": "average", "currency": "USD", "op": "lt", "value": "50.50"},
        {"field": "last_order_at", "op": "lt", "value": "-90d"},
        {"field": "first_order_at", "op": "gte", "value": "2025-01-01"},
        {
            "any": [
                {"field": "tag", "op": "eq", "value": "vip"},
                {"field": "tag", "op": "in", "value": ["b2b", "wholesale"]},
                {"all": [{"field": "tag", "op": "ne", "value": "blocked"}]},
            ]
        },
        {"field": "metadata.plan", "op": "eq", "value": "gold"},
        {"field": "metadata.level", "op": "gt", "value": 3},
        {"field": "metadata.beta", "op": "in", "value": [True, 7, "yes"]},
        {"field": "metadata.newsletter", "op": "ne", "value": False},
    ]
}


def _code_rules(segment: int) -> dict:
    return {
        "any": [
            {"type": "order_total", "currency": "EUR", "min": "20", "max": "500"},
            {
                "all": [
                    {"type": "order_total", "currency": "USD", "min": "10"},
                    {"type": "items_required", "skus": ["TEE-M", "TEE-L"], "categories": [10]},
                    {"type": "items_excluded", "categories": [20, 30]},
                    {"type": "quantity", "sku": "TEE-M", "min": 1, "max": 3},
                    {"type": "quantity", "max": 10},
                    {"type": "segment", "segment": segment},
                    {"type": "metadata", "key": "channel", "op": "eq", "value": "mobile_app"},
                    {"type": "metadata", "key": "store", "op": "in", "value": ["berlin", 7]},
                ]
            },
        ]
    }


def _rules_in(page, testid: str):
    return json.loads(page.get_by_test_id(testid).input_value() or "null")


def _rewrite_every_row(page) -> None:
    """Mark every row as edited, so each condition is written again from its fields."""
    page.evaluate(
        """() => document.querySelectorAll('[data-rule-row]').forEach((row) => {
            const field = row.querySelector('.rule-parts input, .rule-parts select');
            if (field) field.dispatchEvent(new Event('input', {bubbles: true}));
        })"""
    )


def test_segment_rules_load_into_rows_and_write_back_exactly(page, server):
    name = f"Round trip {uuid.uuid4().hex[:6]}"
    made = server.api("POST", "segments", {"name": name, "rules": SEGMENT_RULES})
    sign_in(page, server, then=f"/promotions/segments/{made['id']}/")
    rows = page.get_by_test_id("rule-row")
    expect(rows).to_have_count(13)
    expect(page.get_by_test_id("rule-group")).to_have_count(3)
    first = rows.nth(0)
    expect(first.get_by_test_id("rule-what")).to_have_value("orders")
    expect(first.get_by_test_id("rule-op")).to_have_value("gte")
    expect(first.get_by_test_id("rule-value")).to_have_value("3")
    spent = rows.nth(2)
    expect(spent.get_by_test_id("rule-currency")).to_have_value("EUR")
    expect(spent.get_by_test_id("rule-what").locator("option:checked")).to_have_text("Spent in")
    expect(spent.get_by_test_id("rule-op").locator("option:checked")).to_have_text("≥")
    expect(page.get_by_test_id("segment-sentence")).to_contain_text(
        "Orders ≥ 3 and Orders is one of 1, 2 and Spent in EUR ≥ 100"
    )

    _rewrite_every_row(page)
    assert _rules_in(page, "segment-rules") == SEGMENT_RULES

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("segment-title")).to_contain_text(name)
    assert server.api("GET", f"segments/{made['id']}")["rules"] == SEGMENT_RULES


def test_code_rules_load_into_rows_and_write_back_exactly(page, server):
    segment = server.api("GET", "segments")["items"][0]
    rules = _code_rules(segment["id"])
    code = f"RT{uuid.uuid4().hex[:6].upper()}"
    server.api(
        "POST", "discount-codes", {"code": code, "kind": "percent", "percent": "5", "rules": rules}
    )
    sign_in(page, server, then=f"/promotions/codes/{code}/")
    expect(page.get_by_test_id("rule-row")).to_have_count(9)
    expect(page.get_by_test_id("rule-group")).to_have_count(2)
    expect(page.get_by_test_id("code-rules-sentence")).to_contain_text(
        "Order total between 20 and 500 EUR or (Order total at least 10 USD and Cart holds"
    )
    segment_row = page.get_by_test_id("rule-row").nth(6)
    expect(segment_row.get_by_test_id("rule-segment")).to_have_value(str(segment["id"]))

    _rewrite_every_row(page)
    assert _rules_in(page, "code-rules") == rules
    page.get_by_test_id("save-code").click()
    expect(page.get_by_test_id("code-name")).to_contain_text(code)
    assert server.api("GET", f"discount-codes/{code}")["rules"] == rules


def test_a_segment_built_as_rows_nests_groups_and_reads_as_a_sentence(page, server):
    sign_in(page, server, then="/promotions/segments/")
    name = f"Built {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("segment-name").fill(name)
    builder = page.get_by_test_id("segment-builder")
    builder.get_by_test_id("rule-add-condition").click()
    row = builder.get_by_test_id("rule-row").nth(0)
    row.get_by_test_id("rule-what").select_option("orders")
    row.get_by_test_id("rule-op").select_option("gte")
    row.get_by_test_id("rule-value").fill("1")

    builder.get_by_test_id("rule-add-group").click()  # an "any" group with its first row
    inner = builder.get_by_test_id("rule-group").nth(1)
    spent = inner.get_by_test_id("rule-row").nth(0)
    spent.get_by_test_id("rule-what").select_option("spent")
    spent.get_by_test_id("rule-currency").fill("eur")
    spent.get_by_test_id("rule-op").select_option("gte")
    spent.get_by_test_id("rule-value").fill("100")
    inner.get_by_test_id("rule-add-condition").click()
    tag = inner.get_by_test_id("rule-row").nth(1)
    tag.get_by_test_id("rule-what").select_option("tag")
    tag.get_by_test_id("rule-value").fill("vip")

    expected = {
        "all": [
            {"field": "orders", "op": "gte", "value": 1},
            {
                "any": [
                    {"field": "spent", "currency": "EUR", "op": "gte", "value": "100"},
                    {"field": "tag", "op": "eq", "value": "vip"},
                ]
            },
        ]
    }
    assert _rules_in(page, "segment-rules") == expected
    expect(page.get_by_test_id("member-count")).to_have_text(re.compile(r"^\d+$"))
    page.get_by_test_id("create-segment").click()
    expect(page.get_by_test_id("segment-sentence")).to_have_text(
        "Who belongs: Orders ≥ 1 and (Spent in EUR ≥ 100 or Tag is vip)"
    )
    page.goto(f"{server.url}/promotions/segments/")
    expect(page.get_by_role("row", name=re.compile(name))).to_contain_text(
        "Orders ≥ 1 and (Spent in EUR ≥ 100 or Tag is vip)"
    )


def test_a_code_rule_built_as_a_row_and_removed_again(page, server):
    sign_in(page, server, then="/promotions/codes/")
    builder = page.get_by_test_id("code-builder")
    builder.get_by_test_id("rule-add-condition").click()
    row = builder.get_by_test_id("rule-row").nth(0)
    row.get_by_test_id("rule-what").select_option("order_total")
    row.get_by_test_id("rule-currency").fill("EUR")
    row.get_by_test_id("rule-min").fill("20")
    row.get_by_test_id("rule-max").fill("500")
    assert _rules_in(page, "code-rules") == {
        "all": [{"type": "order_total", "currency": "EUR", "min": "20", "max": "500"}]
    }
    row.get_by_test_id("rule-remove").click()
    assert _rules_in(page, "code-rules") is None


def test_json_written_by_hand_becomes_rows(page, server):
    sign_in(page, server, then="/promotions/segments/")
    page.get_by_test_id("segment-json").locator("summary").click()
    box = page.get_by_test_id("segment-rules")
    box.fill('{"field": "orders", "op": "lt", "value": 2}')
    box.dispatch_event("change")
    row = page.get_by_test_id("segment-builder").get_by_test_id("rule-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("rule-op")).to_have_value("lt")
    box.fill("{not json")
    box.dispatch_event("change")
    expect(page.get_by_text("The JSON is not valid")).to_be_visible()


@pytest.mark.parametrize("width", [1400, 390])
def test_rule_rows_fit_the_screen(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        made = server.api(
            "POST", "segments", {"name": f"Wide {uuid.uuid4().hex[:6]}", "rules": SEGMENT_RULES}
        )
        sign_in(page, server, then=f"/promotions/segments/{made['id']}/")
        expect(page.get_by_test_id("rule-row").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=f"/tmp/find-shots/segment-{width}.png", full_page=True)
        page.goto(f"{server.url}/promotions/segments/")
        page.screenshot(path=f"/tmp/find-shots/segments-{width}.png", full_page=True)
    finally:
        context.close()
