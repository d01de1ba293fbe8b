"""Every job that only the API could do, through the pages in a real browser: a store
connection created, tested and edited; a payment system with a fee rule; an invoice, a manual
payment and Mark paid on an order; a recurring order's new card and the retry settings; a
person invited who sets a password and signs in, then loses the role; an API key whose
token works once shown and stops when revoked."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, sign_in

pytestmark = pytest.mark.slow


def _confirm(page) -> None:
    """Answer the page's own confirmation dialog (a form with `data-confirm` asks first)."""
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("dialog-confirm").click()


def test_a_store_connection_is_created_tested_and_edited(page, server: Server):
    folder = server.feeds / "jobs-shop"
    folder.mkdir()
    (folder / "customers.jsonl").write_text(
        json.dumps({"external_id": "j1", "name": "Jo", "email": "jo@example.com", "tags": ["b2b"]})
    )
    sign_in(page, server, then="/sync/")
    page.get_by_test_id("new-connection").click()
    page.fill("#f-name", "jobs shop")
    page.check("#f-platform-feed")
    page.fill("#f-shop_url", "http://jobs.example.com/feed")
    page.fill("#f-token_env", "DATABASE_URL")
    page.get_by_role("button", name="Create connection").click()
    # Refused: each field says why, and what was typed is still there.
    expect(page.get_by_test_id("error-shop_url")).to_contain_text("https")
    expect(page.get_by_test_id("error-token_env")).to_contain_text("ORDERSIGHT_SYNC_")
    expect(page.locator("#f-name")).to_have_value("jobs shop")

    page.fill("#f-shop_url", folder.as_uri())
    page.fill("#f-token_env", "")
    page.get_by_role("button", name="Create connection").click()
    expect(page.get_by_text("Store connection jobs shop created")).to_be_visible()
    expect(page.get_by_test_id("no-runs")).to_be_visible()

    page.get_by_test_id("test-connection").click()
    expect(
        page.get_by_text("jobs shop: connected; the feed answered with files for customers.")
    ).to_be_visible()

    page.get_by_test_id("edit-connection").click()
    page.fill("#f-refresh_minutes", "soon")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_test_id("error-refresh_minutes")).to_contain_text("whole number")
    page.fill("#f-refresh_minutes", "30")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Store connection jobs shop saved.")).to_be_visible()
    expect(page.get_by_test_id("connection-settings")).to_contain_text("30 minutes")

    page.goto(f"{server.url}/sync/")
    page.locator("section[data-connection='jobs shop'] [data-testid=refresh-customers]").click()
    page.locator("section[data-connection='jobs shop'] [data-testid=connection-link]").click()
    expect(page.get_by_test_id("feed-customers")).to_have_attribute("data-status", "green")
    expect(page.get_by_test_id("connection-runs")).to_contain_text("Customers")


def test_a_payment_system_gets_a_fee_rule_and_loses_it(page, server: Server):
    sign_in(page, server, then="/settings/")
    page.get_by_test_id("settings-payment-systems").click()
    page.get_by_test_id("new-payment-system").click()
    page.fill("#f-name", "Cash on delivery")
    page.fill("#f-code", "Cash!")
    page.select_option("#f-provider", "manual")
    page.get_by_role("button", name="Create payment system").click()
    expect(page.get_by_test_id("error-code")).to_contain_text("lowercase")
    expect(page.locator("#f-name")).to_have_value("Cash on delivery")
    page.fill("#f-code", "cod")
    page.get_by_role("button", name="Create payment system").click()
    expect(page.get_by_text("Payment system Cash on delivery created.")).to_be_visible()

    form = page.get_by_test_id("fee-form")
    form.locator("#f-fee-currency").select_option("GBP")
    form.locator("#f-percent").fill("1.5")
    form.locator("#f-fixed").fill("0.205")
    form.get_by_role("button", name="Save fee rule").click()
    expect(page.get_by_test_id("error-fixed")).to_be_visible()
    expect(page.locator("#f-percent")).to_have_value("1.5")
    page.locator("#f-fixed").fill("0.20")
    page.get_by_role("button", name="Save fee rule").click()
    rule = page.locator("[data-testid=fee-rules] tr[data-currency=GBP]")
    expect(rule.locator("[data-amount]")).to_have_attribute("data-amount", "0.2000")
    expect(rule.locator("[data-percent]")).to_have_attribute("data-percent", "1.5")

    page.get_by_test_id("remove-fee-GBP").click()
    _confirm(page)
    expect(page.get_by_text("Cash on delivery no longer has a fee rule for GBP.")).to_be_visible()
    expect(page.get_by_test_id("no-fee-rules")).to_be_visible()
    assert server.api("GET", "payment-systems/cod")["fee_rules"] == []


