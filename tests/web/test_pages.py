"""The staff pages through Django's test client: access, lists, detail, forms, exports."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from django.test import Client

from ordersight.orders.models import Order, OrderEvent
from ordersight.payments.models import Refund
from tests import factories


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(db):
    r = Client().get("/orders/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_sign_in_and_out(roles):
    user = factories.UserFactory(username="sam")
    user.groups.add(roles["Viewer"])
    client = Client()
    r = client.post("/login/", {"username": "sam", "password": "correct horse battery"})
    assert r.status_code == 302 and r["Location"] == "/"  # home: the sales dashboard
    assert "Orders and Sales" in _text(client.get("/orders/"))
    assert client.post("/logout/").status_code == 302
    assert client.get("/orders/").status_code == 302


def test_wrong_password_is_refused(roles):
    factories.UserFactory(username="sam")
    r = Client().post("/login/", {"username": "sam", "password": "nope"})
    assert r.status_code == 200 and "didn't match" in r.content.decode()


def test_password_change(admin_web):
    r = admin_web.post(
        "/password/",
        {
            "old_password": "correct horse battery",
            "new_password1": "a much longer secret 42",
            "new_password2": "a much longer secret 42",
        },
    )
    assert r.status_code == 302
    admin_web.user.refresh_from_db()
    assert admin_web.user.check_password("a much longer secret 42")


def _staff_layout(response) -> bool:
    names = [t.name for t in response.templates]
    return "web/base.html" in names and not any(n.startswith("admin/") for n in names)


def test_password_change_pages_are_in_the_staff_layout_with_a_way_back(admin_web):
    form = admin_web.get("/password/")
    assert _staff_layout(form)
    html = _text(form)
    assert 'data-testid="user-menu"' in html  # the app's own header and navigation
    assert '<a class="small" href="/" data-testid="back">' in html
    assert ">Cancel</a>" in html
    refused = admin_web.post("/password/", {"old_password": "wrong"})
    assert _staff_layout(refused) and "is-invalid" in refused.content.decode()
    done = admin_web.post(
        "/password/",
        {
            "old_password": "correct horse battery",
            "new_password1": "a much longer secret 42",
            "new_password2": "a much longer secret 42",
        },
        follow=True,
    )
    assert done.redirect_chain == [("/password/done/", 302)]
    assert _staff_layout(done)
    assert 'data-testid="password-changed"' in done.content.decode()
    assert 'href="/" data-testid="back"' in done.content.decode()


def test_sign_in_is_in_the_staff_layout(db):
    assert _staff_layout(Client().get("/login/"))


def test_navigation_follows_the_role(viewer_web, admin_web):
    viewer_page = _text(viewer_web.get("/orders/"))
    assert "Customers" in viewer_page and ">Admin<" not in viewer_page
    admin_web.user.is_staff = True
    admin_web.user.save()
    assert ">Admin<" in _text(admin_web.get("/orders/"))


def test_viewer_sees_no_action_buttons(viewer_web, paid_order):
    listing = _text(viewer_web.get("/orders/"))
    for testid in ("new-order", "check", "add-user", "confirm", "decline"):
        assert f'data-testid="{testid}"' not in listing
    detail = _text(viewer_web.get(f"/orders/{paid_order.number}/"))
    assert 'data-testid="transitions"' not in detail and "Refund…" not in detail
    assert 'data-testid="metadata-text"' not in detail  # the metadata as words instead
    assert 'data-testid="metadata-facts"' in detail


@pytest.mark.parametrize(
    ("path", "data", "permission"),
    [
        ("/orders/{n}/cancel/", {}, "orders.change_order"),
        (
            "/orders/{n}/attribution/",
            {"manager": "system", "mode": "confirm"},
            "orders.manage_sales_attribution",
        ),
        ("/orders/{n}/metadata/", {"metadata": "{}"}, "orders.change_order"),
        ("/invoices/{i}/refund/", {"amount": "1.00", "confirmed": "yes"}, "payments.add_refund"),
        ("/orders/new/", {"line_sku": "TEE-M"}, "orders.add_order"),
    ],
)
def test_forged_posts_by_a_viewer_get_403_naming_the_permission(
    viewer_web, paid_order, path, data, permission
):
    invoice = paid_order.invoices.get()
    before = (Order.objects.count(), OrderEvent.objects.count(), Refund.objects.count())
    r = viewer_web.post(path.format(n=paid_order.number, i=invoice.number), data)
    assert r.status_code == 403
    assert permission in r.content.decode()
    assert (Order.objects.count(), OrderEvent.objects.count(), Refund.objects.count()) == before


def test_all_orders_lists_newest_first_with_the_columns(admin_web, paid_order, catalog):
    older = factories.OrderFactory(created_at="2026-01-01T00:00:00Z")
    page = _text(admin_web.get("/orders/"))
    assert page.index(f">{paid_order.number}<") < page.index(f">{older.number}<")
    for column in (
        "Customer",
        "Offer",
        "Category",
        "Offer no.",
        "Price",
        "Unit price",
        "Qty",
        "Sales manager",
    ):
        assert column in page
    assert "Tee — M" in page and "€39.80" in page and "€19.90" in page


def test_filters_live_in_the_query_string(admin_web, paid_order, catalog):
    other = factories.OrderFactory(status="cancelled")
    page = _text(admin_web.get("/orders/?status=cancelled"))
    assert f'data-number="{other.number}"' in page
    assert f'data-number="{paid_order.number}"' not in page
    assert 'value="cancelled" selected' in page


def test_date_presets_filter_by_creation(admin_web, db):
    recent = factories.OrderFactory()
    old = factories.OrderFactory(created_at="2020-01-01T00:00:00Z")
    page = _text(admin_web.get("/orders/?preset=7d"))
    assert f'data-number="{recent.number}"' in page and f'data-number="{old.number}"' not in page
    custom = _text(
        admin_web.get("/orders/?preset=custom&created_after=2019-12-31&created_before=2020-01-02")
    )
    assert (
        f'data-number="{old.number}"' in custom and f'data-number="{recent.number}"' not in custom
    )


def _date_control(page: str) -> tuple[str, bool, dict[str, str]]:
    """The Date choice shown, whether the custom fields are visible, and their values."""
    chosen = re.search(
        r'<option value="([^"]*)" selected>[^<]*</option>', page[page.index('id="f-preset"') :]
    )
    custom = re.findall(r'<div class="col-md-2 ?(d-none)?" data-custom-range>', page)
    values = dict(re.findall(r'name="(created_after|created_before)" value="([^"]*)"', page))
    return chosen.group(1), not any(custom), values


def test_a_drill_down_range_shows_as_the_custom_range_that_applies(admin_web, db):
    march = factories.OrderFactory(created_at="2026-03-10T10:00:00Z")
    april = factories.OrderFactory(created_at="2026-04-10T10:00:00Z")
    # The link behind a dashboard figure gives the range without a preset.
    page = _text(admin_web.get("/orders/?created_after=2026-03-01&created_before=2026-04-01"))
    assert f'data-number="{march.number}"' in page and f'data-number="{april.number}"' not in page
    assert _date_control(page) == (
        "custom",
        True,
        {"created_after": "2026-03-01", "created_before": "2026-04-01"},
    )


def test_any_time_chosen_over_a_custom_range_lists_every_date(admin_web, db):
    march = factories.OrderFactory(created_at="2026-03-10T10:00:00Z")
    april = factories.OrderFactory(created_at="2026-04-10T10:00:00Z")
    # The hidden custom fields still send their values when "Any time" is chosen.
    page = _text(
        admin_web.get("/orders/?preset=&created_after=2026-03-01&created_before=2026-04-01")
    )
    assert f'data-number="{march.number}"' in page and f'data-number="{april.number}"' in page
    assert _date_control(page)[:2] == ("", False)
    exported = admin_web.get("/orders/export.csv?preset=&created_after=2026-03-01")
    assert str(april.number) in b"".join(exported.streaming_content).decode()


def test_the_export_link_keeps_the_pages_sort(admin_web, db):
    small = factories.OrderFactory(total="5.00", created_at="2026-03-10T10:00:00Z")
    large = factories.OrderFactory(total="90.00", created_at="2026-03-11T10:00:00Z")
    page = _text(admin_web.get("/orders/?preset=&sort=total"))
    link = re.search(r'href="(/orders/export\.csv\?[^"]*)" data-testid="export"', page)
    assert link is not None and "sort=total" in link.group(1)
    body = b"".join(admin_web.get(unescape(link.group(1))).streaming_content).decode()
    assert body.index(str(small.number)) < body.index(str(large.number))


def test_a_time_in_the_range_stays_visible_in_the_date_control(admin_web, db):
    page = _text(admin_web.get("/orders/?created_after=2026-03-01T12:00:00%2B00:00"))
    assert (
        'type="text" id="f-created_after" name="created_after" value="2026-03-01T12:00:00+00:00"'
        in page
    )


def test_an_unknown_date_preset_is_named_not_a_crash(admin_web, db):
    page = _text(admin_web.get("/orders/?preset=fortnight"))
    assert 'data-testid="filter-errors"' in page and "preset" in page
    exported = admin_web.get("/orders/export.csv?preset=fortnight")
    assert exported.status_code == 422 and b"preset" in exported.content


def test_bad_filter_values_are_shown_not_crashed(admin_web, db):
    page = _text(admin_web.get("/orders/?status=lost&metadata=nokey"))
    assert 'data-testid="filter-errors"' in page and "status" in page


@pytest.mark.parametrize(
    "sort",
    [
        "number",
        "-created_at",
        "customer_name",
        "-customer_name",
        "status",
        "item",
        "category_number",
        "offer_number",
        "subtotal",
        "-unit_price",
        "quantity",
        "sales_manager",
    ],
)
def test_every_column_sorts_and_pages(admin_web, catalog, sort):
    orders = [factories.OrderFactory() for _ in range(3)]
    seen = []
    url = f"/orders/?sort={sort}"
    from ordersight.web import lists

    old_size, lists.PAGE_SIZE = lists.PAGE_SIZE, 2
    try:
        while url:
            response = admin_web.get(url)
            page = response.context["page"]
            seen += [o.number for o in page.items]
            url = f"/orders/?sort={sort}&cursor={page.next_cursor}" if page.next_cursor else None
    finally:
        lists.PAGE_SIZE = old_size
    assert sorted(seen) == sorted(o.number for o in orders)


def test_price_sort_orders_by_value(admin_web, db):
    from decimal import Decimal

    cheap = factories.OrderFactory(subtotal=Decimal("5.00"), total=Decimal("5.00"))
    dear = factories.OrderFactory(subtotal=Decimal("500.00"), total=Decimal("500.00"))
    items = admin_web.get("/orders/?sort=-subtotal").context["page"].items
    assert [o.number for o in items] == [dear.number, cheap.number]


def test_row_expands_to_its_invoices(admin_web, paid_order):
    invoice = paid_order.invoices.get()
    part = _text(admin_web.get(f"/orders/{paid_order.number}/invoices/"))
    for text in (
        str(invoice.number),
        "Succeeded",
        "39.80",
        "Acme Payments EU",
        "100.00%",
        "Funds credited",
        "Payment %",
        "Buyer comment",
    ):
        assert text in part


def test_invoice_lists_say_void_and_failed_in_words_never_the_code(admin_web, catalog, card):
    from ordersight.core.actors import Actor
    from ordersight.orders.pricing import LineInput, OrderInput
    from ordersight.orders.services import create_order, transition_order
    from ordersight.payments import services as payments

    system = Actor.system()
    declined = create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=system)
    (voided,) = payments.issue_invoices(order=declined, actor=system)
    transition_order(order=declined, to="declined", actor=system)
    unpaid = create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=system)
    (refused,) = payments.issue_invoices(order=unpaid, actor=system)
    payments.charge_invoice(
        invoice=refused, payment_system=card, card_token="tok_insufficient_funds", actor=system
    )
    refused.refresh_from_db()
    pages = {
        "payments": _text(admin_web.get("/payments/")),
        "order": _text(admin_web.get(f"/orders/{declined.number}/")),
        "row": _text(admin_web.get(f"/orders/{declined.number}/invoices/")),
    }
    for name, html in pages.items():
        assert f'data-testid="void-{voided.number}">Void<' in html, name
        assert "The order was declined." in html, name
        assert "order_declined" not in html, name
    payments_page = pages["payments"]
    assert refused.failure_message and refused.failure_message in payments_page
    assert f">{refused.failure_code}<" not in payments_page


def test_list_queries_do_not_grow_with_rows(
    admin_web, catalog, card, django_assert_max_num_queries
):
    from ordersight.core.actors import Actor
    from ordersight.orders.pricing import LineInput, OrderInput
    from ordersight.orders.services import create_order
    from ordersight.payments import services as payments

    def make(n):
        for _ in range(n):
            order = create_order(
                data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=Actor.system()
            )
            payments.issue_invoices(order=order, actor=Actor.system())

    def count(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert admin_web.get(url).status_code == 200
        return len(ctx.captured_queries)

    make(3)
    small = (count("/orders/"), count("/payments/"), count("/orders/?sort=item"))
    make(30)
    large = (count("/orders/"), count("/payments/"), count("/orders/?sort=item"))
    assert small == large


def test_order_detail_shows_items_money_metadata_and_activity(admin_web, paid_order):
    page = _text(admin_web.get(f"/orders/{paid_order.number}/"))
    assert "TEE-M" in page and "€39.80" in page and "Ada Lovelace" in page
    assert 'data-testid="detail-invoices"' in page and "Refund…" in page
    assert re.search(r"Invoice \d+ paid €39\.80", page) and "Order created" in page
    assert 'id="metadata-text"' in page


def test_metadata_edit_is_validated_and_saved(admin_web, paid_order):
    url = f"/orders/{paid_order.number}/metadata/"
    bad = admin_web.post(url, {"metadata": '{"a": 1,'})
    assert bad.status_code == 422 and "Not valid JSON" in bad.content.decode()
    not_object = admin_web.post(url, {"metadata": "[1, 2]"})
    assert not_object.status_code == 422 and "JSON object" in not_object.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.metadata == {}
    ok = admin_web.post(url, {"metadata": '{"channel": "phone"}'})
    assert ok.status_code == 302
    paid_order.refresh_from_db()
    assert paid_order.metadata == {"channel": "phone"}


def test_transitions_from_the_detail_page(admin_web, catalog):
    order = factories.OrderFactory()
    admin_web.post(f"/orders/{order.number}/fulfil/")
    admin_web.post(f"/orders/{order.number}/cancel/")
    order.refresh_from_db()
    assert (order.status, order.fulfillment_status) == ("cancelled", "fulfilled")
    r = admin_web.post(f"/orders/{order.number}/complete/", follow=True)
    assert "cannot become completed" in r.content.decode()


def test_refund_needs_a_confirmation_step(admin_web, paid_order):
    invoice = paid_order.invoices.get()
    url = f"/invoices/{invoice.number}/refund/"
    step = admin_web.post(url, {"amount": "10.00", "reason": "damaged"})
    assert step.status_code == 200 and "Confirm refund" in step.content.decode()
    assert Refund.objects.count() == 0
    done = admin_web.post(url, {"amount": "10.00", "reason": "damaged", "confirmed": "yes"})
    assert done.status_code == 302
    assert Refund.objects.get().amount == 10
    too_much = admin_web.post(url, {"amount": "40.00"}, follow=True)
    assert "Refund not made" in too_much.content.decode() and Refund.objects.count() == 1


def _new_order_post(**lines):
    data = {
        "customer_id": "",
        "currency": "",
        "order_type": "standard",
        "status": "open",
        "notes": "",
        "metadata": "",
    }
    for key in ("sku", "name", "unit_price", "quantity", "discount"):
        data[f"line_{key}"] = lines.get(key, ["", "", ""])
    return data


def test_new_order_with_errors_saves_nothing_and_names_the_fields(admin_web, catalog):
    data = _new_order_post(
        sku=["", "NOPE", ""],
        name=["", "", "Gift wrap"],
        unit_price=["", "", "abc"],
        quantity=["1", "1", "1"],
        discount=["", "", ""],
    )
    r = admin_web.post("/orders/new/", data)
    assert r.status_code == 422
    assert r.context["errors"] == {"lines[2].unit_price": "not a number"}
    data["line_unit_price"] = ["", "", "3.00"]
    r = admin_web.post("/orders/new/", data)
    assert r.status_code == 422
    assert "lines[1].sku" in r.context["errors"]  # the row the person typed it in
    assert Order.objects.count() == 0
    data["line_sku"] = ["", "TEE-M", ""]
    r = admin_web.post("/orders/new/", data)
    assert r.status_code == 302
    order = Order.objects.get()
    assert (order.source, str(order.total)) == ("manual", "22.9000")


def test_new_order_bad_metadata(admin_web, catalog):
    data = _new_order_post(sku=["TEE-M", "", ""], quantity=["1", "1", "1"])
    data["metadata"] = "{nope"
    r = admin_web.post("/orders/new/", data)
    assert r.status_code == 422 and "metadata" in r.context["errors"]


def test_check_and_add_user_from_the_list(admin_web, manager_web, paid_order):
    r = admin_web.post(
        f"/orders/{paid_order.number}/attribution/",
        {"mode": "assign", "manager": manager_web.user.pk, "next": "/orders/"},
    )
    assert r["Location"] == "/orders/"
    assert 'class="sales-manager unconfirmed"' in _text(admin_web.get("/orders/"))
    admin_web.post(
        f"/orders/{paid_order.number}/attribution/",
        {"mode": "confirm", "manager": manager_web.user.pk},
    )
    paid_order.refresh_from_db()
    assert paid_order.sales_confirmed_by == admin_web.user
    assert 'class="sales-manager confirmed"' in _text(admin_web.get("/orders/"))


def test_customer_card_and_sales_plan(manager_web, paid_order, catalog):
    customer = paid_order.customer
    page = _text(manager_web.get(f"/customers/{customer.pk}/"))
    assert "ada@example.com" in page and str(paid_order.number) in page
    r = manager_web.post(
        f"/customers/{customer.pk}/sales-plan/", {"offer": "101", "note": "phone sale"}
    )
    assert r.status_code == 302
    paid_order.refresh_from_db()
    assert paid_order.sales_manager == manager_web.user  # proposed from the sales plan
    assert "phone sale" in _text(manager_web.get(f"/customers/{customer.pk}/"))


def test_sales_manager_cannot_name_someone_else_in_a_sales_plan(
    manager_web, roles, customer, catalog
):
    other = factories.UserFactory(username="leo")
    r = manager_web.post(
        f"/customers/{customer.pk}/sales-plan/", {"offer": "101", "manager": other.pk}
    )
    assert r.status_code == 403


def test_payments_tab_filters(admin_web, paid_order, catalog):
    factories.OrderFactory()
    page = _text(admin_web.get("/payments/?status=succeeded&payment_system=card"))
    assert 'data-invoice="' in page and "Acme Payments EU" in page
    assert 'data-invoice="' not in _text(admin_web.get("/payments/?status=failed"))


def test_export_is_exactly_the_filtered_view(admin_web, paid_order, catalog):
    factories.OrderFactory(status="cancelled")
    r = admin_web.get("/orders/export.csv?status=completed&preset=30d")
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert [int(row["number"]) for row in rows] == [paid_order.number]
    payments = admin_web.get("/payments/export.csv?status=succeeded")
    assert len(b"".join(payments.streaming_content).decode().splitlines()) == 2


def test_forbidden_page_for_a_page_the_role_lacks(db, roles):
    user = factories.UserFactory(username="nobody")
    client = Client()
    client.force_login(user)
    r = client.get("/orders/")
    assert r.status_code == 403
    assert "Can view order" in r.content.decode()


@pytest.mark.parametrize("amount", ["", "ten", "NaN", "1e999999"])
def test_a_refund_amount_that_is_not_a_number_is_named_and_nothing_is_refunded(
    admin_web, paid_order, amount
):
    invoice = paid_order.invoices.get()
    page = admin_web.post(
        f"/invoices/{invoice.number}/refund/", {"amount": amount, "confirmed": "yes"}, follow=True
    )
    assert "Refund not made" in page.content.decode()
    assert Refund.objects.count() == 0
