"""The activity of a recurring order: one event per change, with its actor, published live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ordersight.core.actors import Actor
from ordersight.core.live import publish_after_commit
from ordersight.subscriptions.models import RecurringEvent, RecurringEventKind, RecurringOrder

LIVE_CHANNEL = "recurring"


def record_recurring_event(
    recurring: RecurringOrder,
    kind: RecurringEventKind,
    actor: Actor,
    at: datetime,
    **payload: Any,
) -> RecurringEvent:
    event = RecurringEvent.objects.create(
        recurring_order=recurring,
        kind=kind,
        actor_label=actor.label[:150],
        actor_user=actor.user,
        payload=payload,
        created_at=at,
    )
    publish_after_commit(
        LIVE_CHANNEL,
        {"number": recurring.number, "status": recurring.status, "event": str(kind)},
    )
    return event