def test_an_order_is_invoiced_paid_by_hand_and_another_marked_paid(page, server: Server):
    sku = server.api("GET", "variants?limit=1")["items"][0]["sku"]
    first = server.api("POST", "orders", {"lines": [{"sku": sku, "quantity": 2}]})
    second = server.api("POST", "orders", {"lines": [{"sku": sku}]})

    sign_in(page, server, then=f"/orders/{first['number']}/#payments")
    take = page.get_by_test_id("take-payment")
    take.locator("#plan-installments").check()
    take.locator("#f-installments").fill("two")
    take.get_by_role("button", name="Issue").click()
    expect(page.get_by_test_id("error-installments")).to_contain_text("whole number")
    expect(page.locator("#f-installments")).to_have_value("two")
    page.locator("#plan-one").check()
    page.get_by_role("button", name="Issue").click()
    expect(page.get_by_text(f"Order {first['number']}: invoice ")).to_be_visible()
    invoice = server.api("GET", f"orders/{first['number']}")["invoices"][0]
    assert invoice["status"] == "pending" and invoice["amount"] == first["total"]

    page.locator("#f-manual-system").select_option("bank")
    page.locator("#f-amount").fill("1000000")
    page.locator("#f-comment").fill("wire 881")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_test_id("error-amount")).to_be_visible()
    expect(page.locator("#f-comment")).to_have_value("wire 881")
    page.locator("#f-amount").fill("")
    page.locator("#f-invoice").select_option(str(invoice["number"]))
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text(f"through Bank transfer (invoice {invoice['number']})")).to_be_visible()
    expect(page.get_by_test_id("payment-status")).to_have_text("paid")
    expect(page.get_by_test_id("nothing-due")).to_be_visible()

    page.goto(f"{server.url}/orders/{second['number']}/#payments")
    page.locator("#f-paid-system").select_option("invoice")
    page.get_by_test_id("mark-paid").click()
    _confirm(page)
    expect(
        page.get_by_text(f"Order {second['number']} marked paid through Pay by invoice")
    ).to_be_visible()
    assert server.api("GET", f"orders/{second['number']}")["payment_status"] == "paid"


def test_a_recurring_order_gets_a_new_card_and_the_retry_settings_change(page, server: Server):
    failed = server.api("GET", "recurring-orders?status=failed&limit=1")["items"][0]
    sign_in(page, server, then="/orders/recurring/?status=failed")
    row = page.locator(f"tr[data-recurring='{failed['number']}']")
    row.get_by_test_id("replace-card").click()
    expect(page.get_by_test_id("current-method")).to_contain_text("a new card is needed")
    page.get_by_role("button", name="Replace payment method").click()
    expect(page.get_by_test_id("error-payment_token")).to_contain_text("1 to 255")
    page.fill("#f-payment_token", "tok_success")
    page.get_by_role("button", name="Replace payment method").click()
    expect(
        page.get_by_text(f"Recurring order {failed['number']} will be charged to the card ending")
    ).to_be_visible()
    row = page.locator(f"tr[data-recurring='{failed['number']}']")
    expect(row.get_by_test_id("activate")).to_be_visible()  # a new card lets it start again

    page.get_by_test_id("retry-settings-link").click()
    page.fill("#f-retry-2", "later")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("error-retry-2")).to_contain_text("minutes, hours or days")
    expect(page.locator("#f-retry-2")).to_have_value("later")
    page.fill("#f-retry-1", "12h")
    page.fill("#f-retry-2", "2d")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("retry-now")).to_contain_text("after 12 hours, then after 2 days")
    assert server.api("GET", "recurring-settings")["retry_intervals"] == ["12h", "2d"]
    server.api("PUT", "recurring-settings", {"retry_intervals": ["1d", "3d"]})


