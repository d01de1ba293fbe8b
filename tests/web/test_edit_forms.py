"""Edit forms never lose a value they did not show: each one, opened on a fully populated
object and sent back exactly as rendered, leaves the object unchanged.

Every form a page posts is declared below, either as an edit form (and round-tripped) or as
an action that edits no stored value, so a new edit form cannot arrive without its test.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from ordersight.core.actors import Actor
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.promotions import services as promotions
from ordersight.promotions.models import DiscountCode, Segment
from ordersight.subscriptions import services as subscriptions
from ordersight.subscriptions.models import RecurringPaymentSettings
from tests import factories

SYSTEM = Actor.system()
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "ordersight" / "web" / "templates"

# Pages that take a form which changes a stored object's values: round-tripped below.
EDIT_FORMS = {
    "edit_discount_code",
    "edit_segment",
    "order_metadata",
    "recurring_settings",
    "sync_connection_edit",
    "edit_payment_system",
}
# Pages whose forms create something new or make a move, never re-save shown values.
ACTIONS = {
    "login": "signs in",
    "logout": "signs out",
    "new_order": "creates an order",
    "new_discount_code": "creates a code",
    "new_segment": "creates a segment",
    "new_campaign": "creates a campaign",
    "new_creator": "creates a creator",
    "campaign_members": "adds or removes one member",
    "conversion_approval": "rejects or undoes an approval",
    "customer_sales_plan": "adds a sales plan entry",
    "order_action": "moves an order (complete, confirm, decline, cancel, fulfil)",
    "order_attribution": "names or confirms who made the sale, as chosen",
    "_attribution_forms": "the same, once for All Orders: a row's button sets the order's address",
    "order_redeem": "applies a code",
    "invoice_refund": "makes a refund",
    "recurring_action": "pauses, activates or completes a recurring order",
    "sync_refresh": "starts a sync run",
    "password_change": "sets a new password",
    "_bulk_bar": "runs one bulk action on the ticked rows or every row matching",
    "save_view": "saves a new view of a list",
    "change_view": "renames a saved view (its name is all it shows), shares or deletes it",
    "password_set": "sets an invited person's first password",
    "sync_new_connection": "creates a store connection",
    "sync_connection_test": "asks the store once",
    "new_payment_system": "creates a payment system",
    "set_fee_rule": "adds or replaces one currency's fee rule",
    "remove_fee_rule": "removes one currency's fee rule",
    "order_issue_invoices": "issues invoices",
    "order_manual_payment": "records a payment",
    "order_mark_paid": "records payments of all that is due",
    "recurring_payment_method": "sets a new card token, never shown back",
    "invite_user": "creates a user",
    "user_action": "changes one user's role or state, or makes a link",
    "new_api_key": "creates a key",
    "revoke_api_key": "revokes a key",
}
FORM_TAG = re.compile(r"<form\b[^>]*>")
# `row_url` is `url` for the links of a list's rows (templatetags/web.py).
FORM_TARGET = re.compile(r"action=\"\{% (?:row_)?url 'web:(\w+)'")


def test_every_form_a_page_posts_is_declared():
    targets = set()
    for template in TEMPLATES.rglob("*.html"):
        for tag in FORM_TAG.findall(template.read_text()):
            if 'method="post"' in tag:
                target = FORM_TARGET.search(tag)
                targets.add(target.group(1) if target else template.stem)
    renamed = {"password_change_form": "password_change", "refund_confirm": "invoice_refund"}
    targets = {renamed.get(t, t) for t in targets}
    undeclared = targets - EDIT_FORMS - set(ACTIONS)
    assert undeclared == set(), "declare each new form in EDIT_FORMS (and round-trip it) or ACTIONS"


class _Forms(HTMLParser):
    """The fields of every form on a page, as a browser would submit them unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), []))
            return
        if not self.forms:
            return
        fields = self.forms[-1][1]
        if tag == "input" and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self.forms[-1][1].extend((self._select, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the one newline that may follow <textarea>.
            self.forms[-1][1].append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def _submit_as_rendered(client, page: str, action: str) -> Any:
    html = client.get(page).content.decode()
    parser = _Forms()
    parser.feed(html)
    forms = [fields for url, fields in parser.forms if url == action]
    assert len(forms) == 1, f"one form posting to {action} on {page}"
    data: dict[str, list[str]] = {}
    for name, value in forms[0]:
        data.setdefault(name, []).append(value)
    response = client.post(action, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


@pytest.fixture
def admin(roles):
    return factories.signed_in(roles, "Admin", "ada")


def _code_state(code: str) -> dict[str, Any]:
    found = DiscountCode.objects.get(code=code)
    return {k: v for k, v in model_to_dict(found).items() if k != "id"} | {
        "updated": found.updated_at
    }


FULL_RULES = {
    "all": [
        {"type": "order_total", "currency": "EUR", "min": "30", "max": "500"},
        {"type": "metadata", "key": "channel", "op": "eq", "value": "app"},
    ]
}


@pytest.mark.parametrize(
    "kind_settings",
    [
        {"kind": "fixed", "amounts": {"EUR": "5.00", "USD": "6.00", "GBP": "4.00"}},
        {"kind": "percent", "percent": "12.5"},
        {"kind": "free_item"},
    ],
    ids=["fixed in three currencies", "percent", "free item"],
)
def test_a_discount_code_saved_as_shown_is_unchanged(admin, catalog, kind_settings):
    promotions.create_discount_code(
        code="APP5",
        target="lines",
        target_skus=["TEE-M", "TEE-L"],
        target_categories=[10, 20],
        usage_limit=50,
        per_customer_limit=2,
        starts_at=datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC),
        ends_at=datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC),
        is_active=False,
        rules=FULL_RULES,
        actor=SYSTEM,
        **kind_settings,
    )
    before = _code_state("APP5")
    page = reverse("web:discount_code", args=["APP5"])
    _submit_as_rendered(admin, page, reverse("web:edit_discount_code", args=["APP5"]))
    after = _code_state("APP5")
    assert after.pop("updated") >= before.pop("updated")
    assert after == before


def test_the_discount_code_page_shows_and_edits_every_currency(admin, catalog):
    promotions.create_discount_code(
        code="APP5",
        kind="fixed",
        amounts={"EUR": "5.00", "USD": "6.00", "GBP": "4.00"},
        actor=SYSTEM,
    )
    html = admin.get("/promotions/codes/APP5/").content.decode()
    for currency, amount in (("EUR", "5.00"), ("USD", "6.00"), ("GBP", "4.00")):
        assert f'value="{amount}"' in html and f'value="{currency}"' in html
    # The steps: change "Uses in all" and save; then change one amount, drop one
    # currency and add another.
    form = {"kind": "fixed", "target": "order", "is_active": "on", "usage_limit": "10"}
    admin.post(
        "/promotions/codes/APP5/edit/",
        {**form, "amount": ["5.00", "6.00", "4.00", ""], "currency": ["EUR", "USD", "GBP", ""]},
    )
    code = DiscountCode.objects.get(code="APP5")
    assert code.usage_limit == 10
    assert code.amounts == {"EUR": "5.00", "USD": "6.00", "GBP": "4.00"}
    admin.post(
        "/promotions/codes/APP5/edit/",
        {**form, "amount": ["5.50", "", "4.00", "700"], "currency": ["EUR", "USD", "GBP", "jpy"]},
    )
    code.refresh_from_db()
    assert code.amounts == {"EUR": "5.50", "GBP": "4.00", "JPY": "700"}


@pytest.mark.parametrize(
    ("amounts", "currencies", "field"),
    [
        (["5.00", "3.00"], ["EUR", ""], "amounts[1]"),
        (["5.00", "3.00"], ["EUR", "eur"], "amounts.EUR"),
        (["five"], ["EUR"], "amounts.EUR"),
    ],
)
def test_a_bad_amount_row_is_refused_naming_it_and_nothing_changes(
    admin, catalog, amounts, currencies, field
):
    promotions.create_discount_code(
        code="APP5", kind="fixed", amounts={"EUR": "5.00", "USD": "6.00"}, actor=SYSTEM
    )
    response = admin.post(
        "/promotions/codes/APP5/edit/",
        {"kind": "fixed", "target": "order", "amount": amounts, "currency": currencies},
        follow=True,
    )
    assert field in response.content.decode()
    assert DiscountCode.objects.get(code="APP5").amounts == {"EUR": "5.00", "USD": "6.00"}


def test_a_limit_that_is_not_a_number_is_refused_not_dropped(admin, catalog):
    promotions.create_discount_code(
        code="APP5", kind="percent", percent="10", usage_limit=5, actor=SYSTEM
    )
    response = admin.post(
        "/promotions/codes/APP5/edit/",
        {"kind": "percent", "percent": "10", "target": "order", "usage_limit": "ten"},
        follow=True,
    )
    assert "usage_limit" in response.content.decode()
    assert DiscountCode.objects.get(code="APP5").usage_limit == 5


def test_a_segment_saved_as_shown_is_unchanged(admin):
    rules = {
        "all": [
            {"field": "spent", "currency": "EUR", "op": "gte", "value": "100.50"},
            {
                "any": [
                    {"field": "tag", "op": "eq", "value": "vip"},
                    {"field": "orders", "op": "gt", "value": 2},
                ]
            },
        ]
    }
    segment = promotions.create_segment(name="Big spenders ✓", rules=rules, actor=SYSTEM)
    _submit_as_rendered(
        admin,
        reverse("web:segment", args=[segment.pk]),
        reverse("web:edit_segment", args=[segment.pk]),
    )
    segment = Segment.objects.get(pk=segment.pk)
    assert (segment.name, segment.rules) == ("Big spenders ✓", rules)


def test_order_metadata_saved_as_shown_is_unchanged(admin, catalog):
    metadata = {
        "channel": "app",
        "nested": {"list": [1, 2.5, None, True, "x"], "deep": {"é": "ünïcode"}},
        "empty": {},
        "text": "line one\nline two  ",
        "big": 12345678901234567,
    }
    order = create_order(
        data=OrderInput(lines=[LineInput(sku="TEE-M")], metadata=metadata), actor=SYSTEM
    )
    events = order.events.count()
    _submit_as_rendered(
        admin,
        reverse("web:order", args=[order.number]),
        reverse("web:order_metadata", args=[order.number]),
    )
    order = Order.objects.get(pk=order.pk)
    assert order.metadata == metadata
    assert order.events.count() == events  # nothing changed, so nothing is recorded


def test_recurring_settings_saved_as_shown_are_unchanged(admin):
    subscriptions.set_retry_intervals(intervals=["90m", "3d"], actor=SYSTEM)
    _submit_as_rendered(admin, reverse("web:retry_settings"), reverse("web:recurring_settings"))
    assert RecurringPaymentSettings.objects.get().retry_intervals == [5400, 259200]


def test_a_store_connection_saved_as_shown_is_unchanged(admin, settings):
    from ordersight.sync.models import StoreConnection
    from ordersight.sync.services import create_connection, update_connection

    connection = create_connection(
        actor=SYSTEM,
        name="main shop",
        platform="shopify",
        shop_url="https://main.example.com/base",
        currency="GBP",
        token_env=f"{settings.SYNC_SECRET_ENV_PREFIX}TOKEN_MAIN",
        webhook_secret_env=f"{settings.SYNC_SECRET_ENV_PREFIX}HOOK_MAIN",
        customer_tag="wholesale",
        metafield_namespace="acme",
        refresh_minutes=45,
    )
    update_connection(connection=connection, changes={"is_active": False}, actor=SYSTEM)
    before = model_to_dict(StoreConnection.objects.get(pk=connection.pk))
    _submit_as_rendered(
        admin,
        reverse("web:sync_connection_edit", args=["main shop"]),
        reverse("web:sync_connection_edit", args=["main shop"]),
    )
    assert model_to_dict(StoreConnection.objects.get(pk=connection.pk)) == before


def test_a_payment_system_saved_as_shown_keeps_its_secret_and_flags(admin):
    from ordersight.payments.models import PaymentSystem
    from ordersight.payments.services import create_payment_system

    create_payment_system(
        code="acme",
        name="Acme Payments",
        provider="test",
        supports_one_click=True,
        webhook_secret="s" * 32,
        is_active=False,
    )
    before = model_to_dict(PaymentSystem.objects.get(code="acme"))
    _submit_as_rendered(
        admin,
        reverse("web:payment_system", args=["acme"]),
        reverse("web:edit_payment_system", args=["acme"]),
    )
    assert model_to_dict(PaymentSystem.objects.get(code="acme")) == before


def test_the_fixtures_fill_every_field_the_edit_forms_show(catalog):
    # A round trip proves little on empty fields: the code above sets every field it has.
    promotions.create_discount_code(
        code="APP5",
        kind="fixed",
        amounts={"EUR": "5.00"},
        target="lines",
        target_skus=["TEE-M"],
        target_categories=[10],
        usage_limit=50,
        per_customer_limit=2,
        starts_at=datetime(2026, 3, 1, tzinfo=UTC),
        ends_at=datetime(2026, 4, 1, tzinfo=UTC),
        is_active=False,
        rules=FULL_RULES,
        actor=SYSTEM,
    )
    state = _code_state("APP5")
    empty = [f for f in promotions.CODE_FIELDS if state[f] in (None, "", [], {})]
    assert empty == ["percent"]  # a fixed code has amounts instead; the percent case has one
