"""The declared order lifecycle: which events mark which moment, and how handlers run."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from ordersight import lifecycle as declared
from ordersight.core.actors import Actor
from ordersight.orders import lifecycle
from ordersight.orders.lifecycle import Moment, OrderChange
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order, transition_order

SYSTEM = Actor.system()


@pytest.fixture
def heard():
    """Install a recording handler beside the declared ones, for one test."""
    changes: list[OrderChange] = []
    handlers = {m: (*declared.HANDLERS.get(m, ()), changes.append) for m in Moment}
    lifecycle.install(handlers)
    yield changes
    lifecycle.install(declared.HANDLERS)


def test_the_declared_list_names_every_moment():
    assert set(declared.HANDLERS) == set(Moment)
    assert lifecycle.installed_handlers() == {m: declared.HANDLERS[m] for m in Moment}


@pytest.mark.parametrize(
    ("kind", "payload", "moment"),
    [
        ("created", {}, Moment.CREATED),
        ("imported", {}, Moment.CREATED),
        ("lines_replaced", {}, Moment.LINES_REPLACED),
        ("refunded", {}, Moment.REFUNDED),
        ("status_changed", {"to": "completed"}, Moment.COMPLETED),
        ("status_changed", {"to": "declined"}, Moment.DECLINED),
        ("status_changed", {"to": "cancelled"}, Moment.CANCELLED),
        ("status_changed", {"to": "open"}, None),
        ("updated", {}, Moment.DETAILS_CHANGED),
        ("sales_attribution_changed", {}, Moment.SALES_ATTRIBUTED),
        ("sales_attribution_confirmed", {}, Moment.SALES_ATTRIBUTED),
        ("payment_succeeded", {}, Moment.PAYMENT_SETTLED),
        ("payment_failed", {}, Moment.PAYMENT_SETTLED),
        ("payment_status_changed", {}, None),
        ("fulfilled", {}, None),
    ],
)
def test_events_mark_moments(kind, payload, moment):
    assert lifecycle.moment_of(kind, payload) == moment


def test_handlers_hear_each_moment_with_the_order_and_actor(heard, catalog):
    order = create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=SYSTEM)
    transition_order(order=order, to="cancelled", actor=SYSTEM, reason="test")
    assert [(c.moment, c.order.number, c.actor) for c in heard] == [
        (Moment.CREATED, order.number, SYSTEM),
        (Moment.CANCELLED, order.number, SYSTEM),
    ]
    assert heard[1].event.payload["reason"] == "test"


def test_a_failing_handler_rolls_the_whole_change_back(catalog):
    def refuse(change: OrderChange) -> None:
        raise RuntimeError("downstream failed")

    order = create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=SYSTEM)
    lifecycle.install({**declared.HANDLERS, Moment.CANCELLED: (refuse,)})
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            transition_order(order=order, to="cancelled", actor=SYSTEM)
    finally:
        lifecycle.install(declared.HANDLERS)
    order.refresh_from_db()
    assert order.status == "open"
    assert not order.events.filter(kind="status_changed").exists()


def test_recording_without_installed_handlers_is_refused(catalog, monkeypatch):
    monkeypatch.setattr(lifecycle, "_installed", None)
    with pytest.raises(ImproperlyConfigured, match="INSTALLED_APPS"):
        create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=SYSTEM)
    assert not Order.objects.exists()


def test_bulk_imports_are_heard_once_per_order(heard, catalog):
    from ordersight.orders.ingest import upsert_orders

    items = [
        OrderInput(source="shopify", external_id=f"s-{i}", lines=[LineInput(sku="TEE-M")])
        for i in range(3)
    ]
    upsert_orders(items=items, actor=SYSTEM)
    assert [c.moment for c in heard] == [Moment.CREATED] * 3
    assert sorted(c.order.external_id for c in heard) == ["s-0", "s-1", "s-2"]


def test_a_batch_handler_named_by_several_moments_runs_once_where_it_last_appears():
    """dispatch_many: a handler with `many` hears every change of the batch in one call,
    after every handler declared before its last appearance; plain handlers hear each."""
    from ordersight.orders.models import OrderEvent

    calls: list[tuple[str, object]] = []

    class Batch:
        def __call__(self, change):  # pragma: no cover - dispatch_many uses many
            raise AssertionError("called one by one")

        def many(self, changes):
            calls.append(("batch", sorted(c.moment.value for c in changes)))

    batch = Batch()

    def plain(change):
        calls.append(("plain", change.moment.value))

    lifecycle.install(
        {
            **{m: () for m in Moment},
            Moment.PAYMENT_SETTLED: (batch,),
            Moment.COMPLETED: (plain, batch),
        }
    )
    try:
        order = Order(number=1)
        events = [
            (order, OrderEvent(kind="payment_succeeded", payload={})),
            (order, OrderEvent(kind="status_changed", payload={"to": "completed"})),
        ]
        lifecycle.dispatch_many(events, SYSTEM)
    finally:
        lifecycle.install(declared.HANDLERS)
    assert calls == [("plain", "completed"), ("batch", ["completed", "payment_settled"])]


def test_moments_recorded_in_a_merged_block_are_heard_once_at_its_end():
    """merged_moments: nothing runs while the block is open; at its end a handler with
    `many` hears all its changes in one call; an inner block joins the outer; an error
    discards what was held."""
    from ordersight.orders.models import OrderEvent

    calls: list[list[str]] = []

    class Batch:
        def __call__(self, change):
            calls.append([change.moment.value])

        def many(self, changes):
            calls.append(sorted(c.moment.value for c in changes))

    batch = Batch()
    lifecycle.install({**{m: (batch,) for m in Moment}})
    order = Order(number=1)
    paid = OrderEvent(kind="payment_succeeded", payload={})
    completed = OrderEvent(kind="status_changed", payload={"to": "completed"})
    try:
        with lifecycle.merged_moments():
            lifecycle.dispatch(order, paid, SYSTEM)
            with lifecycle.merged_moments():
                lifecycle.dispatch(order, completed, SYSTEM)
            with pytest.raises(RuntimeError), lifecycle.merged_moments():
                lifecycle.dispatch(order, completed, SYSTEM)  # rolled back: never heard
                raise RuntimeError("a nested service failed and the outer one goes on")
            assert calls == []
        assert calls == [["completed", "payment_settled"]]
        with pytest.raises(RuntimeError), lifecycle.merged_moments():
            lifecycle.dispatch(order, paid, SYSTEM)
            raise RuntimeError("the service failed")
        lifecycle.dispatch(order, completed, SYSTEM)  # outside any block: at once
    finally:
        lifecycle.install(declared.HANDLERS)
    assert calls == [["completed", "payment_settled"], ["completed"]]
