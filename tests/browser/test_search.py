"""The header search in a real browser, by keyboard alone: Ctrl-K, type, arrows, Enter, Esc."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow


def test_search_by_keyboard_opens_the_picked_order(page, server):
    # A customer's newest order: tests before this one may have added orders without one.
    customer, order = next(
        (c, orders[0])
        for c in server.api("GET", "customers?limit=50")["items"]
        if (orders := server.api("GET", f"orders?customer={c['id']}&limit=1")["items"])
    )
    sign_in(page, server, then="/promotions/codes/")
    box = page.get_by_test_id("search-box")

    page.keyboard.press("Control+k")
    expect(box).to_be_focused()
    page.keyboard.type(customer["name"][:6])
    panel = page.get_by_test_id("search-panel")
    expect(panel.get_by_test_id("search-group-customers")).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")

    page.keyboard.press("Escape")  # closes the results, keeps the text
    expect(panel).to_be_hidden()
    expect(box).to_have_value(customer["name"][:6])

    box.fill(str(order["number"]))
    hit = panel.get_by_test_id("search-group-orders").get_by_test_id("search-hit")
    expect(hit).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(hit).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", hit.get_attribute("id"))
    page.keyboard.press("ArrowUp")  # wraps round to the last option: the same one
    expect(hit).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/orders/{order['number']}/"))


def test_enter_without_a_pick_opens_the_results_page(page, server):
    sign_in(page, server)
    page.keyboard.press("Control+k")
    page.keyboard.type("nothing-is-called-this")
    expect(page.get_by_test_id("search-empty")).to_be_visible()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=nothing-is-called-this"))
    expect(page.get_by_test_id("search-page")).to_contain_text("Nothing matches")


@pytest.mark.parametrize("width", [1400, 390])
def test_search_results_stay_on_screen(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        customer = server.api("GET", "customers?limit=1")["items"][0]
        sign_in(page, server, then="/orders/")
        page.get_by_test_id("search-box").fill(customer["name"][:4])
        panel = page.get_by_test_id("search-panel")
        expect(panel.get_by_test_id("search-hit").first).to_be_visible()
        box = panel.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=f"/tmp/find-shots/search-{width}.png")
    finally:
        context.close()
