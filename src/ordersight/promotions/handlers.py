"""How promotions follow an order's lifecycle: a reaction (a cancelled order gives its
discount code's use back) and a projection (customers' figures), declared in
`ordersight/lifecycle.py`."""

from __future__ import annotations

from collections.abc import Sequence

from ordersight.orders.lifecycle import Moment, OrderChange
from ordersight.orders.models import OrderStatus
from ordersight.payments.facts import FactsOfOrders
from ordersight.promotions.figures import recount_orders
from ordersight.promotions.services import rollback_redemptions


def _may_count(change: OrderChange) -> bool:
    # A new order that is not completed has no counted facts and adds none.
    if change.moment == Moment.SALES_ATTRIBUTED:
        return False
    return not (change.moment == Moment.CREATED and change.order.status != OrderStatus.COMPLETED)


class RecountFigures:
    """Any change that can move a customer's figures recounts its order, once for all the
    changes heard together (who made the sale is not one of them)."""

    def many(self, changes: Sequence[OrderChange], facts: FactsOfOrders) -> None:
        counted = dict.fromkeys(c.order.pk for c in changes if _may_count(c))
        recount_orders(order_ids=list(counted), facts=facts)


recount_figures = RecountFigures()


def roll_back_redemption(change: OrderChange) -> None:
    """A cancelled order gives its discount code's use back."""
    rollback_redemptions(order=change.order, actor=change.actor)
