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


def _install(reactions, projections=declared.PROJECTIONS) -> None:
    lifecycle.install(reactions=reactions, projections=projections, facts=declared.FACTS)


def _install_declared() -> None:
    _install(declared.REACTIONS)


@pytest.fixture
def heard():
    """Install a recording reaction beside the declared ones, for one test."""
    changes: list[OrderChange] = []
    reactions = {m: (*declared.REACTIONS.get(m, ()), changes.append) for m in Moment}
    _install(reactions)
    yield changes
    _install_declared()


def test_what_is_installed_is_the_two_declared_lists():
    installed = lifecycle.installed()
    assert installed.reactions == {m: declared.REACTIONS.get(m, ()) for m in Moment}
    assert installed.projections == declared.PROJECTIONS
    assert installed.facts is declared.FACTS
    # Every projection takes the changes heard together at once.
    assert all(callable(getattr(p, "many", None)) for p in declared.PROJECTIONS)


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
    _install({**declared.REACTIONS, Moment.CANCELLED: (refuse,)})
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            transition_order(order=order, to="cancelled", actor=SYSTEM)
    finally:
        _install_declared()
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


class _Noted:
    """A projection that notes the moments of each call."""

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def many(self, changes, facts) -> None:
        self.calls.append(("figures", [c.moment.value for c in changes]))


def test_reactions_run_first_and_the_figures_once_with_what_they_recorded():
    """A reaction that records a moment (a declined order's invoice failing) does not have
    it heard inside itself: its reactions run after, and the projections hear both moments
    in one call, once every reaction is done."""
    from ordersight.orders.models import OrderEvent

    calls: list = []
    order = Order(number=1)

    def void_invoices(change):
        calls.append(("void", change.moment.value))
        lifecycle.dispatch(order, OrderEvent(kind="payment_failed", payload={}), SYSTEM)
        calls.append(("void done", change.moment.value))

    def note_payment(change):
        calls.append(("payment", change.moment.value))

    _install(
        {Moment.DECLINED: (void_invoices,), Moment.PAYMENT_SETTLED: (note_payment,)},
        (_Noted(calls),),
    )
    try:
        declined = OrderEvent(kind="status_changed", payload={"to": "declined"})
        lifecycle.dispatch(order, declined, SYSTEM)
        assert calls == [
            ("void", "declined"),
            ("void done", "declined"),
            ("payment", "payment_settled"),
            ("figures", ["declined", "payment_settled"]),
        ]
        calls.clear()
        # A batch: each change's reactions, then the figures once for the whole batch.
        lifecycle.dispatch_many(
            [(order, OrderEvent(kind="payment_succeeded", payload={})), (order, declined)], SYSTEM
        )
        assert calls == [
            ("payment", "payment_settled"),
            ("void", "declined"),
            ("void done", "declined"),
            ("payment", "payment_settled"),
            ("figures", ["payment_settled", "declined", "payment_settled"]),
        ]
    finally:
        _install_declared()


def test_a_failing_reaction_leaves_nothing_queued_for_the_next_change():
    from ordersight.orders.models import OrderEvent

    calls: list = []
    order = Order(number=1)

    def refuse(change):
        lifecycle.dispatch(order, OrderEvent(kind="payment_failed", payload={}), SYSTEM)
        raise RuntimeError("refused")

    _install({Moment.DECLINED: (refuse,)}, (_Noted(calls),))
    try:
        with pytest.raises(RuntimeError):
            lifecycle.dispatch(
                order, OrderEvent(kind="status_changed", payload={"to": "declined"}), SYSTEM
            )
        lifecycle.dispatch(order, OrderEvent(kind="updated", payload={}), SYSTEM)
    finally:
        _install_declared()
    assert calls == [("figures", ["details_changed"])]


def test_moments_recorded_in_a_merged_block_are_heard_once_at_its_end():
    """merged_moments: nothing runs while the block is open; at its end the projections
    hear all its changes in one call; an inner block joins the outer; an error
    discards what was held."""
    from ordersight.orders.models import OrderEvent

    calls: list[list[str]] = []

    class Batch:
        def many(self, changes, facts):
            calls.append(sorted(c.moment.value for c in changes))

    _install({}, (Batch(),))
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
        _install_declared()
    assert calls == [["completed", "payment_settled"], ["completed"]]


def test_the_projections_share_one_reading_of_the_orders_facts(catalog, customer, monkeypatch):
    """The order, its lines and its invoices are read once for conversions, customers'
    figures and the sales rollups together, and not at all for a new open order, which
    none of them counts."""
    from ordersight.payments import facts as order_facts
    from ordersight.payments import services as payments
    from ordersight.payments.models import PaymentSystem

    reads: list[list[int]] = []
    read = order_facts.read_facts

    def counted_read(*, order_ids):
        reads.append(sorted(order_ids))
        return read(order_ids=order_ids)

    monkeypatch.setattr(order_facts, "read_facts", counted_read)
    order = create_order(
        data=OrderInput(customer_id=customer.pk, lines=[LineInput(sku="TEE-M", quantity=2)]),
        actor=SYSTEM,
    )
    assert reads == []
    system = PaymentSystem.objects.create(code="cash", name="Cash", provider="manual")
    payments.record_manual_payment(
        order=order, amount=order.total, payment_system=system, actor=SYSTEM
    )
    assert reads == [[order.pk]]
    order.refresh_from_db()
    assert order.status == "completed"
    from ordersight.promotions.models import CountedOrder
    from ordersight.reports.models import ReportedOrder

    # What the facts gave the customers' figures and the sales rollups.
    assert CountedOrder.objects.get(order_id=order.pk).net == order.total
    assert ReportedOrder.objects.get(pk=order.pk).total == order.total
