"""Orders a gateway charged in full, in a batch, move along the same transition table as one
order whose payment completes it: what the table forbids is refused, nothing is written."""

from __future__ import annotations

import pytest
from django.db import transaction

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict
from ordersight.orders.models import Order, OrderStatus, PaymentStatus
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import (
    PAID_IN_FULL,
    complete_paid_orders,
    create_order,
    transition_order,
)

SYSTEM = Actor.system()


def _order(**kwargs) -> Order:
    return create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")], **kwargs), actor=SYSTEM)


def test_open_orders_become_paid_and_completed(catalog):
    orders = [_order(), _order(status=OrderStatus.DRAFT)]
    moves = complete_paid_orders(orders=orders, actor=SYSTEM)
    assert moves == [
        {"from": "open", "to": "completed", "reason": PAID_IN_FULL},
        {"from": "draft", "to": "completed", "reason": PAID_IN_FULL},
    ]
    for order in orders:
        order.refresh_from_db()
        assert (order.status, order.payment_status) == ("completed", PaymentStatus.PAID)


def test_a_move_the_table_forbids_is_refused_and_nothing_is_written(catalog):
    open_order, cancelled = _order(), _order()
    cancelled = transition_order(order=cancelled, to=OrderStatus.CANCELLED, actor=SYSTEM)
    with pytest.raises(Conflict), transaction.atomic():
        complete_paid_orders(orders=[open_order, cancelled], actor=SYSTEM)
    assert list(Order.objects.order_by("pk").values_list("status", "payment_status")) == [
        ("open", PaymentStatus.UNPAID),
        ("cancelled", PaymentStatus.UNPAID),
    ]


def test_new_orders_are_moved_before_their_row_is_written(catalog):
    order = Order(status=OrderStatus.OPEN, currency="EUR")
    (move,) = complete_paid_orders(orders=[order], actor=SYSTEM, saved=False)
    assert move["to"] == "completed"
    assert (order.status, order.payment_status) == ("completed", PaymentStatus.PAID)
    assert not Order.objects.exists()


def test_an_order_moved_since_it_was_read_fails_the_batch(catalog):
    """The caller read the order open; a cancel came first: the batch completes nothing."""
    stale, other = _order(), _order()
    transition_order(order=Order.objects.get(pk=stale.pk), to=OrderStatus.CANCELLED, actor=SYSTEM)
    assert stale.status == "open"  # as its caller still holds it
    with pytest.raises(Conflict), transaction.atomic():
        complete_paid_orders(orders=[stale, other], actor=SYSTEM)
    assert list(Order.objects.order_by("pk").values_list("status", flat=True)) == [
        "cancelled",
        "open",
    ]
