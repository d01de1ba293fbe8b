"""Which status may follow which, and who may make a move: the rules every path obeys.

`transition_order`, the bulk ingest and the pages' buttons all ask `check_transition` (or
`allowed_transitions`), so the API, the UI and a store feed can never disagree.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict, Forbidden
from ordersight.orders.models import Order, OrderStatus

S = OrderStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.OPEN, S.COMPLETED, S.DECLINED, S.CANCELLED}),
    S.OPEN: frozenset({S.COMPLETED, S.DECLINED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.CANCELLED}),
    # A declined payment can be retried, which reopens the order.
    S.DECLINED: frozenset({S.OPEN, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}
# Orders created one by one start here; bulk ingest from stores may carry any status.
CREATE_STATUSES = frozenset({S.DRAFT, S.OPEN})
FULFILLABLE = frozenset({S.DRAFT, S.OPEN, S.COMPLETED})
# Lines may change only while nothing has been settled on the order.
LINES_EDITABLE = frozenset({S.DRAFT, S.OPEN})
# Completing an order that is not paid in full (Confirm), declining one that took money, or
# cancelling one that still holds captured money (the money stays with the seller while the
# sale, its code use and its creator's conversion are given back) is a judgement about
# money: it needs this permission, whichever path asks. Refunding the money first makes the
# cancellation an ordinary one.
CONFIRM_PARTIAL_PAYMENTS = "payments.confirm_partial_payments"


def transition_conflict(order: Order, to: str) -> Conflict:
    allowed = ", ".join(sorted(TRANSITIONS[order.status])) or _("nothing")
    return Conflict(
        _(
            "Order {number} is {status}; it cannot become {to} "
            "(from {status} it can become: {allowed})."
        ).format(number=order.number, status=order.status, to=to, allowed=allowed),
        fields={"status": order.status},
    )


def permission_for(order: Order, to: str) -> str | None:
    """The permission a move needs beyond changing orders, given the order's money."""
    if to == S.COMPLETED and not order.is_paid_in_full:
        return CONFIRM_PARTIAL_PAYMENTS
    if to == S.DECLINED and order.has_ever_captured_money:
        return CONFIRM_PARTIAL_PAYMENTS
    if to == S.CANCELLED and order.holds_money_net_of_refunds:
        return CONFIRM_PARTIAL_PAYMENTS
    return None


# Whole sentences for translators; translated when raised.
_REFUSED = {
    S.COMPLETED: gettext_noop(
        "Your role lacks the permission {permission} needed to complete an order not paid in full."
    ),
    S.DECLINED: gettext_noop(
        "Your role lacks the permission {permission} needed to decline an order that took payments."
    ),
    S.CANCELLED: gettext_noop(
        "Your role lacks the permission {permission} needed to cancel an order that holds "
        "captured money (refund it first)."
    ),
}


def check_transition(order: Order, to: str, actor: Actor) -> None:
    """Raise Conflict for a move the table forbids, Forbidden for one the actor may not make."""
    if to not in TRANSITIONS[order.status]:
        raise transition_conflict(order, to)
    check_may_reach(order, to, actor)


def check_may_reach(order: Order, to: str, actor: Actor) -> None:
    """Forbidden unless the actor may put the order in status `to` given its money; also
    asked of an imported order that arrives already completed or declined."""
    perm = permission_for(order, to)
    if perm is not None and not actor.has_perm(perm):
        raise Forbidden(
            _(_REFUSED[to]).format(permission=perm),
            fields={"permission": perm},
        )


def allowed_transitions(order: Order, actor: Actor) -> frozenset[str]:
    """The statuses this actor can move the order to now (what the pages offer)."""
    return frozenset(
        to
        for to in TRANSITIONS[order.status]
        if (perm := permission_for(order, to)) is None or actor.has_perm(perm)
    )


def can_confirm(order: Order, actor: Actor) -> bool:
    """Whether to offer Confirm: partially paid, still draft or open, and the actor may."""
    return order.can_be_confirmed and S.COMPLETED in allowed_transitions(order, actor)