def test_a_person_is_invited_sets_a_password_signs_in_and_is_deactivated(
    page, server: Server, browser
):
    sign_in(page, server, then="/settings/users/")
    form = page.get_by_test_id("invite-form")
    form.locator("#f-username").fill("nora")
    form.locator("#f-email").fill("nora@")
    form.get_by_label("Sales manager").check()
    form.get_by_role("button", name="Invite").click()
    expect(page.get_by_test_id("error-email")).to_be_visible()
    expect(page.locator("#f-username")).to_have_value("nora")
    page.fill("#f-email", "nora@example.com")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("nora invited as Sales manager.")).to_be_visible()
    link = page.get_by_test_id("shown-once-value").input_value()

    newcomer = browser.new_context(viewport={"width": 390, "height": 800}).new_page()
    newcomer.goto(link)
    newcomer.fill("#id_new_password1", "nora-chooses-a-long-one")
    newcomer.fill("#id_new_password2", "nora-chooses-a-long-one")
    newcomer.get_by_role("button", name="Set password").click()
    expect(newcomer.get_by_test_id("password-set")).to_be_visible()
    sign_in(newcomer, server, "nora", "nora-chooses-a-long-one", then="/orders/")
    expect(newcomer.get_by_test_id("user-menu")).to_contain_text("Sales manager")
    newcomer.context.close()

    page.reload()
    row = page.locator("tr[data-user=nora]")
    row.locator("select[name=role]").select_option("Viewer")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text("nora is now Viewer.")).to_be_visible()
    page.locator("tr[data-user=nora]").get_by_test_id("user-actions").click()
    page.locator("tr[data-user=nora]").get_by_test_id("deactivate").click()
    _confirm(page)
    expect(page.get_by_text("nora is deactivated and can no longer sign in.")).to_be_visible()
    expect(page.locator("tr[data-user=nora]")).to_contain_text("Deactivated")


def _api_status(server: Server, token: str, path: str) -> int:
    request = urllib.request.Request(
        f"{server.url}/api/v1/{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # local server
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_api_key_is_made_with_its_permissions_shown_once_and_revoked(page, server: Server):
    sign_in(page, server, then="/settings/api-keys/")
    form = page.get_by_test_id("api-key-form")
    form.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("error-name")).to_be_visible()
    page.fill("#f-name", "Order reader")
    page.uncheck("#f-scope-read")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("error-scopes")).to_be_visible()
    expect(page.locator("#f-name")).to_have_value("Order reader")
    page.check("#f-scope-read")
    page.locator("summary", has_text="orders").click()
    page.check("#f-perm-orders\\.view_order")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("API key Order reader created.")).to_be_visible()
    token = page.get_by_test_id("shown-once-value").input_value()
    assert _api_status(server, token, "orders?limit=1") == 200
    assert _api_status(server, token, "customers?limit=1") == 403  # restricted to orders
    row = page.locator("tr[data-key='Order reader']")
    expect(row.get_by_test_id("key-permissions")).to_have_text("only: Can view order")
    page.reload()
    expect(page.get_by_test_id("shown-once")).to_have_count(0)

    page.locator("tr[data-key='Order reader']").get_by_test_id("revoke").click()
    _confirm(page)
    expect(page.get_by_text("API key Order reader (")).to_be_visible()
    expect(page.locator("tr[data-key='Order reader']")).to_contain_text("Revoked")
    assert _api_status(server, token, "orders?limit=1") == 401
