"""The staff pages checked with axe-core in a real browser, at desk and phone widths: no
serious or critical violation, and nothing wider than the window on a phone.

Each page is shown with what makes it interesting: a discount code with amounts in three
currencies, an order holding part of its money, voided invoices, a refund today, a feed whose
refresh failed, a refused date range, and the 503 page of a server whose database is away.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, sign_in

pytestmark = pytest.mark.slow

WIDTHS = {"desk": 1400, "phone": 390}
BLOCKING = ("serious", "critical")
CODE = "AXE3"


@pytest.fixture(scope="module")
def axe():
    # A missing axe fails the suite like a missing browser: it never skips.
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        pytest.fail(
            "axe-playwright-python is missing: `make install` installs the dev dependencies",
            pytrace=False,
        )
    return Axe()


@pytest.fixture(scope="module")
def seeded(server: Server) -> dict[str, int]:
    """Orders, invoices, a code and a failed feed, made through the API as a shop would."""
    category = server.api("GET", "categories")[0]["number"]
    server.api(
        "POST",
        "offers",
        {
            "name": "Accessibility course",
            "category_number": category,
            "currency": "EUR",
            "unit_price": "120.00",
            "allow_partial_payments": True,
            "variants": [{"sku": "AXE-COURSE"}],
        },
    )
    server.api(
        "POST",
        "discount-codes",
        {"code": CODE, "kind": "fixed", "amounts": {"EUR": "5.00", "USD": "6.00", "GBP": "4.00"}},
    )

    def order() -> int:
        return server.api("POST", "orders", {"lines": [{"sku": "AXE-COURSE"}]})["number"]

    holding = order()  # half paid, half still asked: cancelling it needs the money permission
    first, _ = server.api("POST", f"orders/{holding}/invoices", {"installments": 2})
    server.api(
        "POST",
        f"orders/{holding}/payments/manual",
        {"payment_system": "bank", "invoice": first["number"], "buyer_comment": "first half"},
    )
    cancelled = order()
    server.api("POST", f"orders/{cancelled}/invoices", {"installments": 2})
    server.api("POST", f"orders/{cancelled}/cancel", {"reason": "changed mind"})
    declined = order()
    server.api("POST", f"orders/{declined}/invoices", {})
    server.api("POST", f"orders/{declined}/decline", {"reason": "failed the fraud check"})
    reissued = order()
    server.api("POST", f"orders/{reissued}/invoices", {})
    server.api("POST", f"orders/{reissued}/discount-code", {"code": CODE})
    refunded = order()
    paid = server.api("POST", f"orders/{refunded}/payments/manual", {"payment_system": "bank"})
    server.api("POST", f"invoices/{paid['number']}/refunds", {"amount": "30.00", "reason": "late"})

    # A feed whose file is not text: its refresh fails and the page says why.
    feed = server.feeds / "axe"
    feed.mkdir()
    (feed / "orders.jsonl").write_bytes(b"\xff\xfe not text")
    server.api(
        "POST",
        "sync/connections",
        {"name": "axe-feed", "platform": "feed", "shop_url": feed.as_uri()},
    )
    run = server.api("POST", "sync/connections/axe-feed/feeds/orders/refresh", {})
    loyal = next(s for s in server.api("GET", "segments")["items"] if s["name"] == "Loyal buyers")
    # The demo campaign with a removed creator: its Creators tab has the removed note too.
    spring = next(
        c for c in server.api("GET", "campaigns")["items"] if c["name"] == "Spring creators"
    )
    return {
        "customer": server.api("GET", "customers?limit=1")["items"][0]["id"],
        "campaign": spring["id"],
        "segment": loyal["id"],
        "holding": holding,
        "holding_paid": first["number"],
        "cancelled": cancelled,
        "declined": declined,
        "reissued": reissued,
        "run": run["id"],
        "recurring": server.api("GET", "recurring-orders?status=active&limit=1")["items"][0][
            "number"
        ],
    }


@pytest.fixture(scope="module")
def owner_cookies(browser, server: Server) -> list:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, then=None)
    cookies = context.cookies()
    context.close()
    return cookies


def _pages(seeded: dict[str, int]) -> dict[str, tuple[str, str]]:
    """Each page: its path and what shows it holds what it is checked for."""
    today = date.today()
    start, end = (today - timedelta(days=29)).isoformat(), today.isoformat()
    return {
        "dashboard": ("/?range=today", "[data-testid=figures-EUR]"),
        "all-orders": ("/orders/", "tr.order-row"),
        "orders-with-chips": (
            "/orders/?status=open&status=draft&currency=EUR&colour=red",
            "[data-testid=chip][data-name=colour]",
        ),
        "discount-codes": ("/promotions/codes/", "[data-testid=bulk-bar]"),
        "order-holding-money": (
            f"/orders/{seeded['holding']}/",
            "[data-testid=transitions] button:has-text('Confirm partial payments')",
        ),
        "order-invoices": (
            f"/orders/{seeded['holding']}/#payments",
            f"[data-testid=refund-form-{seeded['holding_paid']}]",
        ),
        "order-voided-invoices": (
            f"/orders/{seeded['reissued']}/#payments",
            "[data-testid=detail-invoices] [data-testid^=void-]",
        ),
        "payments": ("/payments/", "[data-testid=payments-table] [data-testid^=void-]"),
        "order-row-invoices": (
            "/orders/?status=cancelled",
            f"[data-testid=invoices-{seeded['cancelled']}] [data-testid^=void-]",
        ),
        "discount-code": (f"/promotions/codes/{CODE}/", "[data-testid=code-amounts]"),
        "report-custom-range": (
            f"/sales/report/?range=&from={start}&to={end}&group_by=category",
            "[data-testid=report-table]",
        ),
        "report-refused-range": (
            f"/sales/report/?range=&from={end}&to={start}&group_by=category",
            "#f-to.is-invalid",
        ),
        "orders-drill-down": (
            f"/orders/?status=completed&created_after={start}&created_before={end}",
            "[data-testid=chip][data-name=created_after]",
        ),
        "change-password": ("/password/", "#id_old_password"),
        "data-sync": (
            "/sync/",
            "section[data-connection=axe-feed] [data-testid=status-text]:has-text('failed')",
        ),
        "sync-run": (f"/sync/runs/{seeded['run']}/", "[data-testid=run-message]"),
        "settings": ("/settings/", "[data-testid=settings-users]"),
        "connect-a-store": ("/sync/connections/new/", "#f-shop_url"),
        "store-connection": ("/sync/connections/axe-feed/", "[data-testid=feed-orders]"),
        "edit-store-connection": ("/sync/connections/axe-feed/edit/", "#f-refresh_minutes"),
        "payment-systems": ("/settings/payment-systems/", "[data-testid=payment-systems]"),
        "new-payment-system": ("/settings/payment-systems/new/", "#f-code"),
        "payment-system": ("/settings/payment-systems/acme/", "[data-testid=fee-rules]"),
        "order-take-payment": (
            f"/orders/{seeded['holding']}/#payments",
            "[data-testid=manual-payment-form]",
        ),
        "replace-payment-method": (
            f"/orders/recurring/{seeded['recurring']}/payment-method/",
            "#f-payment_token",
        ),
        "retry-settings": ("/settings/recurring-payments/", "[data-testid=retry-form]"),
        "users": ("/settings/users/", "[data-testid=invite-form]"),
        "api-keys": ("/settings/api-keys/", "[data-testid=api-key-form]"),
        "segment-rules": (
            f"/promotions/segments/{seeded['segment']}/",
            "[data-testid=segment-builder] [data-testid=rule-row]",
        ),
        "segments": ("/promotions/segments/", "[data-testid=segment-sentence]"),
        "campaign-performance": (
            f"/campaigns/{seeded['campaign']}/",
            "[data-testid=campaign-orders] [data-testid=conversion-status]",
        ),
        "campaign-creators": (
            f"/campaigns/{seeded['campaign']}/?tab=members",
            "[data-testid=removed-note]",
        ),
        "campaigns": ("/campaigns/?sort=name", "[data-testid=campaigns] a"),
        "creators": ("/creators/?q=a", "[data-testid=creators] a"),
        "search-results": ("/search/?q=customer", "[data-testid=search-hit]"),
        "search-panel-open": ("/orders/", "[data-testid=search-panel] [data-testid=search-hit]"),
        # The pickers: a filter picked by offer and customer (the panel open), a new order
        # whose customer picker shows who it names, a customer's sales-plan offer picker.
        "orders-picked": (
            f"/orders/?offer=101&customer={seeded['customer']}",
            "[data-testid=chip][data-name=customer]",
        ),
        "new-order": ("/orders/new/", "[data-testid=customer-picker]"),
        "customer-card": (
            f"/customers/{seeded['customer']}/#sales-plan",
            "[data-testid=sales-plan-offer]",
        ),
    }


PAGE_NAMES = [
    "dashboard",
    "discount-codes",
    "orders-with-chips",
    "all-orders",
    "order-holding-money",
    "order-invoices",
    "order-voided-invoices",
    "payments",
    "order-row-invoices",
    "discount-code",
    "report-custom-range",
    "report-refused-range",
    "orders-drill-down",
    "change-password",
    "data-sync",
    "sync-run",
    "settings",
    "connect-a-store",
    "store-connection",
    "edit-store-connection",
    "payment-systems",
    "new-payment-system",
    "payment-system",
    "order-take-payment",
    "replace-payment-method",
    "retry-settings",
    "users",
    "api-keys",
    "segment-rules",
    "segments",
    "campaign-performance",
    "campaign-creators",
    "campaigns",
    "creators",
    "search-results",
    "search-panel-open",
    "orders-picked",
    "new-order",
    "customer-card",
]


# The outermost elements whose right edge passes the window, named so a failure says where.
PAST_THE_EDGE = """width => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 0.5
          && !(e.parentElement && e.parentElement.getBoundingClientRect().right > width + 0.5))
  .slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
       ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
       + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)')"""


