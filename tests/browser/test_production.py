"""The staff app through the production path: `ordersight serve`, DEBUG off."""

from __future__ import annotations

import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow


def test_the_production_server_is_styled_and_live(page, production_server):
    server = production_server
    sign_in(page, server)
    # Bootstrap is loaded: the navbar is a flex box with the theme's dark background.
    navbar = page.locator("nav.navbar").first
    expect(navbar).to_have_css("display", "flex")
    assert page.evaluate("typeof window.htmx") == "object"
    expect(page.locator(".live-dot.on")).to_be_visible()  # the SSE stream is connected
    created = server.api("POST", "orders", {"lines": [{"sku": "101-S"}], "notes": "live in prod"})
    expect(page.locator(f"tr.order-row[data-number='{created['number']}']")).to_be_visible(
        timeout=3000
    )


def test_the_production_api_docs_render(page, production_server):
    page.goto(f"{production_server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ordersight API")


def test_the_production_server_sends_no_debug_pages(production_server):
    try:
        urllib.request.urlopen(f"{production_server.url}/no-such-page/", timeout=5)
    except urllib.error.HTTPError as error:
        body = error.read().decode()
        assert error.code == 404
        assert "URLconf" not in body and "Traceback" not in body
    else:
        pytest.fail("an unknown page answered 200")


def test_no_page_breaks_the_content_security_policy(page, production_server):
    server = production_server
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sign_in(page, server)
    number = page.locator("tr.order-row").first.get_attribute("data-number")
    customer = server.api("GET", f"orders/{number}")["customer"]
    paths = [
        "/",
        "/sales/report/?group_by=category&compare=true",
        "/sales/history/",
        "/orders/",
        f"/orders/{number}/",
        "/orders/new/",
        "/payments/",
        "/customers/",
        "/api/docs",
        "/admin/",
    ]
    if customer:
        paths.append(f"/customers/{customer['id']}/")
    for path in paths:
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert violations == []
    # The decline and cancel buttons still ask first, in the page's dialog (no inline
    # handlers, no window.confirm).
    page.goto(f"{server.url}/orders/?status=open")
    first_open = page.locator("tr.order-row").first.get_attribute("data-number")
    page.goto(f"{server.url}/orders/{first_open}/")
    page.wait_for_load_state("load")
    page.get_by_test_id("more-actions").click()
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_role("dialog").get_by_role("heading")).to_contain_text("Cancel order")
    page.get_by_test_id("dialog-dismiss").click()
    assert server.api("GET", f"orders/{first_open}")["status"] == "open"
