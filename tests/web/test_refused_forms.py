"""A form the server refuses shows again with what was typed in it, and says why in a toast."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _page_after(client, response) -> str:
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def test_a_refused_new_campaign_keeps_its_fields(admin_web):
    typed = {
        "name": "Autumn creators",
        "starts_on": "2026-09-01",
        "ends_on": "2026-08-01",  # before it starts: refused
        "commission_kind": "fixed",
        "fixed_amount": "4.50",
        "fixed_currency": "EUR",
    }
    page = _page_after(admin_web, admin_web.post("/campaigns/new/", typed))
    assert 'data-testid="toast-error"' in page and "Campaign not created" in page
    assert 'value="Autumn creators"' in page
    assert 'value="2026-08-01"' in page and 'value="4.50"' in page
    assert '<option value="fixed" selected>' in page
    assert 'id="new-campaign" open' in page
    # Shown once: the next visit starts from an empty form.
    assert 'value="Autumn creators"' not in admin_web.get("/campaigns/").content.decode()


def test_a_refused_new_creator_keeps_its_fields(admin_web):
    typed = {"name": "Anna", "handle": "not a handle!", "email": "anna@example.com"}
    page = _page_after(admin_web, admin_web.post("/creators/new/", typed))
    assert "Creator not added" in page
    assert 'value="not a handle!"' in page and 'value="anna@example.com"' in page


def test_a_refused_refund_keeps_the_amount_and_the_reason(admin_web, paid_order):
    invoice = paid_order.invoices.get()
    response = admin_web.post(
        f"/invoices/{invoice.number}/refund/",
        {"amount": "999.00", "reason": "wrong size", "confirmed": "yes"},
    )
    page = _page_after(admin_web, response)
    assert "Refund not made" in page
    assert 'value="999.00"' in page and 'value="wrong size"' in page


def test_a_refused_retry_setting_keeps_what_was_typed(admin_web):
    # The settings page answers in place (422) with each field's own error under it.
    response = admin_web.post("/orders/recurring/settings/", {"retry_intervals": "soon, later"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="toast-error"' in page and "Retry intervals not saved" in page
    assert 'name="retry_interval" value="soon"' in page
    assert 'name="retry_interval" value="later"' in page


def test_a_refusal_reads_as_one_sentence_with_the_reason_in_its_place(rf):
    """The page's sentence is translated whole; the service's reason and the field it names
    go where `{why}` stands, so another language may put them anywhere in it."""
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    from ordersight.core.errors import Invalid
    from ordersight.web.access import run_service

    request = rf.post("/")
    request.session = {}
    request._messages = FallbackStorage(request)

    def refuse() -> None:
        raise Invalid("Give 2 retry intervals.", fields={"retry_interval": "exactly 2"})

    assert run_service(request, refuse, failed="Recurring order 7 left as it was ({why}).") is None
    assert [str(m) for m in get_messages(request)] == [
        "Recurring order 7 left as it was (Give 2 retry intervals. (retry_interval: exactly 2))."
    ]
