"""The sales dashboard in a real browser: ranges and filters, live figures, drill-down."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow


def _sales(page, currency: str = "EUR") -> str:
    return page.get_by_test_id(f"figure-{currency}-1").inner_text().strip()


def test_signing_in_lands_on_sales_performance_with_a_chart(page, server):
    sign_in(page, server, then=None)
    expect(page.get_by_role("link", name="Sales performance")).to_be_visible()
    expect(page.get_by_test_id("figures-EUR")).to_be_visible()
    # plotly.js drew the figure (under the CSP: no inline script or style needed).
    expect(page.locator("[data-testid=revenue-chart] .main-svg").first).to_be_attached()
    traces = page.locator("[data-testid=revenue-chart] .scatterlayer .trace")
    assert traces.count() >= 2  # a currency and its previous period at least


def test_switching_range_and_order_type_changes_totals_and_chart(page, server):
    sign_in(page, server, then="/?range=90d")
    ninety = _sales(page)
    points_90 = page.locator("[data-testid=revenue-chart] .scatterlayer .trace").first
    expect(points_90).to_be_attached()
    page.select_option("#f-range", "7d")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"range=7d"))
    seven = _sales(page)
    assert int(seven) < int(ninety)
    page.select_option("#f-type", "wholesale")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"order_type=wholesale"))
    assert page.get_by_test_id("period").inner_text()
    # Wholesale is a small share of the demo's sales: fewer (or none) in the same week.
    figures = page.get_by_test_id("figures-EUR")
    if figures.count():
        assert int(_sales(page)) < int(seven)
    else:
        expect(page.get_by_test_id("no-sales")).to_be_visible()


def test_a_completed_order_moves_the_figures_live(page, server):
    sign_in(page, server, then="/?range=today&currency=EUR")
    expect(page.locator(".live-dot.on")).to_be_attached()
    before = int(_sales(page)) if page.get_by_test_id("figures-EUR").count() else 0
    chart = "[data-testid=revenue-chart]"
    page.evaluate(f"document.querySelector('{chart}').dataset.stale = 'yes'")
    order = server.api(
        "POST", "orders", {"currency": "EUR", "lines": [{"name": "Live", "unit_price": "10.00"}]}
    )
    server.api("POST", f"orders/{order['number']}/complete", {})
    expect(page.get_by_test_id("figure-EUR-1")).to_have_text(str(before + 1), timeout=15_000)
    # The chart was replaced with the new figures and drawn again.
    expect(page.locator(f"{chart}:not([data-stale]) .main-svg").first).to_be_attached()


def test_a_figure_opens_exactly_its_orders(page, server):
    sign_in(page, server, then="/?range=7d&currency=USD")
    count = int(_sales(page, "USD"))
    assert 0 < count <= 50  # one page of All Orders
    page.get_by_test_id("figure-USD-1").click()
    page.wait_for_url(re.compile(r"/orders/\?.*status=completed"))
    assert "currency=USD" in page.url
    expect(page.locator("tr.order-row")).to_have_count(count)


def test_more_details_breaks_down_and_drills_down(page, server):
    sign_in(page, server, then="/?range=30d")
    page.get_by_test_id("more-details").click()
    page.get_by_test_id("group-category").click()
    page.wait_for_url(re.compile(r"group_by=category"))
    first = page.locator("[data-testid=report-table] tbody tr").first
    orders = int(first.get_by_test_id("orders-link").inner_text())
    first.get_by_test_id("orders-link").click()
    page.wait_for_url(re.compile(r"category=\d+"))
    if orders <= 50:
        expect(page.locator("tr.order-row")).to_have_count(orders)


def test_a_figure_shows_its_range_in_the_date_control_and_any_time_drops_it(page, server):
    sign_in(page, server, then="/?range=7d&currency=USD")
    count = int(_sales(page, "USD"))
    page.get_by_test_id("figure-USD-1").click()
    page.wait_for_url(re.compile(r"/orders/\?.*created_after="))
    after = re.search(r"created_after=([\d-]+)", page.url).group(1)
    # The range shows as chips above the folded panel, and in the panel once opened.
    expect(page.locator('[data-testid=chip][data-name="created_after"]')).to_contain_text(after)
    expect(page.locator('[data-testid=chip][data-name="created_before"]')).to_be_visible()
    page.get_by_test_id("filters-toggle").click()
    # The range the link applies is the custom range shown, not "Any time".
    expect(page.locator("#f-preset")).to_have_value("custom")
    expect(page.locator("#f-created_after")).to_be_visible()
    expect(page.locator("#f-created_after")).to_have_value(after)
    expect(page.locator("#f-created_before")).to_be_visible()
    expect(page.locator("tr.order-row")).to_have_count(count)
    page.select_option("#f-preset", "")
    expect(page.locator("#f-created_after")).to_be_hidden()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"preset=&"))
    expect(page.locator("#f-preset")).to_have_value("")
    # Every completed USD order now, not just the week's.
    assert page.locator("tr.order-row").count() >= count
    export = page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert "created_after" not in export


@pytest.mark.parametrize("width", [1280, 390])
def test_a_refused_range_keeps_what_was_typed_beside_its_error(page, server, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server, then="/?range=30d&currency=EUR")
    page.select_option("#f-range", "")
    page.fill("#f-from", "2026-03-31")
    page.fill("#f-to", "2026-03-01")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"from=2026-03-31"))
    expect(page.locator("#f-range")).to_have_value("")
    expect(page.locator("#f-from")).to_have_value("2026-03-31")
    expect(page.locator("#f-to")).to_have_value("2026-03-01")
    expect(page.locator("#f-to")).to_have_class(re.compile(r"is-invalid"))
    expect(page.locator("#f-to + .invalid-feedback")).to_have_text("must be on or after from")
    expect(page.locator("#f-currency")).to_have_value("EUR")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
