"""The Recurring Orders tab, a row's child orders, actions by permission, the customer card."""

from __future__ import annotations

import csv
import io
import re

import pytest

from ordersight.subscriptions.models import RecurringEvent, RecurringOrder, RecurringStatus
from tests import factories

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def admin_web(roles):
    return factories.signed_in(roles, "Admin", "ada_admin")


@pytest.fixture
def manager_web(roles):
    return factories.signed_in(roles, "Sales manager", "sam")


def test_tab_lists_status_amount_remaining_and_next_date(admin_web, subscribe):
    recurring, _ = subscribe()
    page = _text(admin_web.get("/orders/recurring/"))
    row = re.search(
        rf'<tr class="recurring-row" data-recurring="{recurring.number}".*?</tr>', page, re.S
    )
    assert row, page
    cells = row.group(0)
    assert "Active" in cells and "€25.00" in cells and "Ada Lovelace" in cells
    assert "28 Feb 2026, 09:00 UTC" in cells  # next payment date, in the account's zone
    assert 'data-label="Payments remaining">2</td>' in cells
    assert 'data-testid="pause"' in cells and 'data-testid="complete"' in cells


def test_filters_and_export(admin_web, subscribe):
    first, _ = subscribe()
    second, _ = subscribe(total=None)
    admin_web.post(f"/orders/recurring/{first.number}/pause/")
    paused = _text(admin_web.get("/orders/recurring/?status=paused"))
    assert f'data-recurring="{first.number}"' in paused
    assert f'data-recurring="{second.number}"' not in paused
    export = admin_web.get("/orders/recurring/export.csv?status=paused")
    body = b"".join(export.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert [row[0] for row in rows] == ["number", str(first.number)]


def test_a_row_opens_its_child_orders_initial_first(admin_web, subscribe):
    from datetime import timedelta

    from ordersight.subscriptions.billing import billing_pass

    recurring, _ = subscribe()
    billing_pass(at=recurring.next_payment_at + timedelta(minutes=1))
    part = _text(admin_web.get(f"/orders/recurring/{recurring.number}/orders/"))
    numbers = re.findall(r'data-child="(\d+)"', part)
    assert len(numbers) == 2 and int(numbers[0]) == recurring.initial_order.number
    assert "initial" in part and "Acme Cards" in part


def test_actions_change_status_and_write_an_event_with_the_actor(admin_web, subscribe):
    recurring, _ = subscribe()
    response = admin_web.post(f"/orders/recurring/{recurring.number}/pause/")
    assert response.status_code == 302
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.PAUSED
    event = RecurringEvent.objects.filter(recurring_order=recurring).last()
    assert (event.kind, event.actor_label) == ("paused", "ada_admin")
    # Pausing it again is refused with a message, nothing changes.
    admin_web.post(f"/orders/recurring/{recurring.number}/pause/")
    assert RecurringEvent.objects.filter(recurring_order=recurring).count() == 3
    admin_web.post(f"/orders/recurring/{recurring.number}/activate/")
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.ACTIVE


def test_without_the_permission_no_buttons_and_a_403(manager_web, subscribe):
    recurring, _ = subscribe()
    page = _text(manager_web.get("/orders/recurring/"))
    assert f'data-recurring="{recurring.number}"' in page
    assert 'data-testid="pause"' not in page
    assert manager_web.post(f"/orders/recurring/{recurring.number}/pause/").status_code == 403
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.ACTIVE


def test_customer_card_lists_the_customers_recurring_orders(admin_web, subscribe, customer):
    recurring, _ = subscribe()
    card = _text(admin_web.get(f"/customers/{customer.pk}/"))
    assert 'data-testid="customer-recurring"' in card
    assert f">{recurring.number}</a>" in card and "Recurring orders (1)" in card


def test_retry_intervals_are_shown_on_the_tab_and_changed_on_their_settings_page(
    admin_web, manager_web
):
    page = _text(admin_web.get("/orders/recurring/"))
    assert "after 1d and then 3d" in page and 'data-testid="retry-settings-link"' in page
    settings = _text(admin_web.get("/settings/recurring-payments/"))
    assert 'name="retry_interval" value="1d"' in settings
    saved = admin_web.post(
        "/orders/recurring/settings/", {"retry_interval": ["30m", "2h"]}, follow=True
    )
    assert "tried again after 30 minutes and then 2 hours" in _text(saved)
    assert "after 30m and then 2h" in _text(admin_web.get("/orders/recurring/"))
    # A sales manager reads the rule, not the form, and may not post it.
    assert 'name="retry_interval"' not in _text(manager_web.get("/settings/recurring-payments/"))
    assert (
        manager_web.post(
            "/orders/recurring/settings/", {"retry_interval": ["1d", "1d"]}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("typed", "field", "says"),
    [
        (["soon", "2h"], "1", "a whole number of minutes, hours or days"),
        (["30m", "0d"], "2", "a whole number of minutes, hours or days"),
        (["30m", ""], "2", "a whole number of minutes, hours or days"),
    ],
)
def test_a_bad_retry_interval_is_named_and_what_was_typed_is_kept(admin_web, typed, field, says):
    refused = admin_web.post("/orders/recurring/settings/", {"retry_interval": typed})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert f'data-testid="error-retry-{field}"' in html and says in html
    for value in typed:
        assert f'name="retry_interval" value="{value}"' in html
    assert "after 1d and then 3d" in _text(admin_web.get("/orders/recurring/"))


def test_the_payment_method_is_replaced_and_a_failed_order_can_be_activated(admin_web, subscribe):
    recurring, _ = subscribe(token="tok_success")
    # As billing leaves one whose card was declined for good after the initial payment.
    RecurringOrder.objects.filter(pk=recurring.pk).update(
        status=RecurringStatus.FAILED, needs_new_payment_method=True, payment_token="tok_gone_line"
    )
    rows = _text(admin_web.get("/orders/recurring/"))
    assert f'href="/orders/recurring/{recurring.number}/payment-method/"' in rows
    page = _text(admin_web.get(f"/orders/recurring/{recurring.number}/payment-method/"))
    assert "ending <strong>…line</strong>" in page  # the stored token, never in full
    assert "tok_gone_line" not in page
    done = admin_web.post(
        f"/orders/recurring/{recurring.number}/payment-method/",
        {"payment_system": "cards", "payment_token": "tok_success_4242"},
        follow=True,
    )
    assert f"Recurring order {recurring.number} will be charged to the card ending …4242" in (
        _text(done)
    )
    assert "It can be activated again." in _text(done)
    recurring.refresh_from_db()
    assert recurring.payment_token == "tok_success_4242"
    assert not recurring.needs_new_payment_method
    assert RecurringEvent.objects.filter(
        recurring_order=recurring, kind="payment_method_replaced"
    ).exists()


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"payment_system": "cards", "payment_token": ""}, "payment_token"),
        ({"payment_system": "cards", "payment_token": "x" * 256}, "payment_token"),
        ({"payment_system": "bank", "payment_token": "tok_success"}, "payment_system"),
        ({"payment_token": "tok_success"}, "payment_system"),
    ],
)
def test_a_bad_payment_method_is_named_and_nothing_changes(admin_web, subscribe, form, field):
    from ordersight.payments.models import PaymentSystem

    PaymentSystem.objects.create(code="bank", name="Bank transfer", provider="manual")
    recurring, _ = subscribe()
    response = admin_web.post(f"/orders/recurring/{recurring.number}/payment-method/", form)
    assert response.status_code == 422
    assert f'data-testid="error-{field}"' in response.content.decode()
    recurring.refresh_from_db()
    assert recurring.payment_token == "tok_success"


def test_a_sales_manager_may_not_replace_a_payment_method(manager_web, subscribe):
    recurring, _ = subscribe()
    rows = _text(manager_web.get("/orders/recurring/"))
    assert 'data-testid="replace-card"' not in rows
    url = f"/orders/recurring/{recurring.number}/payment-method/"
    assert manager_web.get(url).status_code == 403
    refused = manager_web.post(url, {"payment_system": "cards", "payment_token": "tok_x"})
    assert refused.status_code == 403
    assert "subscriptions.manage_recurring_status" in refused.content.decode()
