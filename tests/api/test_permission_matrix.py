"""The permission matrix: every API operation, the permission it needs, and proof of refusal.

A new endpoint fails `test_every_api_operation_has_a_row` until it gets its row here, so no
endpoint reaches production without a declared permission. Each row is then called by a
signed-in user with no role, who must get 403 naming exactly that permission.
"""

from __future__ import annotations

import pytest
from django.test import Client

from ordersight.api import api as ninja_api
from ordersight.payments.models import PaymentSystem
from ordersight.sync.models import StoreConnection
from tests import factories

ORDER = {"lines": [{"sku": "X"}]}
# (method, path) → (permission, a body that passes the schema)
MATRIX: dict[tuple[str, str], tuple[str | None, dict | None]] = {
    ("POST", "/api/v1/orders"): ("orders.add_order", ORDER),
    ("GET", "/api/v1/orders"): ("orders.view_order", None),
    ("GET", "/api/v1/orders/export.csv"): ("orders.view_order", None),
    ("POST", "/api/v1/orders/bulk"): ("orders.add_order", {"orders": []}),
    ("GET", "/api/v1/orders/{number}"): ("orders.view_order", None),
    ("PATCH", "/api/v1/orders/{number}"): ("orders.change_order", {}),
    ("POST", "/api/v1/orders/{number}/complete"): ("orders.change_order", {}),
    ("POST", "/api/v1/orders/{number}/decline"): ("orders.change_order", {}),
    ("POST", "/api/v1/orders/{number}/confirm"): ("orders.change_order", None),
    ("POST", "/api/v1/orders/{number}/cancel"): ("orders.change_order", {}),
    ("POST", "/api/v1/orders/{number}/fulfil"): ("orders.change_order", None),
    ("GET", "/api/v1/orders/{number}/events"): ("orders.view_order", None),
    ("POST", "/api/v1/orders/{number}/sales-attribution"): (
        "orders.manage_sales_attribution",
        {"manager_id": None},
    ),
    ("POST", "/api/v1/orders/{number}/sales-attribution/confirm"): (
        "orders.manage_sales_attribution",
        {"manager_id": None},
    ),
    ("POST", "/api/v1/orders/sales-attribution/confirm"): (
        "orders.manage_sales_attribution",
        {"numbers": [1]},
    ),
    ("POST", "/api/v1/customers"): ("customers.add_customer", {"name": "A"}),
    ("GET", "/api/v1/customers"): ("customers.view_customer", None),
    ("GET", "/api/v1/customers/export.csv"): ("customers.view_customer", None),
    ("GET", "/api/v1/customers/{customer_id}"): ("customers.view_customer", None),
    ("PATCH", "/api/v1/customers/{customer_id}"): ("customers.change_customer", {}),
    ("GET", "/api/v1/customers/{customer_id}/sales-plan"): ("orders.view_salesplanentry", None),
    ("POST", "/api/v1/customers/{customer_id}/sales-plan"): (
        "orders.add_salesplanentry",
        {"offer_number": 1},
    ),
    ("POST", "/api/v1/categories"): ("catalog.add_category", {"name": "A"}),
    ("GET", "/api/v1/categories"): ("catalog.view_category", None),
    ("GET", "/api/v1/categories/{number}"): ("catalog.view_category", None),
    ("PATCH", "/api/v1/categories/{number}"): ("catalog.change_category", {"name": "A"}),
    ("POST", "/api/v1/offers"): (
        "catalog.add_offer",
        {"name": "A", "category_number": 1, "currency": "EUR", "unit_price": "1"},
    ),
    ("GET", "/api/v1/offers"): ("catalog.view_offer", None),
    ("GET", "/api/v1/offers/{number}"): ("catalog.view_offer", None),
    ("PATCH", "/api/v1/offers/{number}"): ("catalog.change_offer", {}),
    ("POST", "/api/v1/offers/{number}/variants"): ("catalog.change_offer", {"sku": "A"}),
    ("GET", "/api/v1/variants"): ("catalog.view_variant", None),
    ("PATCH", "/api/v1/variants/{sku}"): ("catalog.change_variant", {}),
    ("GET", "/api/v1/payment-systems"): ("payments.view_paymentsystem", None),
    ("POST", "/api/v1/payment-systems"): (
        "payments.add_paymentsystem",
        {"code": "a", "name": "A", "provider": "test"},
    ),
    ("GET", "/api/v1/payment-systems/{code}"): ("payments.view_paymentsystem", None),
    ("PATCH", "/api/v1/payment-systems/{code}"): ("payments.change_paymentsystem", {}),
    ("PUT", "/api/v1/payment-systems/{code}/fee-rules/{currency}"): (
        "payments.change_paymentsystem",
        {},
    ),
    ("DELETE", "/api/v1/payment-systems/{code}/fee-rules/{currency}"): (
        "payments.change_paymentsystem",
        None,
    ),
    ("GET", "/api/v1/payments"): ("payments.view_invoice", None),
    ("GET", "/api/v1/payments/export.csv"): ("payments.view_invoice", None),
    ("GET", "/api/v1/invoices/{number}"): ("payments.view_invoice", None),
    ("POST", "/api/v1/orders/{number}/invoices"): ("payments.add_invoice", {}),
    ("POST", "/api/v1/orders/{number}/payments/manual"): (
        "payments.add_invoice",
        {"payment_system": "bank"},
    ),
    ("POST", "/api/v1/invoices/{number}/charge"): (
        "payments.change_invoice",
        {"payment_system": "card", "card_token": "tok_success"},
    ),
    ("POST", "/api/v1/invoices/{number}/retry"): ("payments.add_invoice", None),
    ("POST", "/api/v1/invoices/{number}/refunds"): ("payments.add_refund", {"amount": "1"}),
    ("GET", "/api/v1/users"): ("orders.view_order", None),
    ("POST", "/api/v1/offers/bulk"): ("catalog.add_offer", {"offers": []}),
    ("POST", "/api/v1/customers/bulk"): ("customers.add_customer", {"customers": []}),
    ("GET", "/api/v1/order-sources"): ("orders.view_order", None),
    ("POST", "/api/v1/order-sources"): ("orders.add_orderchoice", {"value": "a", "label": "A"}),
    ("GET", "/api/v1/order-types"): ("orders.view_order", None),
    ("POST", "/api/v1/order-types"): ("orders.add_orderchoice", {"value": "a", "label": "A"}),
    ("GET", "/api/v1/reports/sales"): ("reports.view_sales_report", None),
    ("GET", "/api/v1/reports/sales.csv"): ("reports.view_sales_report", None),
    ("GET", "/api/v1/reports/performance"): ("reports.view_sales_report", None),
    ("POST", "/api/v1/recurring-orders"): (
        "subscriptions.add_recurringorder",
        {
            "customer_id": 1,
            "offer": 1,
            "amount": "1",
            "interval_count": 1,
            "interval_unit": "month",
            "payment_system": "card",
            "payment_token": "tok_success",
        },
    ),
    ("GET", "/api/v1/recurring-orders"): ("subscriptions.view_recurringorder", None),
    ("GET", "/api/v1/recurring-orders/export.csv"): ("subscriptions.view_recurringorder", None),
    ("GET", "/api/v1/recurring-orders/{number}"): ("subscriptions.view_recurringorder", None),
    ("POST", "/api/v1/recurring-orders/{number}/pause"): (
        "subscriptions.manage_recurring_status",
        None,
    ),
    ("POST", "/api/v1/recurring-orders/{number}/activate"): (
        "subscriptions.manage_recurring_status",
        None,
    ),
    ("POST", "/api/v1/recurring-orders/{number}/complete"): (
        "subscriptions.manage_recurring_status",
        None,
    ),
    ("PUT", "/api/v1/recurring-orders/{number}/payment-method"): (
        "subscriptions.manage_recurring_status",
        {"payment_token": "tok_success"},
    ),
    ("GET", "/api/v1/recurring-settings"): (
        "subscriptions.view_recurringpaymentsettings",
        None,
    ),
    ("PUT", "/api/v1/recurring-settings"): (
        "subscriptions.change_recurringpaymentsettings",
        {"retry_intervals": ["1d", "3d"]},
    ),
    ("GET", "/api/v1/creators"): ("campaigns.view_creator", None),
    ("GET", "/api/v1/creators/export.csv"): ("campaigns.view_creator", None),
    ("GET", "/api/v1/campaigns/export.csv"): ("campaigns.view_campaign", None),
    ("GET", "/api/v1/segments/export.csv"): ("promotions.view_segment", None),
    ("GET", "/api/v1/offers/export.csv"): ("catalog.view_offer", None),
    ("GET", "/api/v1/variants/export.csv"): ("catalog.view_variant", None),
    ("POST", "/api/v1/creators"): ("campaigns.add_creator", {"name": "A", "handle": "a"}),
    ("GET", "/api/v1/creators/{handle}"): ("campaigns.view_creator", None),
    ("PATCH", "/api/v1/creators/{handle}"): ("campaigns.change_creator", {}),
    ("GET", "/api/v1/campaigns"): ("campaigns.view_campaign", None),
    ("POST", "/api/v1/campaigns"): (
        "campaigns.add_campaign",
        {
            "name": "A",
            "starts_on": "2026-01-01",
            "commission_kind": "percent",
            "commission_percent": "10",
        },
    ),
    ("GET", "/api/v1/campaigns/{campaign_id}"): ("campaigns.view_campaign", None),
    ("PATCH", "/api/v1/campaigns/{campaign_id}"): ("campaigns.change_campaign", {}),
    ("POST", "/api/v1/campaigns/{campaign_id}/members"): (
        "campaigns.change_campaign",
        {"creator": "a"},
    ),
    ("DELETE", "/api/v1/campaigns/{campaign_id}/members/{handle}"): (
        "campaigns.change_campaign",
        None,
    ),
    ("GET", "/api/v1/campaigns/{campaign_id}/conversions"): ("campaigns.view_conversion", None),
    ("GET", "/api/v1/campaigns/{campaign_id}/conversions/export.csv"): (
        "campaigns.view_conversion",
        None,
    ),
    ("GET", "/api/v1/conversions"): ("campaigns.view_conversion", None),
    ("GET", "/api/v1/conversions/{conversion_id}"): ("campaigns.view_conversion", None),
    ("POST", "/api/v1/conversions/{conversion_id}/reject"): (
        "campaigns.approve_conversion",
        {},
    ),
    ("POST", "/api/v1/conversions/{conversion_id}/undo"): ("campaigns.approve_conversion", None),
    ("GET", "/api/v1/sales-generated"): ("campaigns.view_conversion", None),
    ("GET", "/api/v1/sales-generated/export.csv"): ("campaigns.view_conversion", None),
    ("GET", "/api/v1/segments"): ("promotions.view_segment", None),
    ("POST", "/api/v1/segments"): (
        "promotions.add_segment",
        {"name": "A", "rules": {"field": "orders", "op": "gte", "value": 1}},
    ),
    ("POST", "/api/v1/segments/count"): ("promotions.view_segment", {"rules": {}}),
    ("GET", "/api/v1/segments/{segment_id}"): ("promotions.view_segment", None),
    ("PATCH", "/api/v1/segments/{segment_id}"): ("promotions.change_segment", {}),
    ("GET", "/api/v1/segments/{segment_id}/members"): ("promotions.view_segment", None),
    ("GET", "/api/v1/segments/{segment_id}/members.csv"): ("promotions.view_segment", None),
    ("GET", "/api/v1/discount-codes"): ("promotions.view_discountcode", None),
    ("GET", "/api/v1/discount-codes/export.csv"): ("promotions.view_discountcode", None),
    ("POST", "/api/v1/discount-codes"): (
        "promotions.add_discountcode",
        {"code": "A", "kind": "percent"},
    ),
    ("POST", "/api/v1/discount-codes/bulk"): (
        "promotions.add_discountcode",
        {"kind": "percent", "count": 1},
    ),
    ("GET", "/api/v1/discount-codes/{code}"): ("promotions.view_discountcode", None),
    ("PATCH", "/api/v1/discount-codes/{code}"): ("promotions.change_discountcode", {}),
    ("POST", "/api/v1/discount-codes/{code}/validate"): (
        "promotions.view_discountcode",
        {"order": ORDER},
    ),
    ("GET", "/api/v1/redemptions"): ("promotions.view_redemption", None),
    ("GET", "/api/v1/redemptions/export.csv"): ("promotions.view_redemption", None),
    ("POST", "/api/v1/orders/{number}/discount-code"): ("promotions.add_redemption", {"code": "A"}),
    ("GET", "/api/v1/sync/connections"): ("sync.view_storeconnection", None),
    ("POST", "/api/v1/sync/connections"): (
        "sync.add_storeconnection",
        {"name": "a", "shop_url": "https://a.example"},
    ),
    ("GET", "/api/v1/sync/connections/{name}"): ("sync.view_storeconnection", None),
    ("POST", "/api/v1/sync/connections/{name}/feeds/{kind}/refresh"): ("sync.add_syncrun", {}),
    ("GET", "/api/v1/sync/runs/{run_id}"): ("sync.view_syncrun", None),
    ("GET", "/api/v1/sync/connections/{name}/lookup/product"): ("sync.view_storeconnection", None),
    ("GET", "/api/v1/sync/connections/{name}/lookup/customer"): (
        "sync.view_storeconnection",
        None,
    ),
    # Providers and stores authenticate by the signature of the body, not by a role.
    ("POST", "/api/v1/payments/webhooks/{code}"): (None, {}),
    ("POST", "/api/v1/sync/{connection}/webhooks/orders"): (None, {}),
}
PATH_VALUES = {
    "{number}": "1",
    "{customer_id}": "1",
    "{sku}": "X",
    "{code}": "card",
    "{currency}": "EUR",
    "{handle}": "a",
    "{campaign_id}": "1",
    "{conversion_id}": "1",
    "{segment_id}": "1",
    "{connection}": "main",
    "{name}": "main",
    "{kind}": "customers",
    "{run_id}": "1",
}


