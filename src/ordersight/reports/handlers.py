"""How reports react to an order's lifecycle (declared in `ordersight/lifecycle.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from ordersight.orders.lifecycle import OrderChange
from ordersight.reports.services import recount_orders


class RecountSales:
    """Any change that can move a figure recounts the order, once per batch in bulk."""

    def __call__(self, change: OrderChange) -> None:
        recount_orders([change.order.pk])

    def many(self, changes: Sequence[OrderChange]) -> None:
        recount_orders([change.order.pk for change in changes])


recount_sales = RecountSales()
