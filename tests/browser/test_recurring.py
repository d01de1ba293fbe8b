"""The Recurring Orders tab in a real browser: pause and reactivate, the status changes live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow


def test_pause_and_reactivate_a_recurring_order_live(page, server, browser):
    sign_in(page, server, then="/orders/recurring/?status=active")
    expect(page.locator(".live-dot.on")).to_be_attached()
    row = page.locator("tr.recurring-row").first
    number = row.get_attribute("data-recurring")
    status = page.locator(f"tr[data-recurring='{number}'] [data-testid=recurring-status]")
    expect(status).to_contain_text("Active")

    # A second person watches the same tab; the change reaches their page without a reload.
    watcher = browser.new_context().new_page()
    sign_in(watcher, server, then="/orders/recurring/")
    expect(watcher.locator(".live-dot.on")).to_be_attached()
    watched = watcher.locator(f"tr[data-recurring='{number}'] [data-testid=recurring-status]")
    expect(watched).to_contain_text("Active")

    page.locator(f"tr[data-recurring='{number}'] [data-testid=pause]").click()
    expect(page.get_by_text(f"Recurring order {number} paused.")).to_be_visible()
    expect(watched).to_contain_text("Paused")

    page.goto(f"{server.url}/orders/recurring/?status=paused")
    page.locator(f"tr[data-recurring='{number}'] [data-testid=activate]").click()
    expect(page.get_by_text(f"Recurring order {number} activated.")).to_be_visible()
    expect(watched).to_contain_text("Active")
    watcher.context.close()

    # Clicking the row opens its child orders, the initial order first.
    page.goto(f"{server.url}/orders/recurring/")
    page.locator(f"tr[data-recurring='{number}'] td").first.click()
    children = page.locator(f"#children-{number} [data-testid=child-orders]")
    expect(children).to_be_visible()
    expect(children.locator("tbody tr").first).to_contain_text("initial")
