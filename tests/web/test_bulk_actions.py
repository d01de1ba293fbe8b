"""Bulk actions on staff lists: the ticked rows or every row the filters match, each through
the single action's service (one event per changed order), with a result naming what was
refused and why, and each action's permission checked."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from ordersight.core.actors import Actor
from ordersight.orders.models import Order, OrderEvent, OrderEventKind
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services as payments
from ordersight.promotions import services as promotions
from ordersight.promotions.models import DiscountCode
from ordersight.web import bulk
from tests import factories

SYSTEM = Actor.system()
AT = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def partly_paid(catalog, card):
    """Three open orders with one of two invoices paid: Confirm makes them sales."""
    made = []
    for _ in range(3):
        order = create_order(data=OrderInput(lines=[LineInput(sku="COURSE-1")]), actor=SYSTEM)
        first, _ = payments.issue_invoices(
            order=order, amounts=[Decimal("100.00"), Decimal("200.00")], actor=SYSTEM
        )
        payments.charge_invoice(
            invoice=first, payment_system=card, card_token="tok_success", actor=SYSTEM
        )
        made.append(Order.objects.get(pk=order.pk))
    return made


def _post(client, path: str = "/orders/bulk/", **data):
    return client.post(path, {"next": "/orders/", **data})


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _events(kind: str) -> int:
    return OrderEvent.objects.filter(kind=kind).count()


def test_confirm_ticked_orders_reports_the_refused_one_and_why(admin_web, partly_paid):
    declined = factories.OrderFactory(status="declined")
    ids = [o.pk for o in partly_paid] + [declined.pk]
    before = _events(OrderEventKind.STATUS_CHANGED)
    response = _post(admin_web, action="confirm", ids=ids)
    assert response.status_code == 302 and response.url == "/orders/"
    (message,) = _messages(response)
    assert message.startswith("3 orders confirmed; 1 refused: Order ")
    assert f"Order {declined.number} is declined" in message
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in partly_paid])} == {
        "completed"
    }
    assert Order.objects.get(pk=declined.pk).status == "declined"
    # One event per order changed, none for the refused one.
    assert _events(OrderEventKind.STATUS_CHANGED) == before + 3
    assert not OrderEvent.objects.filter(order=declined).exists()


def test_cancel_every_matching_order_reaches_past_the_page(admin_web):
    matching = [factories.OrderFactory(created_at=AT + timedelta(minutes=i)) for i in range(120)]
    other = factories.OrderFactory(status="completed")
    response = _post(
        admin_web, action="cancel", scope="matching", query="status=open&cursor=x", reason="dup"
    )
    assert _messages(response) == ["120 orders cancelled."]
    assert set(
        Order.objects.filter(pk__in=[o.pk for o in matching]).values_list("status", flat=True)
    ) == {"cancelled"}
    assert Order.objects.get(pk=other.pk).status == "completed"
    events = OrderEvent.objects.filter(kind=OrderEventKind.STATUS_CHANGED)
    assert events.count() == 120
    assert {e.payload["reason"] for e in events} == {"dup"}


def test_all_matching_beyond_the_limit_is_refused_and_changes_nothing(admin_web, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_LIMIT", 10)
    for _ in range(11):
        factories.OrderFactory()
    response = _post(admin_web, action="fulfil", scope="matching", query="")
    (message,) = _messages(response)
    assert "More than 10 rows match" in message and "scope:" in message
    assert not Order.objects.filter(fulfillment_status="fulfilled").exists()


def test_a_viewer_cannot_act_in_bulk(viewer_web):
    order = factories.OrderFactory()
    for action in ("confirm", "decline", "cancel", "fulfil", "assign"):
        response = _post(viewer_web, action=action, ids=[order.pk], manager="system")
        assert response.status_code == 403, action
    assert Order.objects.get(pk=order.pk).status == "open"
    assert not OrderEvent.objects.filter(order=order).exists()


def test_a_viewer_may_export_the_ticked_orders(viewer_web):
    chosen, _, also = (factories.OrderFactory() for _ in range(3))
    response = _post(viewer_web, action="export", ids=[chosen.pk, also.pk])
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(int(r["number"]) for r in rows) == sorted([chosen.number, also.number])


def test_a_rule_on_each_order_refuses_a_sales_manager_row_by_row(manager_web, partly_paid):
    # The route lets a sales manager change orders; confirming a part-paid one needs more.
    response = _post(manager_web, action="confirm", ids=[o.pk for o in partly_paid])
    (message,) = _messages(response)
    assert message.startswith("0 orders confirmed; 3 refused:")
    assert "payments.confirm_partial_payments" in message
    assert not OrderEvent.objects.filter(kind=OrderEventKind.STATUS_CHANGED).exists()


def test_a_sales_manager_may_not_add_a_user_in_bulk(manager_web):
    order = factories.OrderFactory()
    assert _post(manager_web, action="assign", ids=[order.pk], manager="system").status_code == 403


def test_add_user_names_the_manager_on_every_ticked_order(admin_web, roles):
    mia = factories.UserFactory(username="mia2")
    mia.groups.add(roles["Sales manager"])
    orders = [factories.OrderFactory() for _ in range(2)]
    response = _post(admin_web, action="assign", ids=[o.pk for o in orders], manager=str(mia.pk))
    assert _messages(response) == ["2 orders attributed."]
    assert {o.sales_manager_id for o in Order.objects.filter(pk__in=[o.pk for o in orders])} == {
        mia.pk
    }
    assert _events(OrderEventKind.SALES_ATTRIBUTION_CHANGED) == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"action": "fulfil"}, "ids: tick at least one row"),
        ({"action": "fulfil", "ids": ["abc"]}, "ids: whole numbers"),
        ({"action": "fulfil", "ids": [str(2**64)]}, "ids: whole numbers"),
        ({"action": "fulfil", "ids": [str(i) for i in range(1, 502)]}, "ids: at most 500"),
        ({"action": "assign", "ids": ["1"]}, "manager: choose a sales manager"),
        ({"action": "assign", "ids": ["1"], "manager": "999999"}, "manager: not an active"),
        ({"action": "fulfil", "scope": "matching", "query": "status=nope"}, "status"),
        ({"action": "fulfil", "scope": "matching", "query": "status=declined"}, "scope: no rows"),
    ],
)
def test_bad_bulk_input_is_refused_naming_the_field(admin_web, data, field):
    factories.OrderFactory()
    (message,) = _messages(_post(admin_web, **data))
    assert field in message
    assert not OrderEvent.objects.exists()


def test_an_unknown_bulk_action_is_refused(admin_web):
    (message,) = _messages(_post(admin_web, action="explode", ids=["1"]))
    assert "Unknown bulk action" in message


def test_discount_codes_are_deactivated_and_activated_in_bulk(admin_web, viewer_web):
    codes = [
        promotions.create_discount_code(code=f"C{i}", kind="percent", percent="5", actor=SYSTEM)
        for i in range(3)
    ]
    path = "/promotions/code-actions/"
    assert _post(viewer_web, path, action="deactivate", ids=[codes[0].pk]).status_code == 403
    response = _post(admin_web, path, action="deactivate", scope="matching", query="q=C")
    assert _messages(response) == ["3 codes deactivated."]
    assert not DiscountCode.objects.filter(is_active=True).exists()
    admin_web.get("/promotions/codes/")  # shows the message above
    response = _post(admin_web, path, action="activate", ids=[codes[1].pk])
    assert _messages(response) == ["1 code activated."]
    assert list(DiscountCode.objects.filter(is_active=True)) == [codes[1]]
