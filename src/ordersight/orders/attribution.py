"""Sales attribution: who made each sale, proposed from sales plans and confirmed by a person.

Unconfirmed names show red, confirmed ones green; reports by sales manager count only
confirmed attributions. Every rule about who may name or confirm a manager lives here, so
the API, the pages and the bulk ingest refuse the same things.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ordersight.accounts.selectors import list_sales_managers
from ordersight.catalog.models import Offer
from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, DomainError, Forbidden, Invalid
from ordersight.core.validation import is_id
from ordersight.customers.models import Customer
from ordersight.orders.events import record_event, record_events
from ordersight.orders.models import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    SalesPlanEntry,
)

if TYPE_CHECKING:
    from ordersight.orders.pricing import PreparedOrder

PERMISSION = "orders.manage_sales_attribution"
# Orders confirmed in one transaction by a bulk "Check"; each batch commits on its own, so a
# long list never holds thousands of order locks at once.
CONFIRM_BATCH = 1000
# Orders one request may confirm (the staff list's "Select all matching" bound too).
CONFIRM_LIMIT = 10_000
ATTRIBUTION_FIELDS = ["sales_manager", "sales_confirmed_by", "sales_confirmed_at", "updated_at"]


def _user_label(user: Any) -> str:
    return user.get_username() if user is not None else "system"


def sales_manager_by_id(manager_id: int | None, *, field: str = "manager_id") -> Any:
    """The active Sales manager with this id (None = the system); anyone else is refused."""
    if manager_id is None:
        return None
    user = list_sales_managers().filter(pk=manager_id).first() if is_id(manager_id) else None
    if user is None:
        raise Invalid(
            _("User {manager_id} is not an active sales manager.").format(manager_id=manager_id),
            fields={field: _("not an active sales manager")},
        )
    return user


def check_may_attribute(actor: Actor) -> None:
    """Naming or confirming who made a sale needs the attribution permission."""
    if not actor.has_perm(PERMISSION):
        raise Forbidden(
            _(
                "Your role lacks the permission {permission} needed to change who made a sale."
            ).format(permission=PERMISSION),
            fields={"permission": PERMISSION},
        )


def check_may_name(actor: Actor, prepared: PreparedOrder) -> None:
    """A new order may name its author's own sale; naming anyone else needs the permission."""
    manager = prepared.order.sales_manager
    if prepared.names_manager and (actor.user is None or manager.pk != actor.user.pk):
        check_may_attribute(actor)


def set_unconfirmed(order: Order, manager: Any) -> None:
    """A changed attribution starts over: red until someone with the permission checks it."""
    order.sales_manager = manager
    order.sales_confirmed_by = None
    order.sales_confirmed_at = None


def record_attribution_changed(order: Order, actor: Actor, **payload: Any) -> None:
    record_event(
        order,
        OrderEventKind.SALES_ATTRIBUTION_CHANGED,
        actor,
        manager=_user_label(order.sales_manager),
        **payload,
    )


@retry_on_deadlock
@transaction.atomic
def record_sales_plan_entry(
    *, customer: Customer, offer: Offer, manager_id: int | None, note: str = "", actor: Actor
) -> SalesPlanEntry:
    """Note that the customer paid for the offer through `manager`; propose the attribution
    on the customer's orders of that offer that nobody has attributed or confirmed yet.

    A sales manager records their own sales; naming someone else needs the attribution
    permission, and only an active sales manager can be named. `manager_id` None means
    the actor themself.
    """
    own_id = actor.user.pk if actor.user is not None else None
    manager_id = own_id if manager_id is None else manager_id
    if manager_id is None:
        raise Invalid(_("Name the sales manager."), fields={"manager_id": _("required")})
    if manager_id != own_id:
        check_may_attribute(actor)
    manager = sales_manager_by_id(manager_id)
    entry = SalesPlanEntry.objects.create(
        customer=customer, offer=offer, manager=manager, note=(note or "")[:500]
    )
    # PostgreSQL refuses FOR UPDATE with DISTINCT, so lock by id through a subquery
    # instead of joining the lines directly; in id order, as every writer of many orders
    # locks them.
    orders = (
        Order.objects.select_for_update(no_key=True)
        .filter(
            customer=customer,
            sales_manager__isnull=True,
            sales_confirmed_at__isnull=True,
            pk__in=OrderLine.objects.filter(offer=offer).values("order_id"),
        )
        .order_by("pk")
    )
    for order in orders:
        order.sales_manager = manager
        order.save(update_fields=["sales_manager", "updated_at"])
        record_attribution_changed(order, actor, proposed_by="sales plan")
    return entry


@retry_on_deadlock
@transaction.atomic
def assign_sales_manager(*, order: Order, manager_id: int | None, actor: Actor) -> Order:
    """ "Add user": name who made the sale (None for the system); it awaits confirmation."""
    check_may_attribute(actor)
    manager = sales_manager_by_id(manager_id)
    order = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
    if (
        order.sales_manager_id == (manager.pk if manager else None)
        and order.sales_confirmed_at is None
    ):
        return order
    set_unconfirmed(order, manager)
    order.save(update_fields=ATTRIBUTION_FIELDS)
    record_attribution_changed(order, actor)
    return order


