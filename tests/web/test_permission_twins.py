"""Every permission check a page makes has an API twin: same actor, same refusal.

`require_perm` marks each page with the permission it checks; every marked page must be
listed in PAGE_TWINS with the API call that does the same thing. Rules that depend on the
order (complete without full payment, decline with money taken, naming another manager) are
checked by the services, so the pages and the API refuse them alike: OBJECT_TWINS.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from ordersight.core.actors import Actor
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services as payments
from ordersight.payments.models import PaymentSystem
from tests import factories

# page URL name → (page method, API method, API path, API body)
PAGE_TWINS: dict[str, tuple[str, str, str, dict | None]] = {
    "orders": ("get", "get", "orders", None),
    # A bulk action needs the list first; each action then checks its own permission.
    "orders_bulk": ("post", "get", "orders", None),
    "new_order": ("post", "post", "orders", {"lines": [{"sku": "TEE-M"}]}),
    "recurring": ("get", "get", "recurring-orders", None),
    "recurring_export": ("get", "get", "recurring-orders/export.csv", None),
    "recurring_children": ("get", "get", "recurring-orders/{n}", None),
    "recurring_action": ("post", "post", "recurring-orders/{n}/pause", None),
    "recurring_settings": ("post", "put", "recurring-settings", {"retry_intervals": ["1d", "2d"]}),
    "orders_export": ("get", "get", "orders/export.csv", None),
    "order": ("get", "get", "orders/{n}", None),
    "order_invoices": ("get", "get", "orders/{n}", None),
    "order_part": ("get", "get", "orders/{n}/events", None),
    "order_metadata": ("post", "patch", "orders/{n}", {"metadata": {}}),
    "order_attribution": ("post", "post", "orders/{n}/sales-attribution", {"manager_id": None}),
    "order_action": ("post", "post", "orders/{n}/cancel", {}),
    "payments": ("get", "get", "payments", None),
    "payments_export": ("get", "get", "payments/export.csv", None),
    "invoice_refund": ("post", "post", "invoices/{i}/refunds", {"amount": "1.00"}),
    "customers": ("get", "get", "customers", None),
    "customers_export": ("get", "get", "customers/export.csv", None),
    "customer": ("get", "get", "customers/{c}", None),
    "customer_sales_plan": ("post", "post", "customers/{c}/sales-plan", {"offer_number": 101}),
    "sales_report": ("get", "get", "reports/sales", None),
    "sales_report_export": ("get", "get", "reports/sales.csv", None),
    "sales_history": ("get", "get", "orders", None),
    "campaigns": ("get", "get", "campaigns", None),
    "new_campaign": (
        "post",
        "post",
        "campaigns",
        {"name": "A", "starts_on": "2026-01-01", "commission_kind": "percent"},
    ),
    "campaign_sales_download": ("get", "get", "sales-generated/export.csv", None),
    "campaign": ("get", "get", "campaigns/1", None),
    "campaign_export": ("get", "get", "campaigns/1/conversions/export.csv", None),
    "campaign_members": ("post", "post", "campaigns/1/members", {"creator": "a"}),
    "conversion_approval": ("post", "post", "conversions/1/undo", None),
    "campaign_bulk": ("post", "get", "campaigns/1/conversions", None),
    "creators": ("get", "get", "creators", None),
    "creators_export": ("get", "get", "creators/export.csv", None),
    "campaigns_export": ("get", "get", "campaigns/export.csv", None),
    "segments_export": ("get", "get", "segments/export.csv", None),
    "new_creator": ("post", "post", "creators", {"name": "A", "handle": "a"}),
    "creator": ("get", "get", "creators/a", None),
    "discount_codes": ("get", "get", "discount-codes", None),
    "discount_codes_bulk": ("post", "get", "discount-codes", None),
    "discount_codes_export": ("get", "get", "discount-codes/export.csv", None),
    "new_discount_code": ("post", "post", "discount-codes", {"code": "A", "kind": "percent"}),
    "discount_code": ("get", "get", "discount-codes/A", None),
    "edit_discount_code": ("post", "patch", "discount-codes/A", {}),
    "redemptions": ("get", "get", "redemptions", None),
    "redemptions_export": ("get", "get", "redemptions/export.csv", None),
    "segments": ("get", "get", "segments", None),
    "count_segment": ("post", "post", "segments/count", {"rules": {}}),
    "new_segment": ("post", "post", "segments", {"name": "A", "rules": {}}),
    "segment": ("get", "get", "segments/1", None),
    "edit_segment": ("post", "patch", "segments/1", {}),
    "segment_export": ("get", "get", "segments/1/members.csv", None),
    "order_redeem": ("post", "post", "orders/{n}/discount-code", {"code": "A"}),
    "sync": ("get", "get", "sync/connections", None),
    "sync_run": ("get", "get", "sync/runs/1", None),
    "sync_lookup": ("get", "get", "sync/connections/main/lookup/customer", None),
    "sync_refresh": ("post", "post", "sync/connections/main/feeds/customers/refresh", {}),
    "sync_new_connection": (
        "post",
        "post",
        "sync/connections",
        {"name": "a", "shop_url": "https://a.example.com"},
    ),
    "sync_connection": ("get", "get", "sync/connections/main", None),
    "payment_systems": ("get", "get", "payment-systems", None),
    "new_payment_system": (
        "post",
        "post",
        "payment-systems",
        {"code": "a", "name": "A", "provider": "test"},
    ),
    "payment_system": ("get", "get", "payment-systems/card", None),
    "edit_payment_system": ("post", "patch", "payment-systems/card", {}),
    "set_fee_rule": ("post", "put", "payment-systems/card/fee-rules/EUR", {}),
    "remove_fee_rule": ("post", "delete", "payment-systems/card/fee-rules/EUR", None),
    "order_issue_invoices": ("post", "post", "orders/{n}/invoices", {}),
    "order_manual_payment": (
        "post",
        "post",
        "orders/{n}/payments/manual",
        {"payment_system": "bank"},
    ),
    # Marking paid is manual payments of all that is due: the same route's permission.
    "order_mark_paid": ("post", "post", "orders/{n}/payments/manual", {"payment_system": "bank"}),
    "recurring_payment_method": (
        "post",
        "put",
        "recurring-orders/{n}/payment-method",
        {"payment_token": "tok_success"},
    ),
    "retry_settings": ("get", "get", "recurring-settings", None),
}
# Pages with no API twin (yet): the page's own permission is still checked for every role
# below. Each says why it has none.
PAGE_ONLY: dict[str, tuple[str, str]] = {
    "sync_connection_edit": ("post", "connections are edited on the page only"),
    "sync_connection_test": ("post", "a person's check of the store; a run tells the API"),
    "users": ("get", "people are managed on the pages and in the admin"),
    "invite_user": ("post", "people are managed on the pages and in the admin"),
    "user_action": ("post", "people are managed on the pages and in the admin"),
    "api_keys": ("get", "keys are made on the page or with `ordersight apikey`"),
    "new_api_key": ("post", "keys are made on the page or with `ordersight apikey`"),
    "revoke_api_key": ("post", "keys are revoked on the page or with `ordersight apikey`"),
}
PAGE_ARGS = {
    "number": "{n}",
    "customer_id": "{c}",
    "part": "summary",
    # A move with no rule about money beyond the route's permission: the world's order is
    # paid, and cancelling it needs more (see OBJECT_TWINS).
    "action": "fulfil",
    "campaign_id": "1",
    "conversion_id": "1",
    "creator_id": "1",
    "segment_id": "1",
    "code": "A",
    "run_id": "1",
    "name": "main",
    "kind": "customers",
    "currency": "EUR",
    "user_id": "1",
    "prefix": "abc",
}


def _marked_pages() -> dict[str, tuple[str, str]]:
    """URL name → (route, permission) of every page that checks a permission."""
    pages = {}
    for pattern in get_resolver("ordersight.web.urls").url_patterns:
        assert isinstance(pattern, URLPattern)
        perm = getattr(pattern.callback, "required_permission", None)
        if perm:
            pages[pattern.name] = (str(pattern.pattern), perm)
    return pages


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(catalog, customer):
    """An order with a paid invoice, so every page and API call reaches its permission."""
    card = PaymentSystem.objects.create(code="card", name="Cards", provider="test")
    system = Actor.system()
    order = create_order(
        data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="TEE-M")]), actor=system
    )
    (invoice,) = payments.issue_invoices(order=order, actor=system)
    payments.charge_invoice(
        invoice=invoice, payment_system=card, card_token="tok_success", actor=system
    )
    return {"{n}": str(order.number), "{c}": str(customer.pk), "{i}": str(invoice.number)}


def _fill(text: str, world: dict[str, str]) -> str:
    for key, value in world.items():
        text = text.replace(key, value)
    return text


def test_every_page_that_checks_a_permission_has_an_api_twin():
    pages = _marked_pages()
    declared = set(PAGE_TWINS) | set(PAGE_ONLY)
    assert set(pages) - declared == set(), "add the page's API twin to PAGE_TWINS"
    assert declared - set(pages) == set()
    assert set(PAGE_TWINS) & set(PAGE_ONLY) == set()


@pytest.mark.parametrize("name", sorted(PAGE_ONLY))
def test_a_page_without_a_twin_refuses_a_user_without_its_permission(name, world):
    route, perm = _marked_pages()[name]
    nobody = _signed_in(factories.UserFactory(username="nobody"))
    page = getattr(nobody, PAGE_ONLY[name][0])(_fill(_page_url(route), world))
    assert page.status_code == 403, (name, page.status_code)
    assert perm in page.content.decode()


def _page_url(route: str) -> str:
    url = "/" + route
    for arg, value in PAGE_ARGS.items():
        url = url.replace(f"<int:{arg}>", value).replace(f"<str:{arg}>", value)
    return url


@pytest.mark.parametrize("name", sorted(PAGE_TWINS))
def test_the_page_and_its_api_twin_refuse_the_same_user_for_the_same_permission(name, world):
    route, perm = _marked_pages()[name]
    page_method, api_method, api_path, body = PAGE_TWINS[name]
    nobody = _signed_in(factories.UserFactory(username="nobody"))
    url = "/" + route
    for arg, value in PAGE_ARGS.items():
        url = url.replace(f"<int:{arg}>", value).replace(f"<str:{arg}>", value)
    page = getattr(nobody, page_method)(_fill(url, world))
    assert page.status_code == 403, (name, page.status_code)
    assert perm in page.content.decode()
    kwargs = {"content_type": "application/json"} if body is not None else {}
    api = getattr(nobody, api_method)(f"/api/v1/{_fill(api_path, world)}", data=body, **kwargs)
    assert api.status_code == 403, (name, api.content)
    assert api.json()["error"]["fields"] == {"permission": perm}


@pytest.fixture
def partly_paid(catalog):
    card = PaymentSystem.objects.create(code="card2", name="Cards 2", provider="test")
    system = Actor.system()
    order = create_order(data=OrderInput(lines=[LineInput(sku="COURSE-1")]), actor=system)
    first, _ = payments.issue_invoices(
        order=order, amounts=[Decimal("100.00"), Decimal("200.00")], actor=system
    )
    payments.charge_invoice(
        invoice=first, payment_system=card, card_token="tok_success", actor=system
    )
    return order


# (page path, page form, API path, API body, the permission both name)
OBJECT_TWINS = [
    ("/orders/{n}/complete/", {}, "orders/{n}/complete", {}, "payments.confirm_partial_payments"),
    ("/orders/{n}/confirm/", {}, "orders/{n}/confirm", None, "payments.confirm_partial_payments"),
    ("/orders/{n}/decline/", {}, "orders/{n}/decline", {}, "payments.confirm_partial_payments"),
    # Cancelling an order that holds captured money, as declining it.
    ("/orders/{n}/cancel/", {}, "orders/{n}/cancel", {}, "payments.confirm_partial_payments"),
    (
        "/customers/{c}/sales-plan/",
        {"offer": 201, "manager": "{other}"},
        "customers/{c}/sales-plan",
        {"offer_number": 201, "manager_id": "{other}"},
        "orders.manage_sales_attribution",
    ),
]


@pytest.mark.parametrize(("page_path", "form", "api_path", "body", "perm"), OBJECT_TWINS)
def test_rules_on_the_order_refuse_a_sales_manager_alike_on_pages_and_api(
    roles, customer, partly_paid, page_path, form, api_path, body, perm
):
    mia = factories.UserFactory(username="mia")
    mia.groups.add(roles["Sales manager"])
    other = factories.UserFactory(username="max")
    other.groups.add(roles["Sales manager"])
    world = {"{n}": str(partly_paid.number), "{c}": str(customer.pk)}
    client = _signed_in(mia)
    form = {k: other.pk if v == "{other}" else v for k, v in form.items()}
    page = client.post(_fill(page_path, world), form)
    assert page.status_code == 403
    assert perm in page.content.decode()
    body = {k: other.pk if v == "{other}" else v for k, v in (body or {}).items()}
    api = client.post(
        f"/api/v1/{_fill(api_path, world)}", data=body, content_type="application/json"
    )
    assert api.status_code == 403, api.content
    assert api.json()["error"]["fields"] == {"permission": perm}


# -- Every page × every role ----------------------------------------------------------------
# Pages without a permission of their own: who may open them.
OPEN_PAGES = {
    "login": "anyone",
    "logout": "anyone",
    "healthz": "anyone",
    "home": "signed in",  # sales performance with reports.view_sales_report, else All Orders
    "password_change": "signed in",
    "password_change_done": "signed in",
    "live": "signed in",  # and orders.view_order, checked inside the stream view
    "search": "signed in",  # each kind searched only with its view permission (test_search)
    # Each kind with any one permission of the pages that pick it (test_suggestions).
    "suggestions": "signed in",
    # A person's saved views of a list: theirs to keep; only the owner changes one.
    "save_view": "signed in",
    "change_view": "signed in",
    "settings": "signed in",  # shows the settings the role may open
    "password_set": "anyone",  # the invited person, with the link's token
    "password_set_done": "anyone",
}
# Arguments of the open pages' URLs: positional (a list) or by name (a dict).
OPEN_PAGE_ARGS: dict[str, list | dict] = {
    "change_view": [1, "rename"],
    "suggestions": ["offers"],
    "password_set": {"uidb64": "MQ", "token": "spent-token"},
}
ROLES = ["anonymous", "Viewer", "Sales manager", "Admin", "Owner"]


def test_every_page_is_declared():
    names = {p.name for p in get_resolver("ordersight.web.urls").url_patterns}
    declared = set(PAGE_TWINS) | set(PAGE_ONLY) | set(OPEN_PAGES)
    assert names - declared == set(), "declare the new page in PAGE_TWINS, PAGE_ONLY or OPEN_PAGES"


def _role_client(role: str, roles) -> tuple[Client, object]:
    client = Client()
    if role == "anonymous":
        return client, None
    client = factories.signed_in(roles, role, role.replace(" ", "_").lower())
    return client, client.user


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted([*PAGE_TWINS, *PAGE_ONLY]))
def test_each_role_is_allowed_or_refused_each_page(roles, world, name, role):
    route, perm = _marked_pages()[name]
    page_method = PAGE_TWINS[name][0] if name in PAGE_TWINS else PAGE_ONLY[name][0]
    url = _page_url(route)
    client, user = _role_client(role, roles)
    response = getattr(client, page_method)(_fill(url, world))
    if user is None:
        assert response.status_code == 302 and "/login/" in response["Location"]
    elif user.has_perm(perm):
        assert response.status_code != 403, (name, role)
    else:
        assert response.status_code == 403, (name, role)
        assert perm in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(OPEN_PAGES))
def test_open_pages_ask_only_for_a_sign_in(roles, name, role):
    from django.urls import reverse

    given = OPEN_PAGE_ARGS.get(name, [])
    url = reverse(
        f"web:{name}", **({"kwargs": given} if isinstance(given, dict) else {"args": given})
    )
    client, user = _role_client(role, roles)
    response = client.get(url) if name != "logout" else client.post(url)
    if OPEN_PAGES[name] == "signed in" and user is None:
        assert response.status_code in (302, 401), (name, response.status_code)
    else:
        assert response.status_code not in (401, 403), (name, role, response.status_code)