def _operations() -> set[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


def _url(path: str) -> str:
    for placeholder, value in PATH_VALUES.items():
        path = path.replace(placeholder, value)
    return path


def test_every_api_operation_has_a_row():
    operations = _operations()
    assert operations - set(MATRIX) == set(), "add the new endpoints to MATRIX"
    assert set(MATRIX) - operations == set(), "MATRIX names endpoints that no longer exist"


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX), ids=lambda v: str(v))
def test_a_user_without_the_permission_is_refused_naming_it(db, method, path):
    perm, body = MATRIX[(method, path)]
    if perm is None:
        PaymentSystem.objects.create(
            code="card", name="Cards", provider="test", webhook_secret="whsec_0123456789abcdef"
        )
        StoreConnection.objects.create(
            name="main", platform="shopify", shop_url="https://main.example", webhook_secret_env="X"
        )
    client = Client()
    client.force_login(factories.UserFactory())
    kwargs = {"content_type": "application/json"} if body is not None else {}
    data = body if body is not None else None
    response = getattr(client, method.lower())(_url(path), data=data, **kwargs)
    if perm is None:
        assert response.status_code == 401, response.content  # not signed by the provider
        return
    assert response.status_code == 403, response.content
    assert response.json()["error"]["fields"] == {"permission": perm}


