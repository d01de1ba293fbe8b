"""The Data Sync page in a real browser: Refresh starts a run, a green feed, an amber feed
with its errors a click away, and both lookups showing the JSON received."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow


def test_data_sync_statuses_errors_refresh_and_lookups(page, server):
    tmp_path = server.feeds / "files"  # below the server's SYNC_FILE_ROOT
    tmp_path.mkdir()
    category = server.api("GET", "categories")[0]["number"]
    (tmp_path / "customers.jsonl").write_text(
        "\n".join(
            json.dumps(
                {
                    "external_id": f"shop-c{n}",
                    "name": f"Buyer {n}",
                    "email": f"b{n}@example.com",
                    "tags": ["b2b"],
                }
            )
            for n in range(3)
        )
    )
    (tmp_path / "products.jsonl").write_text(
        json.dumps(
            {
                "name": "Sync poster",
                "category_number": category,
                "currency": "EUR",
                "unit_price": "12.00",
                "variants": [{"sku": "SYNC-POSTER"}],
            }
        )
        + "\n"
        + json.dumps({"name": "Broken", "currency": "EUR", "variants": [{"sku": ""}]})
    )
    server.api(
        "POST",
        "sync/connections",
        {"name": "files", "platform": "feed", "shop_url": tmp_path.as_uri()},
    )
    sign_in(page, server, then="/sync/")
    section = page.locator("section[data-connection='files']")
    expect(section.get_by_test_id("feed-customers")).to_have_attribute("data-status", "amber")

    section.get_by_test_id("refresh-customers").click()
    expect(page.get_by_text("files: the customers refresh has started.")).to_be_visible()
    customers = page.locator("section[data-connection='files'] [data-testid=feed-customers]")
    expect(customers).to_have_attribute("data-status", "green")
    expect(customers).to_contain_text("3 synchronised")

    page.locator("section[data-connection='files'] [data-testid=refresh-products]").click()
    products = page.locator("section[data-connection='files'] [data-testid=feed-products]")
    expect(products).to_have_attribute("data-status", "amber")
    expect(products.get_by_test_id("status-text")).to_contain_text("1 error")
    products.get_by_test_id("last-run").click()
    expect(page.get_by_test_id("run-errors")).to_contain_text("line 2:")

    page.goto(f"{server.url}/sync/files/lookup/")
    page.locator("#l-sku").fill("SYNC-POSTER")
    page.get_by_test_id("product-lookup").get_by_role("button").click()
    expect(page.get_by_test_id("received-json")).to_contain_text("Sync poster")
    page.locator("#l-ext").fill("shop-c1")
    page.get_by_test_id("customer-lookup").get_by_role("button").click()
    expect(page.get_by_test_id("lookup-result")).to_contain_text("b1@example.com")