@retry_on_deadlock
@transaction.atomic
def confirm_sales_attribution(*, order: Order, manager_id: int | None, actor: Actor) -> Order:
    """ "Check": confirm who made a sale, a manager (by id) or the system (None)."""
    check_may_attribute(actor)
    manager = sales_manager_by_id(manager_id)
    order = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
    refusal = _not_a_sale(order)
    if refusal is not None:
        raise refusal
    order.sales_manager = manager
    order.sales_confirmed_by = actor.user
    order.sales_confirmed_at = timezone.now()
    order.save(update_fields=ATTRIBUTION_FIELDS)
    record_event(
        order, OrderEventKind.SALES_ATTRIBUTION_CONFIRMED, actor, manager=_user_label(manager)
    )
    return order


def _not_a_sale(order: Order) -> Conflict | None:
    if order.status == OrderStatus.COMPLETED:
        return None
    return Conflict(
        _(
            "Order {number} is {status}; only a sale (a completed "
            "order) has its attribution confirmed."
        ).format(number=order.number, status=order.status),
        fields={"status": order.status},
    )


@dataclass
class CheckResult:
    """What a bulk Check did, by order id: the sales it confirmed, those it found confirmed
    already (left as they were, so who confirmed them stays true) and those it refused."""

    confirmed: list[int] = field(default_factory=list)
    already_confirmed: list[int] = field(default_factory=list)
    refused: dict[int, DomainError] = field(default_factory=dict)


def confirm_sales_attributions(
    *, order_ids: Sequence[int], actor: Actor, unchanged_since: datetime | None = None
) -> CheckResult:
    """ "Check" on many sales at once: confirm each as it is attributed now (its sales
    manager, or the system). Refused: an order that is no sale, one named for someone no
    longer an active sales manager, and, given `unchanged_since` (when the person read the
    list), one whose sales manager was changed after it: they confirm what they saw, not a
    name that came later.

    Set-based: each batch is one lock, one update, one insert of events and one move of the
    report by sales manager's figures, where Check one by one took a transaction and a
    recount per order. Each batch commits on its own, unless the caller's transaction
    holds them all (a request with an Idempotency-Key): then every order is locked first,
    in id order, so that no order is locked after the customers and figures a batch took."""
    check_may_attribute(actor)
    ids = sorted(set(order_ids))
    if transaction.get_connection().in_atomic_block:
        list(
            Order.objects.select_for_update(no_key=True)
            .filter(pk__any=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    result = CheckResult()
    for start in range(0, len(ids), CONFIRM_BATCH):
        _confirm_batch(ids[start : start + CONFIRM_BATCH], actor, unchanged_since, result)
    return result


@retry_on_deadlock
@transaction.atomic
def _confirm_batch(
    ids: Sequence[int], actor: Actor, unchanged_since: datetime | None, result: CheckResult
) -> None:
    # Locked in id order, as every writer of many orders locks them.
    orders = list(
        Order.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__any=ids)
        .order_by("pk")
        .select_related("sales_manager")
    )
    named = {order.sales_manager_id for order in orders} - {None}
    active = set(list_sales_managers().filter(pk__in=named).values_list("pk", flat=True))
    renamed: set[int] = set()
    if unchanged_since is not None:
        renamed = set(
            OrderEvent.objects.filter(
                order_id__any=[order.pk for order in orders],
                kind=OrderEventKind.SALES_ATTRIBUTION_CHANGED,
                created_at__gt=unchanged_since,
            ).values_list("order_id", flat=True)
        )
    confirmed: list[Order] = []
    for order in orders:
        if order.sales_confirmed_at is not None:
            result.already_confirmed.append(order.pk)
            continue
        refusal = _not_a_sale(order)
        if refusal is None and order.sales_manager_id not in active | {None}:
            refusal = Invalid(
                _("{user} is not an active sales manager.").format(
                    user=_user_label(order.sales_manager)
                ),
                fields={"manager_id": _("not an active sales manager")},
            )
        if refusal is None and order.pk in renamed:
            refusal = Conflict(
                _(
                    "The sales manager of order {number} was changed after the list was "
                    "read; look at it again."
                ).format(number=order.number),
                fields={"sales_manager": _("changed after the list was read")},
            )
        if refusal is None:
            confirmed.append(order)
        else:
            result.refused[order.pk] = refusal
    if not confirmed:
        return
    now = timezone.now()
    for order in confirmed:
        order.sales_confirmed_by = actor.user
        order.sales_confirmed_at = now
        order.updated_at = now
    Order.objects.filter(pk__any=[order.pk for order in confirmed]).update(
        sales_confirmed_by=actor.user, sales_confirmed_at=now, updated_at=now
    )
    record_events(
        (
            (
                order,
                OrderEventKind.SALES_ATTRIBUTION_CONFIRMED,
                {"manager": _user_label(order.sales_manager)},
            )
            for order in confirmed
        ),
        actor,
    )
    result.confirmed.extend(order.pk for order in confirmed)
