"""How billing reacts to its child orders' lifecycle (declared in `ordersight/lifecycle.py`)."""

from __future__ import annotations

from django.utils import timezone

from ordersight.orders.lifecycle import OrderChange
from ordersight.orders.models import OrderSource
from ordersight.subscriptions.events import record_recurring_event
from ordersight.subscriptions.models import (
    ChargeAttempt,
    RecurringEventKind,
    RecurringOrder,
    RecurringStatus,
)


def _recurring_of(change: OrderChange) -> tuple[RecurringOrder, ChargeAttempt] | None:
    if change.order.source != OrderSource.SUBSCRIPTION:
        return None
    attempt = ChargeAttempt.objects.filter(order=change.order).order_by("-attempt").first()
    if attempt is None:
        return None
    recurring = RecurringOrder.objects.select_for_update(no_key=True).get(
        pk=attempt.recurring_order_id
    )
    return recurring, attempt


def note_child_refund(change: OrderChange) -> None:
    """A refunded payment stays made (the schedule goes on); its trail shows the refund."""
    found = _recurring_of(change)
    if found is None:
        return
    recurring, attempt = found
    record_recurring_event(
        recurring,
        RecurringEventKind.CHILD_ORDER_REFUNDED,
        change.actor,
        timezone.now(),
        order=change.order.number,
        payment=attempt.cycle,
        amount=change.event.payload.get("amount", ""),
    )


def stop_retrying_cancelled_child(change: OrderChange) -> None:
    """Cancelling the open order of a payment being retried means: stop charging for it.
    The recurring order fails (a person activates it again after replacing the card)."""
    found = _recurring_of(change)
    if found is None:
        return
    recurring, attempt = found
    now = timezone.now()
    record_recurring_event(
        recurring,
        RecurringEventKind.CHILD_ORDER_CANCELLED,
        change.actor,
        now,
        order=change.order.number,
        payment=attempt.cycle,
    )
    retrying = recurring.failed_attempts > 0 and attempt.cycle == recurring.payments_made + 1
    if retrying and recurring.status == RecurringStatus.ACTIVE:
        recurring.status = RecurringStatus.FAILED
        recurring.next_payment_at = None
        recurring.needs_new_payment_method = True
        recurring.save()
        record_recurring_event(
            recurring,
            RecurringEventKind.FAILED,
            change.actor,
            now,
            payment=attempt.cycle,
            reason=f"order {change.order.number} was cancelled",
        )
