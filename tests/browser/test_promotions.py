"""Promotions in a real browser: build a segment, attach it to a discount code's rules, and
validate an order that passes and one that fails with the reason shown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow


def test_a_segment_in_a_codes_rules_decides_who_gets_the_discount(page, server):
    sign_in(page, server, then="/promotions/segments/")
    page.get_by_test_id("segment-name").fill("Returning buyers")
    page.get_by_test_id("rule-add-condition").click()
    page.get_by_test_id("rule-what").select_option("orders")
    page.get_by_test_id("rule-op").select_option("gte")
    page.get_by_test_id("rule-value").fill("1")
    expect(page.get_by_test_id("segment-rules")).to_have_value(re.compile(r'"field": "orders"'))
    expect(page.get_by_test_id("member-count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    page.get_by_test_id("create-segment").click()
    expect(page.get_by_test_id("segment-title")).to_contain_text("Returning buyers")
    segment = int(page.url.rstrip("/").rsplit("/", 1)[1])

    page.goto(f"{server.url}/promotions/codes/")
    page.locator("#d-code").fill("LOYAL10")
    page.locator("#d-percent").fill("10")
    page.get_by_test_id("rule-add-condition").click()
    page.get_by_test_id("rule-what").select_option("segment")
    page.get_by_test_id("rule-segment").select_option(str(segment))
    expect(page.get_by_test_id("code-rules")).to_have_value(re.compile(r'"segment": \d+'))
    page.get_by_test_id("create-code").click()
    expect(page.get_by_test_id("code-name")).to_contain_text("LOYAL10")

    sku = server.api("GET", "variants?limit=1")["items"][0]["sku"]
    member = server.api("GET", f"segments/{segment}/members?limit=1")["items"][0]["id"]
    stranger = server.api("POST", "customers", {"name": "First-time buyer"})["id"]

    page.locator("#v-lines").fill(f"{sku} x1")
    page.locator("#v-customer").fill(str(member))
    page.get_by_test_id("validate").click()
    expect(page.get_by_test_id("validation-result")).to_contain_text("Valid:")

    page.locator("#v-customer").fill(str(stranger))
    page.get_by_test_id("validate").click()
    result = page.get_by_test_id("validation-result")
    expect(result).to_contain_text("Does not apply")
    expect(result).to_contain_text("the customer is not in the segment 'Returning buyers'")


def test_saving_a_discount_code_keeps_every_currency_it_has(page, server):
    server.api(
        "POST",
        "discount-codes",
        {
            "code": "TRIO5",
            "kind": "fixed",
            "amounts": {"EUR": "5.00", "USD": "6.00", "GBP": "4.00"},
        },
    )
    sign_in(page, server, then="/promotions/codes/TRIO5/")
    amounts = page.get_by_test_id("code-amounts")
    for currency, amount in (("EUR", "5.00"), ("USD", "6.00"), ("GBP", "4.00")):
        expect(amounts.get_by_label(f"Amount in {currency}")).to_have_value(amount)
    page.locator("#d-limit").fill("10")
    amounts.get_by_label("Amount in USD").fill("6.50")
    page.get_by_test_id("save-code").click()
    expect(page.get_by_text("Discount code TRIO5 saved.")).to_be_visible()
    code = server.api("GET", "discount-codes/TRIO5")
    assert code["usage_limit"] == 10
    assert code["amounts"] == {"EUR": "5.00", "USD": "6.50", "GBP": "4.00"}
