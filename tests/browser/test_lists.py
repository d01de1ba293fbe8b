"""Lists at a team's scale in a real browser: the count, chips, saved views shared between
two people, and a bulk action over every matching order, a few thousand of them."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWER_PASSWORD, Server, sign_in

pytestmark = pytest.mark.slow

MANY = 3000


@pytest.fixture(scope="module")
def batch(server: Server) -> str:
    """MANY open orders tagged with one metadata value, made through the bulk API."""
    tag = uuid.uuid4().hex[:10]
    sku = server.api("GET", "variants?limit=1")["items"][0]["sku"]
    for start in range(0, MANY, 1000):
        items = [
            {
                "source": "api",
                "external_id": f"{tag}-{i}",
                "lines": [{"sku": sku}],
                "metadata": {"batch": tag},
            }
            for i in range(start, start + 1000)
        ]
        body = server.api("POST", "orders/bulk", {"orders": items})
        assert body["errors"] == 0, body
    return tag


def test_mark_every_matching_order_fulfilled_by_keyboard(page, server, batch):
    sign_in(page, server, then=f"/orders/?metadata=batch%3D{batch}")
    count = page.get_by_test_id("list-count")
    expect(count).to_have_text("1–50 of 3,000")
    expect(count).to_have_attribute("data-count", str(MANY))
    expect(page.locator("[data-testid=chip][data-name=metadata]")).to_contain_text(batch)
    # Tick the page, then every matching order, from the keyboard.
    page.get_by_test_id("select-page").focus()
    page.keyboard.press("Space")
    expect(page.get_by_test_id("bulk-summary")).to_have_text("50 selected")
    select_all = page.get_by_test_id("select-all-matching")
    expect(select_all).to_have_text(re.compile(r"Select all\s+3,000\s+matching"))
    select_all.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("bulk-summary")).to_have_text("All 3,000 matching orders selected")
    expect(page.get_by_test_id("clear-selection")).to_be_focused()
    page.get_by_test_id("bulk-fulfil").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("toast-success")).to_contain_text(
        "3,000 orders marked fulfilled.", timeout=180_000
    )
    left = server.api(
        "GET", f"orders?metadata=batch%3D{batch}&fulfillment_status=unfulfilled&limit=1"
    )
    assert left["items"] == []
    # Done again, every order is refused, and the page says why.
    page.get_by_test_id("select-page").check()
    page.get_by_test_id("bulk-fulfil").click()
    expect(page.get_by_test_id("toast-warning")).to_contain_text(
        re.compile(r"^\s*0 orders marked fulfilled; 50 refused: Order \d+ is already fulfilled")
    )


def test_a_shared_view_saved_by_one_person_opens_for_another(page, browser, server):
    sign_in(page, server, then="/orders/?status=cancelled")
    page.get_by_test_id("save-view").click()
    page.fill("#view-name", "Cancelled orders")
    page.check("#view-shared")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("toast-success")).to_contain_text("saved and shared")
    expect(page.locator("[data-testid=saved-view].active")).to_have_text(
        re.compile(r"Cancelled orders")
    )
    # And a private one, never shown to anyone else.
    page.goto(f"{server.url}/orders/?status=completed")
    page.get_by_test_id("save-view").click()
    page.fill("#view-name", "My completed")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("[data-testid=saved-view]", has_text="My completed")).to_be_visible()

    other = browser.new_context(viewport={"width": 1400, "height": 900})
    theirs = other.new_page()
    sign_in(theirs, server, username="vera", password=VIEWER_PASSWORD)
    tab = theirs.locator("[data-testid=saved-view]", has_text="Cancelled orders")
    expect(tab).to_contain_text("owner")  # whose view it is
    expect(theirs.locator("[data-testid=saved-view]", has_text="My completed")).to_have_count(0)
    tab.click()
    theirs.wait_for_url(re.compile(r"status=cancelled.*view=\d+"))
    expect(theirs.locator("[data-testid=chip][data-name=status]")).to_have_text(
        re.compile(r"Status:\s+Cancelled")
    )
    badges = theirs.locator("tr.order-row [data-badge]")
    expect(badges.first).to_be_visible()
    assert set(badges.all_inner_texts()) == {"Cancelled"}
    expect(theirs.get_by_test_id("manage-view")).to_have_count(0)  # only its owner edits it
    # A viewer has no bulk actions that change orders: only the export.
    theirs.get_by_test_id("select-page").check()
    expect(theirs.get_by_test_id("bulk-export")).to_be_visible()
    expect(theirs.get_by_test_id("bulk-fulfil")).to_have_count(0)
    other.close()


def test_a_chip_removes_its_filter_and_keeps_the_others(page, server):
    sign_in(page, server, then="/orders/?status=completed&currency=EUR&source=shopify")
    expect(page.get_by_test_id("filters-active")).to_have_text("3")
    expect(page.locator("#filter-panel")).to_be_hidden()
    page.get_by_role("link", name="Remove filter Currency: EUR").click()
    page.wait_for_url(lambda url: "currency" not in url)
    assert "status=completed" in page.url and "source=shopify" in page.url
    expect(page.get_by_test_id("filters-active")).to_have_text("2")
    page.get_by_test_id("clear-all").click()
    page.wait_for_url(lambda url: "status=" not in url and "source=" not in url)
    expect(page.get_by_test_id("chip")).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 1400, 390])
def test_all_orders_fits_the_window_with_its_actions_in_view(page, server, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, then="/orders/?status=completed&currency=EUR")
    expect(page.locator("tr.order-row").first).to_be_visible()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{wide} px wide in a {width} px window"
    if width >= 1280:
        table = page.locator(".table-responsive").first
        assert table.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the table scrolls"
        box = page.locator("tr.order-row td.actions-col").first.bounding_box()
        assert box["x"] + box["width"] <= width


LIST_PAGES = {
    "recurring": "/orders/recurring/?status=active",
    "payments": "/payments/?status=succeeded",
    "customers": "/customers/",
    "codes": "/promotions/codes/",
    "redemptions": "/promotions/redemptions/",
}


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("name", LIST_PAGES)
def test_every_list_counts_and_fits_the_window(page, server, name, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, then=LIST_PAGES[name])
    count = page.get_by_test_id("list-count")
    expect(count).to_be_visible()
    assert int(count.get_attribute("data-count")) >= 0
    expect(page.get_by_test_id("saved-views")).to_be_visible()
    if name == "codes":  # a list with bulk actions: tick a row and they show
        page.get_by_test_id("select-row").first.check()
        expect(page.get_by_test_id("bulk-summary")).to_have_text("1 selected")
        expect(page.get_by_test_id("bulk-deactivate")).to_be_visible()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{wide} px wide in a {width} px window"


@pytest.mark.parametrize("width", [1400, 390])
def test_a_campaigns_orders_tick_and_count(page, server, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, then="/campaigns/")
    page.locator("main td > a[href^='/campaigns/']").first.click()
    expect(page.get_by_test_id("list-count")).to_be_visible()
    page.get_by_test_id("select").first.check()
    expect(page.get_by_test_id("bulk-summary")).to_have_text("1 selected")
    expect(page.get_by_test_id("export-selected")).to_be_visible()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{wide} px wide in a {width} px window"
