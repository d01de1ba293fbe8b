"""How campaigns react to an order's lifecycle (declared in `ordersight/lifecycle.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from ordersight.campaigns.services import track_orders
from ordersight.orders.lifecycle import OrderChange


class TrackConversions:
    """An order that came with a creator's code becomes a conversion; every later change
    of it (payment, cancellation, refund, new lines) moves the conversion's status and
    commission. Orders without a code cost nothing here."""

    def __call__(self, change: OrderChange) -> None:
        track_orders(orders=[change.order], actor=change.actor)

    def many(self, changes: Sequence[OrderChange]) -> None:
        if changes:
            orders = {change.order.pk: change.order for change in changes}
            track_orders(orders=list(orders.values()), actor=changes[0].actor)


track_conversions = TrackConversions()
