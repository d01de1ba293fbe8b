"""Property: whatever happens to orders, every customer's figures equal the raw rows'.

The same random sequences as the rollups' property test (creates, part payments,
completions, refunds, cancellations, re-ingests), plus orders moved to another customer;
the figures are then computed here from the order and refund rows alone, and a rebuild must
give the same figures again.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordersight.core.errors import Conflict, Invalid
from ordersight.orders.ingest import upsert_orders
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.payments.models import Refund
from ordersight.promotions.figures import rebuild_figures
from tests import factories
from tests.promotions.conftest import stored_customer_figures
from tests.reports.conftest import shop  # noqa: F401 (the fixture)
from tests.reports.test_rollups_property import SYSTEM, _apply, act, create

move = st.tuples(st.just("move"), st.integers(0, 3), st.integers(0, 1))


def _move(step, people, orders) -> None:
    """The store re-sends an order naming the other customer."""
    if not orders:
        return
    _, which, who = step
    order = Order.objects.get(pk=orders[-1 - which % len(orders)].pk)
    lines = [
        LineInput(sku=ln.sku, quantity=ln.quantity)
        if ln.sku
        else LineInput(name=ln.name, unit_price=ln.unit_price, quantity=ln.quantity)
        for ln in order.lines.all()
    ]
    upsert_orders(
        items=[
            OrderInput(
                lines=lines,
                currency=order.currency,
                customer_id=people["customers"][who].pk,
                source=order.source,
                order_type=order.order_type,
                status=order.status,
                external_id=order.external_id,
                created_at=order.created_at,
            )
        ],
        actor=SYSTEM,
    )


def raw_figures() -> tuple[dict, dict]:
    """(spend per customer and currency, figures per customer) from the raw rows."""
    refunds: dict[int, Decimal] = defaultdict(Decimal)
    for refund in Refund.objects.all():
        refunds[refund.order_id] += refund.amount
    spend: dict[tuple, list] = {}
    people: dict[int, list[Order]] = defaultdict(list)
    for order in Order.objects.filter(status="completed", customer__isnull=False).order_by(
        "created_at", "id"
    ):
        refunded = refunds[order.pk]
        if order.total and refunded >= order.total:
            continue
        key = (order.customer_id, order.currency)
        count, spent = spend.get(key, (0, Decimal(0)))
        spend[key] = (count + 1, spent + order.total - refunded)
        people[order.customer_id].append(order)
    figures = {
        customer: (len(o), o[0].created_at, o[-1].created_at, o[-1].total, o[-1].currency)
        for customer, o in people.items()
    }
    averaged = {
        key: (count, spent, (spent / count).quantize(Decimal("0.0001"), ROUND_HALF_UP))
        for key, (count, spent) in spend.items()
    }
    return averaged, figures


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.one_of(create, create, act, act, act, move), min_size=10, max_size=40))
def test_customer_figures_always_equal_the_raw_rows(shop, roles, steps):  # noqa: F811
    with transaction.atomic():
        people = {
            "customers": [factories.CustomerFactory(), factories.CustomerFactory()],
            "managers": [factories.UserFactory(), factories.UserFactory()],
        }
        orders: list[Order] = []
        for step in steps:
            try:
                with transaction.atomic():
                    if step[0] == "move":
                        _move(step, people, orders)
                    else:
                        _apply(step, shop, people, orders)
            except (Conflict, Invalid):
                pass  # a move the rules refuse changes nothing, figures included
        assert stored_customer_figures() == raw_figures()
        rebuild_figures()
        assert stored_customer_figures() == raw_figures()
        transaction.set_rollback(True)
