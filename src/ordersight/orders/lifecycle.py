"""The order lifecycle: the moments other apps react to, and how their handlers run.

An app above orders (payments, reports, billing, campaigns, promotions, sync) never gets
imported by orders. Instead, the project declares in one plain list, `ordersight/lifecycle.py`,
which handler reacts to which moment, and installs that list when Django starts. Each time a
service records an order event that marks a moment, `record_event` calls the moment's
handlers right away (or, inside a `merged_moments` block, at its end, together with the
block's other moments), in the service's transaction: if a handler fails, the whole change
rolls back, so an order and everything derived from it never disagree.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
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


class BatchHandler(Protocol):
    """A handler that can also take a whole batch at once (bulk ingest) with `many`."""

    def __call__(self, change: OrderChange) -> None: ...

    def many(self, changes: Sequence[OrderChange]) -> None: ...


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

_installed: dict[Moment, tuple[Handler, ...]] | None = None


def moment_of(kind: str, payload: Mapping[str, Any]) -> Moment | None:
    """The lifecycle moment an event marks, if any."""
    if kind == OrderEventKind.STATUS_CHANGED:
        return _BY_STATUS.get(payload.get("to"))
    return _BY_KIND.get(kind)


def install(handlers: Mapping[Moment, Sequence[Handler]]) -> None:
    """Set the handlers of every moment (the project does this once, at start-up)."""
    global _installed
    _installed = {moment: tuple(handlers.get(moment, ())) for moment in Moment}


def installed_handlers() -> dict[Moment, tuple[Handler, ...]]:
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
    _run(changes)


def dispatch(order: Order, event: OrderEvent, actor: Actor) -> None:
    """Run the handlers of the moment `event` marks, in the caller's transaction (at the end
    of a `merged_moments` block, when one is open)."""
    moment = moment_of(event.kind, event.payload)
    if moment is None:
        return
    change = OrderChange(moment=moment, order=order, event=event, actor=actor)
    held = getattr(_held, "changes", None)
    if held is not None:
        held.append(change)
        return
    for handler in installed_handlers()[moment]:
        handler(change)


def dispatch_many(events: Sequence[tuple[Order, OrderEvent]], actor: Actor) -> None:
    """Run the handlers for a batch of events (see `_run`); inside a `merged_moments` block
    they join what it holds."""
    changes = []
    for order, event in events:
        moment = moment_of(event.kind, event.payload)
        if moment is not None:
            changes.append(OrderChange(moment=moment, order=order, event=event, actor=actor))
    held = getattr(_held, "changes", None)
    if held is not None:
        held.extend(changes)
        return
    _run(changes)


def _run(changes: Sequence[OrderChange]) -> None:
    """Run the handlers of a batch of changes; a handler with `many` gets them in one call.

    Within a moment the handlers run in their declared order, as `dispatch` runs them. A
    handler with `many` that several moments of the batch name is called once, with all
    their changes, where it last appears: by then every handler before it has run, and one
    recount of a batch that was issued, paid and completed at once does the work of three.
    """
    by_moment: dict[Moment, list[OrderChange]] = {}
    for change in changes:
        by_moment.setdefault(change.moment, []).append(change)
    installed = installed_handlers()
    calls = [(moment, handler) for moment in by_moment for handler in installed[moment]]
    last_call: dict[int, int] = {}
    gathered: dict[int, list[OrderChange]] = {}
    for position, (moment, handler) in enumerate(calls):
        if getattr(handler, "many", None) is not None:
            last_call[id(handler)] = position
            gathered.setdefault(id(handler), []).extend(by_moment[moment])
    for position, (moment, handler) in enumerate(calls):
        many = getattr(handler, "many", None)
        if many is None:
            for change in by_moment[moment]:
                handler(change)
        elif last_call[id(handler)] == position:
            many(gathered[id(handler)])
