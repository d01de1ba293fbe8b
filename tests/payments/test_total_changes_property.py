"""Property test: whatever happens to an order's total and its invoices, pending invoices ask
for what is still due and the customer never pays more than the order unless the money really
arrived before the total fell below it.

Random sequences of new lines (a re-sent order), discounts, invoices and installments,
charges (including outages and declines), manual partial payments, refunds, retries and
cancellations run through the services; after every step:
- the pending invoices of an order never ask for more than its total less what was captured,
  and ask for exactly that when the order is fully invoiced (no failed attempt leaves a gap);
- a cancelled or declined order asks for nothing;
- captured − refunded never exceeds the order's total, unless the total was lowered below
  money already captured (money that really arrived beyond it);
- the payment invariants of `test_properties` hold.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict, Forbidden, Invalid, Unavailable
from ordersight.orders.ingest import upsert_orders
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import apply_discounts, transition_order
from ordersight.payments import services
from ordersight.payments.models import VOIDED, Invoice, Refund
from ordersight.payments.selectors import order_money
from tests.payments.test_properties import TOKENS, _check_invariants

SYSTEM = Actor.system()

operation = st.one_of(
    st.tuples(st.just("lines"), st.integers(0, 2), st.integers(0, 9_000)),
    st.tuples(st.just("discount"), st.integers(0, 2), st.integers(1, 9_000)),
    st.tuples(st.just("invoice"), st.integers(0, 2), st.sampled_from([1, 1, 2, 3])),
    st.tuples(st.just("charge"), st.integers(0, 9), st.sampled_from(TOKENS)),
    st.tuples(st.just("manual"), st.integers(0, 2), st.integers(1, 40_000)),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 40_000)),
    st.tuples(st.just("retry"), st.integers(0, 9)),
    st.tuples(st.just("cancel"), st.integers(0, 2)),
)


def _places(currency: str) -> int:
    return 0 if currency == "JPY" else 2


def _input(index: int, discount: Decimal = Decimal(0)) -> OrderInput:
    """The three orders: a USD course (installments allowed), three EUR tees, JPY tea."""
    lines = [
        [LineInput(sku="COURSE-1", discount=discount)],
        [LineInput(sku="TEE-M", quantity=3, discount=discount)],
        [LineInput(name="Tea", unit_price=Decimal("4500"), discount=discount)],
    ][index]
    currency = ["USD", "EUR", "JPY"][index]
    return OrderInput(lines=lines, currency=currency, source="shopify", external_id=f"p-{index}")


def _amount(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-_places(currency))


def _check_total_invariants(order: Order, lowered_below_captured: bool) -> None:
    invoices = list(order.invoices.all())
    money = order_money(order=order)
    asked = sum((i.amount for i in invoices if i.status == "pending"), Decimal(0))
    due = order.total - money["captured"]
    assert asked <= max(due, Decimal(0)), "pending invoices ask for more than is due"
    if order.status in ("cancelled", "declined"):
        assert asked == 0, "a closed order still asks for money"
    gaps = [i for i in invoices if i.status == "failed" and i.failure_code not in VOIDED]
    if asked and not gaps:
        assert asked == due, "the pending invoices do not sum to what is still due"
    if money["net"] > order.total:
        assert lowered_below_captured, "the customer paid more than the order"


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
# The issue's case: a pending invoice, then a discount, then the charge.
@example(ops=[("invoice", 0, 1), ("discount", 0, 3000), ("charge", 0, "tok_success")])
# An installment plan, a failed first charge, the balance invoiced again, then the retry.
@example(
    ops=[
        ("invoice", 0, 1),
        ("charge", 0, "tok_insufficient_funds"),
        ("invoice", 0, 1),
        ("retry", 0),
        ("charge", 1, "tok_success"),
        ("charge", 2, "tok_success"),
    ]
)
def test_pending_invoices_follow_every_change_of_the_total(ops, catalog, card, bank):
    Refund.objects.all().delete()
    Invoice.objects.all().delete()
    Order.objects.all().delete()
    results = upsert_orders(items=[_input(i) for i in range(3)], actor=SYSTEM)
    orders = [Order.objects.get(number=r.number) for r in results]
    lowered = [False, False, False]
    for op in ops:
        kind, *args = op
        invoices = list(Invoice.objects.filter(order__in=orders).order_by("number"))
        try:
            if kind == "lines":
                index = args[0]
                order = orders[index]
                discount = min(_amount(args[1], order.currency), order.subtotal)
                net_before = order_money(order=order)["net"]
                upsert_orders(items=[_input(index, discount)], actor=SYSTEM)
                order.refresh_from_db()
                lowered[index] = lowered[index] or order.total < net_before
            elif kind == "discount":
                order = orders[args[0]]
                amount = min(_amount(args[1], order.currency), order.total)
                apply_discounts(order=order, discounts={1: amount}, actor=SYSTEM)
            elif kind == "invoice":
                services.issue_invoices(order=orders[args[0]], installments=args[1], actor=SYSTEM)
            elif kind == "charge" and invoices:
                services.charge_invoice(
                    invoice=invoices[args[0] % len(invoices)],
                    payment_system=card,
                    card_token=args[1],
                    actor=SYSTEM,
                )
            elif kind == "manual":
                order = orders[args[0]]
                services.record_manual_payment(
                    order=order,
                    payment_system=bank,
                    amount=_amount(args[1], order.currency),
                    actor=SYSTEM,
                )
            elif kind == "refund" and invoices:
                invoice = invoices[args[0] % len(invoices)]
                services.refund_invoice(
                    invoice=invoice, amount=_amount(args[1], invoice.currency), actor=SYSTEM
                )
            elif kind == "retry" and invoices:
                services.retry_invoice(invoice=invoices[args[0] % len(invoices)], actor=SYSTEM)
            elif kind == "cancel":
                transition_order(order=orders[args[0]], to="cancelled", actor=SYSTEM)
        except (Invalid, Conflict, Unavailable, Forbidden):
            pass
        for index, order in enumerate(orders):
            order.refresh_from_db()
            _check_total_invariants(order, lowered[index])
        _check_invariants()
