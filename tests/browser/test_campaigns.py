"""A campaign's page in a real browser: Reject and Undo move the creator's
commission; an order paid through the API appears live with its status; the Creators tab
is read when opened."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.slow


def _amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.]", "", text.split()[0]))


def test_reject_and_undo_move_the_creators_commission(page, server):
    sign_in(page, server, then="/campaigns/")
    page.get_by_role("link", name="Spring creators").click()
    expect(page.get_by_test_id("campaign-name")).to_have_text("Spring creators")
    row = page.locator("tr[data-status=paid][data-approval=approved]").first
    creator, currency = row.get_attribute("data-creator"), row.get_attribute("data-currency")
    order = row.get_attribute("data-order")
    earned = _amount(row.locator("td").last.inner_text())
    assert earned > 0
    total = page.get_by_test_id(f"commission-{creator}-{currency}")
    before = _amount(total.inner_text())

    row.get_by_test_id("reject").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(f"Reject the conversion of order {order}?")
    dialog.get_by_test_id("dialog-confirm").click()
    expect(page.get_by_text(f"The conversion of order {order} is rejected.")).to_be_visible()
    # Amounts read with their currency's symbol ("€12.50"), the figure after it.
    expect(total).to_have_text(re.compile(rf"^\D+{before - earned:,.2f}$"))
    rejected = page.locator(f"tr[data-order='{order}']")
    expect(rejected.get_by_test_id("conversion-approval")).to_contain_text("Rejected")

    rejected.get_by_test_id("undo").click()
    expect(page.get_by_text(f"The conversion of order {order} is approved again.")).to_be_visible()
    expect(total).to_have_text(re.compile(rf"^\D+{before:,.2f}$"))
    expect(
        page.locator(f"tr[data-order='{order}'] [data-testid=conversion-approval]")
    ).to_contain_text("Approved")


def test_an_order_paid_through_the_api_appears_live_in_the_performance_tab(page, server):
    sign_in(page, server, then="/campaigns/")
    page.get_by_role("link", name="Spring creators").click()
    expect(page.locator(".live-dot.on")).to_be_attached()
    sku = server.api("GET", "variants?limit=1")["items"][0]["sku"]
    order = server.api("POST", "orders", {"lines": [{"sku": sku}], "coupon_code": "anna12"})
    row = page.locator(f"tr[data-order='{order['number']}']")
    expect(row.get_by_test_id("conversion-status")).to_contain_text("Pending")
    server.api("POST", f"orders/{order['number']}/payments/manual", {"payment_system": "bank"})
    expect(row.get_by_test_id("conversion-status")).to_contain_text("Paid")
    expect(row).to_contain_text("Anna Cooks")


def test_the_creators_tab_reads_its_members_when_opened(page, server):
    sign_in(page, server, then="/campaigns/")
    page.get_by_role("link", name="Spring creators").click()
    expect(page.get_by_test_id("campaign-name")).to_have_text("Spring creators")
    # Not read with the Performance tab: only the placeholder is in the page.
    expect(page.get_by_test_id("member-list")).to_have_count(0)
    page.get_by_test_id("members-tab").click()
    members = page.get_by_test_id("member-list")
    expect(members).to_be_visible()
    expect(members.locator("tbody tr").first).to_contain_text("@")
    expect(page.get_by_test_id("add-member")).to_be_visible()