def _check(page, axe, width: int) -> None:
    """Fail on axe's serious and critical violations, each with its id and elements, and
    on a page wider than the window."""
    results = axe.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    lines = [
        f"{v['impact']} {v['id']} ({v['help']}): "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in blocking
    ]
    assert not lines, f"axe on {page.url}:\n" + "\n".join(lines)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, (
        f"{page.url} is {overflow} px wide in a {width} px window; past its edge: "
        + ", ".join(page.evaluate(PAST_THE_EDGE, width))
    )


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_staff_page_passes_axe(page, server, axe, seeded, owner_cookies, name, width):
    path, shows = _pages(seeded)[name]
    page.set_viewport_size({"width": width, "height": 900})
    # No fading tab panes: axe would measure contrast halfway through the fade.
    page.emulate_media(reduced_motion="reduce")
    page.context.add_cookies(owner_cookies)
    page.goto(f"{server.url}{path}")
    page.wait_for_load_state("load")  # Bootstrap and htmx run deferred
    if name == "order-row-invoices":
        # The date cell: the first two tick the row and link the order.
        page.locator(f"tr.order-row[data-number='{seeded['cancelled']}'] td").nth(2).click()
    if name == "search-panel-open":
        page.get_by_test_id("search-box").fill("customer")
        page.keyboard.press("ArrowDown")
    if name == "orders-picked":
        page.get_by_test_id("filters-toggle").click()
        expect(page.locator("#f-customer")).to_be_visible()
    expect(page.locator(shows).first).to_be_visible()
    _check(page, axe, width)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_sign_in_page_passes_axe(page, server, axe, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server.url}/login/")
    expect(page.locator("#id_username")).to_be_visible()
    _check(page, axe, width)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_unavailable_page_passes_axe(page, unavailable_server, axe, width):
    page.set_viewport_size({"width": width, "height": 900})
    # A session cookie makes the page read the database, which is away.
    page.context.add_cookies([{"name": "sessionid", "value": "a" * 32, "url": unavailable_server}])
    response = page.goto(f"{unavailable_server}/orders/")
    assert response.status == 503
    assert response.headers["retry-after"]
    expect(page.get_by_test_id("unavailable")).to_contain_text(re.compile(r"Back in a moment"))
    _check(page, axe, width)
