"""How campaigns follow an order's lifecycle: conversions and commissions, a projection
declared in `ordersight/lifecycle.py`."""

from __future__ import annotations

from collections.abc import Sequence

from ordersight.campaigns.services import track_orders
from ordersight.orders.lifecycle import Moment, OrderChange
from ordersight.orders.models import OrderEventKind
from ordersight.payments.facts import FactsOfOrders


class TrackConversions:
    """An order that came with a creator's code becomes a conversion; every later change
    of it (payment, cancellation, refund, new lines) moves the conversion's status and
    commission. Orders without a code cost nothing here."""

    def many(self, changes: Sequence[OrderChange], facts: FactsOfOrders) -> None:
        # Who made the sale (a sales attribution) is no news to a conversion.
        heard = [change for change in changes if change.moment != Moment.SALES_ATTRIBUTED]
        if heard:
            orders = {change.order.pk: change.order for change in heard}
            born = {change.order.pk for change in heard if change.event.kind in CREATION}
            track_orders(
                orders=list(orders.values()),
                actor=heard[0].actor,
                new_order_ids=born,
                facts=facts,
            )


# The events of an order's creation, one by one or imported in bulk.
CREATION = frozenset({OrderEventKind.CREATED, OrderEventKind.IMPORTED})


track_conversions = TrackConversions()
