"""How reports keep their figures through an order's lifecycle (a projection declared in
`ordersight/lifecycle.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from ordersight.orders.lifecycle import Moment, OrderChange
from ordersight.payments.facts import FactsOfOrders
from ordersight.reports.definitions import COUNTED_STATUS
from ordersight.reports.services import move_attributions, queue_recounts, recount_orders


def _may_move_figures(change: OrderChange) -> bool:
    # A new order that is not yet a sale has no kept facts and adds none.
    return not (change.moment == Moment.CREATED and change.order.status != COUNTED_STATUS)


class RecountSales:
    """Any change that can move a figure recounts its order, once for all the changes heard
    together. An order whose only news is who made the sale (a sales attribution named or
    checked) moves between sales managers' rows instead: nothing else reads it. With
    SALES_FIGURES = "after-commit" every such change only queues its order."""

    def many(self, changes: Sequence[OrderChange], facts: FactsOfOrders) -> None:
        if settings.SALES_FIGURES == "after-commit":
            queue_recounts(
                order_ids=dict.fromkeys(c.order.pk for c in changes if _may_move_figures(c))
            )
            return
        recounted: dict[int, None] = {}
        moved = {}
        for change in changes:
            if change.moment == Moment.SALES_ATTRIBUTED:
                moved[change.order.pk] = change.order
            elif _may_move_figures(change):
                recounted[change.order.pk] = None
        recount_orders(order_ids=list(recounted), facts=facts)
        move_attributions(orders=[order for pk, order in moved.items() if pk not in recounted])


recount_sales = RecountSales()
