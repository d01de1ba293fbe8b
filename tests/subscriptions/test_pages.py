"""The Recurring Orders tab, a row's child orders, actions by permission, the customer card."""

from __future__ import annotations

import csv
import io
import re

import pytest

from ordersight.subscriptions.models import RecurringEvent, RecurringStatus
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
    assert "Active" in cells and "25.00 EUR" in cells and "Ada Lovelace" in cells
    assert "2026-02-28 09:00" in cells  # next payment date
    assert '<td class="text-end">2</td>' in cells  # payments remaining
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


def test_retry_intervals_are_shown_and_changed_from_the_tab(admin_web, manager_web):
    page = _text(admin_web.get("/orders/recurring/"))
    assert "after 1d and then 3d" in page and 'name="retry_intervals"' in page
    admin_web.post("/orders/recurring/settings/", {"retry_intervals": "30m, 2h"})
    assert "after 30m and then 2h" in _text(admin_web.get("/orders/recurring/"))
    refused = admin_web.post(
        "/orders/recurring/settings/", {"retry_intervals": "soon"}, follow=True
    )
    assert "Retry intervals:" in _text(refused)
    assert "after 30m and then 2h" in _text(admin_web.get("/orders/recurring/"))
    # A sales manager sees the rule, not the form, and may not post it.
    assert 'name="retry_intervals"' not in _text(manager_web.get("/orders/recurring/"))
    assert (
        manager_web.post("/orders/recurring/settings/", {"retry_intervals": "1d, 1d"}).status_code
        == 403
    )