def _declared_permissions() -> dict[tuple[str, str], set[str | None]]:
    """What each operation's `auth` checks before the request is parsed."""
    declared: dict[tuple[str, str], set[str | None]] = {}
    for prefix, router in ninja_api._routers:
        for route, path_view in router.path_operations.items():
            path = "/api" + (prefix + route).replace("{int:", "{")
            for operation in path_view.operations:
                perms = {getattr(auth, "perm", None) for auth in operation.auth_callbacks or []}
                for method in operation.methods:
                    declared[(method, path)] = perms or {None}
    return declared


def test_every_operation_declares_its_permission_in_its_auth():
    # The route's `auth` is what runs before django-ninja reads the body or the query, so a
    # permission declared there is checked first, for every operation.
    declared = _declared_permissions()
    assert {op: perms for op, perms in declared.items() if op in MATRIX} == {
        op: {perm} for op, (perm, _) in MATRIX.items()
    }


# Bodies no operation accepts: not JSON at all, and JSON of the wrong shape.
BAD_BODIES = {"not json": "{", "wrong shape": '[{"unexpected": true}]'}


@pytest.mark.parametrize("bad", sorted(BAD_BODIES))
@pytest.mark.parametrize(("method", "path"), sorted(MATRIX), ids=lambda v: str(v))
def test_permission_is_checked_before_the_body_or_query_is_read(db, method, path, bad):
    perm, _ = MATRIX[(method, path)]
    if perm is None:
        return  # signed webhooks: the signature is checked over the raw body
    client = Client()
    client.force_login(factories.UserFactory())
    if method == "GET":
        # A query the route refuses (not a number, unknown sort, broken cursor).
        query = {"limit": "many", "sort": "?", "cursor": "%%"} if bad == "not json" else {}
        query |= {"from": "yesterday", "to": "[]", "ids": "x"}
        response = client.get(_url(path), data=query)
    else:
        response = getattr(client, method.lower())(
            _url(path), data=BAD_BODIES[bad], content_type="application/json"
        )
    assert response.status_code == 403, response.content
    assert response.json()["error"]["fields"] == {"permission": perm}


