"""The staff app in a real browser: what an operations team does every day."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWER_PASSWORD, sign_in

pytestmark = pytest.mark.slow


def test_sign_in(page, server):
    sign_in(page, server)
    expect(page.get_by_role("heading", name="Orders and Sales")).to_be_visible()
    expect(page.locator("tr.order-row").first).to_be_visible()
    expect(page.get_by_test_id("user-menu")).to_contain_text("owner")


def test_filter_all_orders_changes_url_and_rows(page, server):
    sign_in(page, server)
    all_rows = page.locator("tr.order-row").count()
    page.get_by_test_id("filters-toggle").click()
    page.select_option("#f-status", "cancelled")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"status=cancelled"))
    badges = page.locator("tr.order-row [data-badge]")
    expect(badges.first).to_be_visible()
    assert set(badges.all_inner_texts()) == {"Cancelled"}
    assert page.locator("tr.order-row").count() < all_rows
    page.get_by_test_id("clear-all").click()
    expect(page).not_to_have_url(re.compile(r"status="))


def test_expand_a_row_to_its_invoices(page, server):
    sign_in(page, server)
    # Imported demo orders (other tests add orders of their own through the API).
    page.goto(f"{server.url}/orders/?status=completed&source=shopify")
    row = page.locator("tr.order-row").first
    number = row.get_attribute("data-number")
    row.locator("td").nth(2).click()  # the date: the first two cells tick and link
    invoices = page.get_by_test_id(f"invoices-{number}")
    expect(invoices).to_be_visible()
    expect(invoices).to_contain_text("Funds credited")
    expect(invoices).to_contain_text("Succeeded")


def test_open_an_order_and_switch_tabs(page, server):
    sign_in(page, server, then="/orders/?source=shopify")
    page.locator("tr.order-row a").first.click()
    expect(page.get_by_test_id("order-badge")).to_be_visible()
    expect(page.get_by_test_id("items")).to_be_visible()
    page.wait_for_load_state("load")  # the tabs work once Bootstrap's deferred script ran
    page.get_by_role("tab", name="Metadata").click()
    expect(page.get_by_test_id("metadata-text")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#metadata$"))
    page.get_by_role("tab", name="Activity").click()
    expect(page.get_by_test_id("activity")).to_contain_text("Order imported")
    page.get_by_role("tab", name="Invoices and refunds").click()
    expect(page.get_by_role("heading", name="Refunds")).to_be_visible()


def test_create_a_manual_order_with_an_error_then_fix_it(page, server):
    sign_in(page, server)
    page.get_by_test_id("new-order").click()
    first_sku = page.locator("input[name=line_sku]").first
    first_sku.fill("NO-SUCH-SKU")
    page.get_by_test_id("save-order").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.locator("tr[data-line='0'] .invalid-feedback").first).to_contain_text("unknown SKU")
    page.locator("input[name=line_sku]").first.fill("101-M")
    page.locator("input[name=line_quantity]").first.fill("2")
    page.get_by_test_id("save-order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    expect(page.get_by_test_id("toast-success")).to_contain_text("created")
    expect(page.get_by_test_id("items")).to_contain_text("101-M")


def test_pick_a_customer_and_a_sku_from_the_suggestions(page, server):
    sign_in(page, server)
    page.get_by_test_id("new-order").click()
    picker = page.get_by_test_id("customer-picker")
    picker.press_sequentially("customer07")
    suggested = page.locator("#customer-options option")
    expect(suggested).to_have_count(1)
    expect(suggested).to_have_attribute("label", re.compile(r"customer07@example\.com"))
    picker.fill(suggested.get_attribute("value"))
    expect(page.get_by_test_id("customer-chosen")).to_contain_text("customer07@example.com")
    sku = page.locator("input[name=line_sku]").first
    sku.press_sequentially("101-")
    expect(page.locator("#skus option[value='101-M']")).to_be_attached()
    sku.fill("101-M")
    page.get_by_test_id("save-order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    expect(page.get_by_test_id("toast-success")).to_contain_text("created")
    expect(page.locator("main")).to_contain_text("customer07@example.com")


def test_refund_part_of_a_payment(page, server):
    payments = server.api("GET", "payments?status=succeeded&limit=100")["items"]
    invoice = next(i for i in payments if float(i["refundable"]) >= 2)
    sign_in(page, server)
    page.goto(f"{server.url}/orders/{invoice['order_number']}/#payments")
    form = page.get_by_test_id(f"refund-form-{invoice['number']}")
    form.locator("input[name=amount]").fill("1.00")
    form.locator("input[name=reason]").fill("scratched box")
    form.get_by_role("button", name="Refund…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile(r"Refund 1\.00"))).to_be_visible()
    expect(dialog).to_contain_text("Reason: scratched box")
    dialog.get_by_test_id("dialog-confirm").click()
    expect(page.get_by_test_id("toast-success")).to_contain_text(
        re.compile(r"Refunded \D{1,4}1\.00 of invoice")
    )
    page.get_by_role("tab", name="Invoices and refunds").click()
    expect(page.get_by_test_id("refunds")).to_contain_text("scratched box")
    after = server.api("GET", f"invoices/{invoice['number']}")
    assert float(after["refunded"]) == float(invoice["refunded"]) + 1


def test_an_order_created_through_the_api_appears_live(page, server):
    sign_in(page, server)
    expect(page.locator(".live-dot.on")).to_be_visible()  # the SSE stream is connected
    created = server.api(
        "POST", "orders", {"lines": [{"sku": "101-S"}], "notes": "appears without a reload"}
    )
    row = page.locator(f"tr.order-row[data-number='{created['number']}']")
    expect(row).to_be_visible(timeout=2000)


def test_a_status_change_shows_on_an_open_order_page(page, server):
    created = server.api("POST", "orders", {"lines": [{"sku": "101-S"}]})
    sign_in(page, server)
    page.goto(f"{server.url}/orders/{created['number']}/")
    expect(page.locator(".live-dot.on").first).to_be_visible()
    expect(page.get_by_test_id("order-badge")).to_have_text("Open")
    server.api("POST", f"orders/{created['number']}/cancel", {"reason": "changed mind"})
    expect(page.get_by_test_id("order-badge")).to_have_text("Cancelled", timeout=2000)


def test_viewer_sees_no_actions_and_a_forged_post_is_refused(page, server):
    sign_in(page, server, "vera", VIEWER_PASSWORD)
    expect(page.locator("tr.order-row").first).to_be_visible()
    for testid in ("new-order", "check", "add-user", "confirm", "decline"):
        expect(page.get_by_test_id(testid)).to_have_count(0)
    number = page.locator("tr.order-row").first.get_attribute("data-number")
    status_before = server.api("GET", f"orders/{number}")["status"]
    page.goto(f"{server.url}/orders/{number}/")
    expect(page.get_by_test_id("transitions")).to_have_count(0)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{server.url}/orders/{number}/cancel/",
        form={"csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{server.url}/orders/{number}/"},
    )
    assert response.status == 403
    assert "orders.change_order" in response.text()
    assert server.api("GET", f"orders/{number}")["status"] == status_before
    page.set_content(response.text())  # the screenshot shows what the viewer was told


@pytest.mark.parametrize("width", [1280, 390])
def test_change_password_opens_in_the_app_with_a_way_back(page, server, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server)
    if width < 1200:  # the navigation folds behind its toggler below 1200 px
        page.locator(".navbar-toggler").click()
        # Bootstrap marks the menu shown once it has finished unfolding; a click on the
        # user menu while it still moves may land beside it.
        expect(page.locator("#nav.show")).to_be_visible()
    page.get_by_test_id("user-menu").click()
    expect(page.get_by_role("link", name="Change password")).to_be_visible()
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url(re.compile(r"/password/$"))
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    expect(page.locator("nav .navbar-brand")).to_have_text("ordersight")
    expect(page.locator("#id_old_password")).to_be_visible()
    # No horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(lambda url: "/password/" not in url)
    page.go_back()
    page.get_by_test_id("back").click()
    page.wait_for_url(lambda url: "/password/" not in url)
