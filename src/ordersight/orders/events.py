"""OrderEvent rows: one `record_event` for every change, with who made it.

Recording an event is also how the rest of the project hears of it: events that mark a
lifecycle moment run the handlers declared in `ordersight/lifecycle.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ordersight.core.actors import Actor
from ordersight.core.bulk import insert_many
from ordersight.core.live import publish_after_commit
from ordersight.orders.lifecycle import dispatch, dispatch_many
from ordersight.orders.models import ActorType, Order, OrderEvent, OrderEventKind


def _event(order: Order, kind: OrderEventKind, actor: Actor, payload: dict[str, Any]) -> OrderEvent:
    return OrderEvent(
        order=order,
        kind=kind,
        actor_type=ActorType(actor.kind),
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:150],
        payload=payload,
    )


def _announce(order: Order, kind: OrderEventKind) -> None:
    publish_after_commit(
        "orders", {"order": order.number, "event": str(kind), "status": order.status}
    )


def record_event(order: Order, kind: OrderEventKind, actor: Actor, **payload: Any) -> OrderEvent:
    event = _event(order, kind, actor, payload)
    event.save()
    _announce(order, kind)
    dispatch(order, event, actor)
    return event


def record_events(
    entries: Iterable[tuple[Order, OrderEventKind, dict[str, Any]]], actor: Actor
) -> list[OrderEvent]:
    """Record many events at once (bulk ingest): one COPY or INSERT."""
    events = [_event(order, kind, actor, payload) for order, kind, payload in entries]
    insert_many(OrderEvent, events, batch_size=500)
    dispatch_many([(event.order, event) for event in events], actor)
    if events:
        # One message for the batch: open pages refresh once, not once per order.
        publish_after_commit(
            "orders",
            {
                "event": "batch",
                "count": len(events),
                "orders": [e.order.number for e in events[:50]],
            },
        )
    return events