def test_the_permissions_in_the_matrix_exist(db):
    from django.contrib.auth.models import Permission

    names = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }
    assert {perm for perm, _ in MATRIX.values() if perm} <= names


# -- Every operation × every kind of caller -------------------------------------------------
# Expected allow or deny is derived from the row's permission and what the caller holds;
# an allowed call may still be a 404/409/422 (the ids and bodies are placeholders), but
# never a 401 or 403.

PRINCIPALS = [
    "anonymous",
    "Viewer",
    "Sales manager",
    "Admin",
    "Owner",
    "read key",
    "write key",
    "storefront key",
]
STOREFRONT_PERMISSIONS = "orders.add_order,orders.view_order,catalog.view_variant"
# POSTs that only read (a body too rich for a query string): a read key may call them.
READING_POSTS = {
    ("POST", "/api/v1/segments/count"),
    ("POST", "/api/v1/discount-codes/{code}/validate"),
}


def _caller(principal: str, roles) -> tuple[Client, dict[str, str], object]:
    """A client, the headers it sends, and the object whose has_perm decides for it."""
    from ordersight.accounts.services import create_api_key

    client = Client()
    if principal == "anonymous":
        return client, {}, None
    if principal.endswith("key"):
        scopes = "read" if principal == "read key" else "read,write"
        permissions = STOREFRONT_PERMISSIONS if principal == "storefront key" else ""
        key, token = create_api_key(name=principal, scopes=scopes, permissions=permissions)
        return client, {"Authorization": f"Bearer {token}"}, key
    client = factories.signed_in(roles, principal, principal.replace(" ", "_").lower())
    return client, {}, client.user


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("method", "path"), sorted(MATRIX), ids=lambda v: str(v))
def test_each_caller_is_allowed_or_refused_as_the_matrix_says(roles, method, path, principal):
    perm, body = MATRIX[(method, path)]
    if perm is None:
        return  # the provider webhook: signed by the provider, checked above
    client, headers, holder = _caller(principal, roles)
    data = body if body is not None else None
    kwargs = {"content_type": "application/json"} if body is not None else {}
    response = getattr(client, method.lower())(_url(path), data=data, headers=headers, **kwargs)
    if holder is None:
        assert response.status_code == 401, response.content
        return
    writes = method != "GET" and (method, path) not in READING_POSTS
    scope_ok = not (principal == "read key" and writes)
    allowed = scope_ok and holder.has_perm(perm)
    if allowed:
        assert response.status_code not in (401, 403), (principal, response.content)
    else:
        assert response.status_code == 403, (principal, response.content)


