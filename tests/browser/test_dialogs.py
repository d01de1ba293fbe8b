"""Confirmations, reasons and a row's small forms ask in one accessible dialog: it opens on the
action, keeps the keyboard inside, closes on Esc without doing anything, stays on a phone's
screen, and what the action did shows as a toast."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow


def _open_order(server) -> int:
    return server.api("POST", "orders", {"lines": [{"sku": "101-S"}]})["number"]


def _inside_viewport(page, locator) -> None:
    box = locator.bounding_box()
    viewport = page.viewport_size
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    assert box["y"] + box["height"] <= viewport["height"]


@pytest.mark.parametrize("width", [1280, 390])
def test_cancel_asks_in_a_dialog_that_esc_closes_and_focus_stays_in(page, server, width):
    number = _open_order(server)
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, server, then=f"/orders/{number}/")
    page.wait_for_load_state("load")
    page.get_by_test_id("more-actions").click()
    trigger = page.get_by_role("button", name="Cancel order")
    trigger.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(f"Cancel order {number}?")
    content = dialog.locator(".modal-content")
    _inside_viewport(page, content)
    # The reason field has the focus; Tab and Shift+Tab never leave the dialog.
    expect(dialog.get_by_label("Reason (optional)")).to_be_focused()
    for key in ["Tab"] * 6 + ["Shift+Tab"] * 6:
        page.keyboard.press(key)
        assert page.evaluate(
            "document.getElementById('app-dialog').contains(document.activeElement)"
        )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert server.api("GET", f"orders/{number}")["status"] == "open"


def test_cancel_with_a_reason_cancels_and_says_so_in_a_toast(page, server):
    number = _open_order(server)
    sign_in(page, server, then=f"/orders/{number}/")
    page.wait_for_load_state("load")
    page.get_by_test_id("more-actions").click()
    page.get_by_role("button", name="Cancel order").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason (optional)").fill("customer changed their mind")
    dialog.get_by_test_id("dialog-confirm").click()
    expect(page.get_by_test_id("toast-success")).to_contain_text(f"Order {number} cancelled.")
    assert server.api("GET", f"orders/{number}")["status"] == "cancelled"
    page.get_by_role("tab", name="Activity").click()
    expect(page.get_by_test_id("activity")).to_contain_text(
        "Status changed from Open to Cancelled by owner: customer changed their mind"
    )


def test_a_rows_add_user_form_opens_in_the_dialog_on_a_phone(page, server):
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, server, then="/orders/?status=completed")
    page.wait_for_load_state("load")
    row = page.locator("tr.order-row").first
    number = row.get_attribute("data-number")
    opener = row.get_by_test_id("add-user")
    opener.scroll_into_view_if_needed()
    opener.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(f"Sales manager of order {number}")
    _inside_viewport(page, dialog.locator(".modal-content"))
    expect(dialog.get_by_label("Sales manager")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()  # the keyboard is back where it was


def test_a_refused_refund_keeps_what_was_typed(page, server):
    payments = server.api("GET", "payments?status=succeeded&limit=100")["items"]
    invoice = next(i for i in payments if float(i["refundable"]) >= 1)
    sign_in(page, server, then=f"/orders/{invoice['order_number']}/#payments")
    page.wait_for_load_state("load")
    form = page.get_by_test_id(f"refund-form-{invoice['number']}")
    too_much = f"{float(invoice['refundable']) + 1000:.2f}"
    form.locator("input[name=amount]").fill(too_much)
    form.locator("input[name=reason]").fill("wrong size")
    form.get_by_role("button", name="Refund…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(
        re.compile(rf"Refund {re.escape(too_much)} \w+ from invoice {invoice['number']}\?")
    )
    dialog.get_by_test_id("dialog-confirm").click()
    expect(page.get_by_test_id("toast-error")).to_contain_text("Refund not made")
    page.get_by_role("tab", name="Invoices and refunds").click()
    form = page.get_by_test_id(f"refund-form-{invoice['number']}")
    expect(form.locator("input[name=amount]")).to_have_value(too_much)
    expect(form.locator("input[name=reason]")).to_have_value("wrong size")


def test_a_rows_add_user_and_check_fill_the_pages_one_form_with_that_row(page, server):
    number = _open_order(server)
    server.api("POST", f"orders/{number}/complete", {"reason": "paid at the counter"})
    sign_in(page, server, then="/orders/")
    page.wait_for_load_state("load")
    row = page.locator(f"tr.order-row[data-number='{number}']")

    row.get_by_test_id("add-user").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(f"Sales manager of order {number}")
    picker = dialog.get_by_label("Sales manager")
    expect(picker).to_have_value("system")  # the row names no one yet
    manager = picker.locator("option").nth(1)
    username, manager_id = manager.inner_text(), manager.get_attribute("value")
    picker.select_option(manager_id)
    dialog.get_by_test_id("dialog-confirm").click()
    expect(page.get_by_test_id("toast-success")).to_contain_text(
        f"Order {number} now names {username} as its sales manager."
    )
    named = server.api("GET", f"orders/{number}")
    assert named["sales_manager"]["username"] == username and named["sales_confirmed_by"] is None

    row = page.locator(f"tr.order-row[data-number='{number}']")
    row.get_by_test_id("check").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(f"Who made sale {number}?")
    expect(dialog.get_by_label("Sales manager")).to_have_value(manager_id)  # the row's own
    dialog.get_by_test_id("dialog-confirm").click()
    expect(page.get_by_test_id("toast-success")).to_contain_text(
        f"Sale {number} confirmed as made by {username}."
    )
    confirmed = server.api("GET", f"orders/{number}")
    assert confirmed["sales_manager"]["username"] == username
    assert confirmed["sales_confirmed_by"] is not None
