"""Orders charged in full in a batch (a store sync, the billing engine), as one by one would
leave them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services
from ordersight.payments.models import FeeRule, PaymentSystem

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def card(db) -> PaymentSystem:
    system = PaymentSystem.objects.create(code="card", name="Cards", provider="test")
    FeeRule.objects.create(
        payment_system=system, currency="EUR", percent=Decimal("2.5"), fixed=Decimal("0.25")
    )
    return system


def _inputs(count: int) -> list[OrderInput]:
    return [OrderInput(lines=[LineInput(sku="TEE-M", quantity=2)]) for _ in range(count)]


def test_a_batch_ends_as_charging_each_order_one_by_one_would(catalog, card):
    one = create_order(data=_inputs(1)[0], actor=SYSTEM)
    (invoice,) = services.issue_invoices(order=one, actor=SYSTEM)
    services.charge_invoice(
        invoice=invoice, payment_system=card, card_token="tok_success", actor=SYSTEM
    )
    batch = [create_order(data=data, actor=SYSTEM) for data in _inputs(3)]
    invoices = services.record_charged_orders(
        charges=[services.ChargedOrder(o, card, f"ch_{o.number}") for o in batch],
        at=AT,
        actor=SYSTEM,
    )
    one.refresh_from_db()
    invoice.refresh_from_db()
    for order, made in zip(batch, invoices, strict=True):
        order.refresh_from_db()
        made.refresh_from_db()
        assert (order.status, order.payment_status) == (one.status, one.payment_status)
        assert (made.status, made.amount, made.fee, made.funds_credited) == (
            invoice.status,
            invoice.amount,
            invoice.fee,
            invoice.funds_credited,
        )
        assert made.transaction_id == f"ch_{order.number}" and made.paid_at == AT
        assert list(order.events.values_list("kind", flat=True)) == list(
            one.events.values_list("kind", flat=True)
        )
    assert invoice.fee == Decimal("1.24")  # 2.5% of 39.80 + 0.25 = 1.245, half-even


def test_only_new_open_uninvoiced_orders_are_taken(catalog, card):
    order = create_order(data=_inputs(1)[0], actor=SYSTEM)
    services.issue_invoices(order=order, actor=SYSTEM)
    with pytest.raises(Conflict):
        services.record_charged_orders(
            charges=[services.ChargedOrder(order, card, "ch_1")], at=AT, actor=SYSTEM
        )
    order.refresh_from_db()
    assert order.status == "open" and order.invoices.count() == 1


def test_new_charged_orders_end_as_creating_and_charging_each_would(catalog, card):
    from ordersight.reports.models import ReportedOrder

    one = create_order(data=_inputs(1)[0], actor=SYSTEM)
    (invoice,) = services.issue_invoices(order=one, actor=SYSTEM)
    services.charge_invoice(
        invoice=invoice, payment_system=card, card_token="tok_success", actor=SYSTEM
    )
    made = services.create_charged_orders(
        charges=[
            services.NewChargedOrder(data, card, f"ch_{i}") for i, data in enumerate(_inputs(2))
        ],
        at=AT,
        actor=SYSTEM,
    )
    one.refresh_from_db()
    invoice.refresh_from_db()
    for i, (order, paid) in enumerate(made):
        order.refresh_from_db()
        paid.refresh_from_db()
        assert (order.status, order.payment_status, order.total) == (
            one.status,
            one.payment_status,
            one.total,
        )
        assert (paid.status, paid.amount, paid.fee, paid.transaction_id) == (
            invoice.status,
            invoice.amount,
            invoice.fee,
            f"ch_{i}",
        )
        assert list(order.events.values_list("kind", flat=True)) == list(
            one.events.values_list("kind", flat=True)
        )
        created = order.events.get(kind="created")
        assert created.payload["status"] == "open"  # as created one by one, then paid
    # The lifecycle handlers counted them as sales, once each.
    assert ReportedOrder.objects.filter(order_id__in=[o.pk for o, _ in made]).count() == 2


def test_an_invalid_new_charged_order_is_named_and_nothing_is_written(catalog, card):
    from ordersight.core.errors import Invalid
    from ordersight.orders.models import Order
    from ordersight.payments.models import Invoice

    bad = OrderInput(lines=[LineInput(sku="NO-SUCH-SKU")])
    with pytest.raises(Invalid) as raised:
        services.create_charged_orders(
            charges=[
                services.NewChargedOrder(_inputs(1)[0], card, "ch_1"),
                services.NewChargedOrder(bad, card, "ch_2"),
            ],
            at=AT,
            actor=SYSTEM,
        )
    assert "[1].lines[0].sku" in raised.value.fields
    assert not Order.objects.exists() and not Invoice.objects.exists()