# -- Moves that depend on the order's money -------------------------------------------------
# Beyond the route's permission, completing an order not paid in full, or declining or
# cancelling one that holds captured money, needs the permission to confirm partial
# payments (orders/transitions.py). Each caller is allowed or refused as it holds both.
MONEY_MOVES = ["complete", "decline", "cancel"]


@pytest.fixture
def partly_paid_order(db, catalog):
    from decimal import Decimal

    from ordersight.core.actors import Actor
    from ordersight.orders.pricing import LineInput, OrderInput
    from ordersight.orders.services import create_order
    from ordersight.payments import services as payments

    card = PaymentSystem.objects.create(code="card", name="Cards", provider="test")
    system = Actor.system()
    order = create_order(data=OrderInput(lines=[LineInput(sku="COURSE-1")]), actor=system)
    first, _ = payments.issue_invoices(
        order=order, amounts=[Decimal("100.00"), Decimal("200.00")], actor=system
    )
    payments.charge_invoice(
        invoice=first, payment_system=card, card_token="tok_success", actor=system
    )
    return order


@pytest.mark.parametrize("principal", [p for p in PRINCIPALS if p != "anonymous"])
@pytest.mark.parametrize("move", MONEY_MOVES)
def test_moves_on_an_order_holding_money_need_the_money_permission(
    roles, partly_paid_order, move, principal
):
    client, headers, holder = _caller(principal, roles)
    path = f"/api/v1/orders/{partly_paid_order.number}/{move}"
    response = client.post(path, data={}, headers=headers, content_type="application/json")
    if principal == "read key":
        assert response.status_code == 403, (principal, response.content)  # its scope
    elif not holder.has_perm("orders.change_order"):
        assert response.status_code == 403, (principal, response.content)
        assert response.json()["error"]["fields"] == {"permission": "orders.change_order"}
    elif holder.has_perm("payments.confirm_partial_payments"):
        assert response.status_code == 200, (principal, response.content)
    else:
        assert response.status_code == 403, (principal, response.content)
        assert response.json()["error"]["fields"] == {
            "permission": "payments.confirm_partial_payments"
        }
        partly_paid_order.refresh_from_db()
        assert partly_paid_order.status == "open"
