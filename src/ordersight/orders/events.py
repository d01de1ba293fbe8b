"""OrderEvent rows: one `record_event` for every change, with who made it.

Recording an event is also how the rest of the project hears of it: events that mark a
lifecycle moment run the handlers declared in `ordersight/lifecycle.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from ordersight.core.actors import Actor
from ordersight.core.bulk import insert_rows
from ordersight.core.live import publish_after_commit, save_and_publish
from ordersight.orders.lifecycle import dispatch, dispatch_many, moment_of
from ordersight.orders.models import ActorType, Order, OrderEvent, OrderEventKind


def _event(
    order: Order,
    kind: OrderEventKind,
    actor: Actor,
    payload: dict[str, Any],
    created_at: datetime | None = None,
) -> OrderEvent:
    return OrderEvent(
        order=order,
        kind=kind,
        actor_type=ActorType(actor.kind),
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:150],
        payload=payload,
        created_at=created_at,
    )


def record_event(order: Order, kind: OrderEventKind, actor: Actor, **payload: Any) -> OrderEvent:
    event = _event(order, kind, actor, payload)
    save_and_publish(
        event, "orders", {"order": order.number, "event": str(kind), "status": order.status}
    )
    dispatch(order, event, actor)
    return event


# The columns `record_events` writes, in the order of its rows.
_EVENT_COLUMNS = (
    "order_id",
    "kind",
    "actor_type",
    "actor_user_id",
    "actor_api_key_id",
    "actor_label",
    "payload",
    "created_at",
)


def record_events(
    entries: Iterable[tuple[Order, OrderEventKind, dict[str, Any]]], actor: Actor
) -> None:
    """Record many events at once (bulk ingest, a billing batch): one COPY or INSERT.

    The rows go in as plain values, not model instances: a batch writes several events per
    order and building objects cost more than the insert. Handlers get an (unsaved) event
    object for the events that mark a moment, which is all they read.
    """
    entries = list(entries)
    if not entries:
        return
    who = (
        ActorType(actor.kind),
        actor.user.pk if actor.user is not None else None,
        actor.api_key.pk if actor.api_key is not None else None,
        actor.label[:150],
    )
    now = timezone.now()
    insert_rows(
        OrderEvent,
        _EVENT_COLUMNS,
        ((order.pk, kind, *who, payload, now) for order, kind, payload in entries),
    )
    dispatch_many(
        [
            (order, _event(order, kind, actor, payload, now))
            for order, kind, payload in entries
            if moment_of(kind, payload) is not None
        ],
        actor,
    )
    # One message for the batch: open pages refresh once, not once per order.
    publish_after_commit(
        "orders",
        {
            "event": "batch",
            "count": len(entries),
            "orders": [order.number for order, _, _ in entries[:50]],
        },
    )
