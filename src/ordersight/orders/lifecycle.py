"""The order lifecycle: the moments other apps react to, and how their handlers run.

An app above orders (payments, reports, billing, campaigns, promotions, sync) never gets
imported by orders. Instead, the project declares in `ordersight/lifecycle.py` two plain
lists, installed when Django starts:

- **reactions** to a moment (payments voids the invoices of a cancelled order, billing
  notes a refunded child order): each runs once for each change it hears, in the declared
  order. A moment a reaction records (a declined order's invoices failing) is never heard
  inside it: it waits its turn behind the changes being heard, and its own reactions run
  then.
- **projections**, the kept figures (conversions, customers' figures, sales rollups): each
  runs once for all the changes heard together, after every reaction, the moments the
  reactions recorded included, so one recount sees the order as the whole change left it.

Each time a service records an order event that marks a moment, `record_event` has it heard
right away (or, inside a `merged_moments` block, at the block's end, with the block's other
moments), in the service's transaction: if a handler fails, the whole change rolls back, so
an order and everything derived from it never disagree.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from ordersight.core.actors import Actor
from ordersight.orders.models import Order, OrderEvent, OrderEventKind, OrderStatus


class Moment(StrEnum):
    CREATED = "created"  # created one by one or imported in bulk
    LINES_REPLACED = "lines_replaced"
    COMPLETED = "completed"  # became a sale
    DECLINED = "declined"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"  # some money was given back
    PAYMENT_SETTLED = "payment_settled"  # an invoice's payment succeeded or failed
    DETAILS_CHANGED = "details_changed"  # type, customer or metadata
    SALES_ATTRIBUTED = "sales_attributed"  # who made the sale named or confirmed


@dataclass(frozen=True)
class OrderChange:
    """What a handler is told: the order (locked by the service), the event, who did it."""

    moment: Moment
    order: Order
    event: OrderEvent
    actor: Actor


Handler = Callable[[OrderChange], None]


class Facts(Protocol):
    """The facts of the orders a batch of changes touched (payments' `FactsOfOrders`): each
    order read once, when the first projection asks, for every projection after it."""

    def of(self, order_ids: Iterable[int]) -> Mapping[int, Any]: ...


class Projection(Protocol):
    """Kept figures: `many` hears every change heard together (one order may come more than
    once, with several moments) and brings the figures of their orders up to date from
    `facts`, shared by every projection that hears them."""

    def many(self, changes: Sequence[OrderChange], facts: Facts) -> None: ...


@dataclass(frozen=True)
class Installed:
    reactions: dict[Moment, tuple[Handler, ...]]
    projections: tuple[Projection, ...]
    facts: Callable[[], Facts]  # a new reader of facts for each round of projections


_BY_KIND = {
    OrderEventKind.CREATED: Moment.CREATED,
    OrderEventKind.IMPORTED: Moment.CREATED,
    OrderEventKind.LINES_REPLACED: Moment.LINES_REPLACED,
    # A discount changes the lines' totals: whatever reacts to new lines reacts to it.
    OrderEventKind.DISCOUNT_APPLIED: Moment.LINES_REPLACED,
    OrderEventKind.REFUNDED: Moment.REFUNDED,
    OrderEventKind.PAYMENT_SUCCEEDED: Moment.PAYMENT_SETTLED,
    OrderEventKind.PAYMENT_FAILED: Moment.PAYMENT_SETTLED,
    OrderEventKind.UPDATED: Moment.DETAILS_CHANGED,
    OrderEventKind.SALES_ATTRIBUTION_CHANGED: Moment.SALES_ATTRIBUTED,
    OrderEventKind.SALES_ATTRIBUTION_CONFIRMED: Moment.SALES_ATTRIBUTED,
}
_BY_STATUS = {
    OrderStatus.COMPLETED: Moment.COMPLETED,
    OrderStatus.DECLINED: Moment.DECLINED,
    OrderStatus.CANCELLED: Moment.CANCELLED,
}

_installed: Installed | None = None


def moment_of(kind: str, payload: Mapping[str, Any]) -> Moment | None:
    """The lifecycle moment an event marks, if any."""
    if kind == OrderEventKind.STATUS_CHANGED:
        return _BY_STATUS.get(payload.get("to"))
    return _BY_KIND.get(kind)


def install(
    *,
    reactions: Mapping[Moment, Sequence[Handler]],
    projections: Sequence[Projection],
    facts: Callable[[], Facts],
) -> None:
    """Set what hears the moments, and what reads the orders' facts for the projections
    (the project does this once, at start-up)."""
    global _installed
    _installed = Installed(
        reactions={moment: tuple(reactions.get(moment, ())) for moment in Moment},
        projections=tuple(projections),
        facts=facts,
    )


def installed() -> Installed:
    if _installed is None:
        # Running without the handlers would silently skip payments and every app above
        # orders; refuse instead.
        raise ImproperlyConfigured(
            "The order lifecycle handlers are not installed: add 'ordersight' to INSTALLED_APPS."
        )
    return _installed


# The moments a `merged_moments` block holds back, per thread (None outside such a block).
_held = threading.local()


@contextmanager
def merged_moments() -> Iterator[None]:
    """Hold back the moments recorded inside the block and run their handlers once, at its
    end, as a batch (`dispatch_many`). A payment that completes an order records two moments
    back to back (its payment settled, then completed), and every recount heard both: each
    read the order, its lines and invoices and wrote the figures twice. Use it inside the
    service's transaction, around writes whose moments no handler must hear in between.
    An inner block joins the outer one; an error discards what the block held (an inner
    block's alone, should the outer one catch it: its writes rolled back to a savepoint)."""
    held = getattr(_held, "changes", None)
    if held is not None:
        start = len(held)
        try:
            yield
        except BaseException:
            del held[start:]
            raise
        return
    _held.changes = []
    try:
        yield
        changes = _held.changes
    finally:
        _held.changes = None
    _hear(changes)


def dispatch(order: Order, event: OrderEvent, actor: Actor) -> None:
    """Have the moment `event` marks heard, in the caller's transaction (at the end of a
    `merged_moments` block, when one is open)."""
    moment = moment_of(event.kind, event.payload)
    if moment is None:
        return
    _heard([OrderChange(moment=moment, order=order, event=event, actor=actor)])


def dispatch_many(events: Sequence[tuple[Order, OrderEvent]], actor: Actor) -> None:
    """Have a batch of events heard together (bulk ingest, a billing batch)."""
    changes = []
    for order, event in events:
        moment = moment_of(event.kind, event.payload)
        if moment is not None:
            changes.append(OrderChange(moment=moment, order=order, event=event, actor=actor))
    _heard(changes)


def _heard(changes: list[OrderChange]) -> None:
    held = getattr(_held, "changes", None)
    if held is not None:
        held.extend(changes)
    else:
        _hear(changes)


# The changes being heard now, per thread (None when nothing is): what a reaction records
# joins them rather than being heard inside it.
_hearing = threading.local()


def _hear(changes: Sequence[OrderChange]) -> None:
    """Run the reactions of each change, then every projection once with all of them.

    A change recorded while this runs (by a reaction, or by a service a reaction calls) is
    queued: its reactions run after those of the changes before it, and the projections
    hear it with the rest. Were a projection to record one, it would be heard in a round of
    its own after the projections (none does: figures record no order events).
    """
    queue = getattr(_hearing, "queue", None)
    if queue is not None:
        queue.extend(changes)
        return
    queue = _hearing.queue = list(changes)
    try:
        lifecycle = installed()
        start = 0
        while start < len(queue):
            end = start
            while end < len(queue):
                change = queue[end]
                for reaction in lifecycle.reactions[change.moment]:
                    reaction(change)
                end += 1
            # Read once for all the projections, after every reaction of the round: each
            # sees the orders as the whole change left them.
            facts = lifecycle.facts()
            for projection in lifecycle.projections:
                projection.many(queue[start:end], facts)
            start = end
    finally:
        _hearing.queue = None
