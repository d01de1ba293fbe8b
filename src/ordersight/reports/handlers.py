"""How reports react to an order's lifecycle (declared in `ordersight/lifecycle.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from ordersight.orders.lifecycle import Moment, OrderChange
from ordersight.reports.definitions import COUNTED_STATUS
from ordersight.reports.services import move_attributions, recount_orders


def _may_move_figures(change: OrderChange) -> bool:
    # A new order that is not yet a sale has no kept facts and adds none.
    return not (change.moment == Moment.CREATED and change.order.status != COUNTED_STATUS)


class RecountSales:
    """Any change that can move a figure recounts the order, once per batch in bulk."""

    def __call__(self, change: OrderChange) -> None:
        if _may_move_figures(change):
            recount_orders(order_ids=[change.order.pk])

    def many(self, changes: Sequence[OrderChange]) -> None:
        recount_orders(
            order_ids=[change.order.pk for change in changes if _may_move_figures(change)]
        )


recount_sales = RecountSales()


class MoveSalesAttribution:
    """Who made a sale was named or confirmed: its figures move between sales managers."""

    def __call__(self, change: OrderChange) -> None:
        move_attributions(orders=[change.order])

    def many(self, changes: Sequence[OrderChange]) -> None:
        move_attributions(orders=[change.order for change in changes])


move_sales_attribution = MoveSalesAttribution()
