"""Sales attribution: who made each sale, proposed from sales plans and confirmed by a person.

Unconfirmed names show red, confirmed ones green; reports by sales manager count only
confirmed attributions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ordersight.catalog.models import Offer
from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict, Invalid
from ordersight.customers.models import Customer
from ordersight.orders.events import record_event
from ordersight.orders.models import Order, OrderEventKind, OrderLine, OrderStatus, SalesPlanEntry

PERMISSION = "orders.manage_sales_attribution"


def _user_label(user: Any) -> str:
    return user.get_username() if user is not None else "system"


def manager_by_id(manager_id: int | None, *, field: str = "manager_id") -> Any:
    if manager_id is None:
        return None
    user = get_user_model().objects.filter(pk=manager_id, is_active=True).first()
    if user is None:
        raise Invalid(f"No active user {manager_id}.", fields={field: "unknown user"})
    return user


@transaction.atomic
def record_sales_plan_entry(
    *, customer: Customer, offer: Offer, manager: Any, note: str = "", actor: Actor
) -> SalesPlanEntry:
    """Note that the customer paid for the offer through `manager`; propose the attribution
    on the customer's orders of that offer that nobody has attributed or confirmed yet."""
    entry = SalesPlanEntry.objects.create(
        customer=customer, offer=offer, manager=manager, note=(note or "")[:500]
    )
    # PostgreSQL refuses FOR UPDATE with DISTINCT, so lock by id through a subquery
    # instead of joining the lines directly.
    orders = Order.objects.select_for_update().filter(
        customer=customer,
        sales_manager__isnull=True,
        sales_confirmed_at__isnull=True,
        pk__in=OrderLine.objects.filter(offer=offer).values("order_id"),
    )
    for order in orders:
        order.sales_manager = manager
        order.save(update_fields=["sales_manager", "updated_at"])
        record_event(
            order,
            OrderEventKind.SALES_ATTRIBUTION_CHANGED,
            actor,
            manager=_user_label(manager),
            proposed_by="sales plan",
        )
    return entry


def proposed_manager(customer_id: int | None, offer_ids: set[int]) -> Any:
    """The manager a sales plan names for this customer and any of these offers, if any."""
    if customer_id is None or not offer_ids:
        return None
    entry = (
        SalesPlanEntry.objects.select_related("manager")
        .filter(customer_id=customer_id, offer_id__in=offer_ids)
        .first()
    )
    return entry.manager if entry else None


@transaction.atomic
def assign_sales_manager(*, order: Order, manager: Any, actor: Actor) -> Order:
    """ "Add user": name who made the sale (None for the system); it awaits confirmation."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if (
        order.sales_manager_id == (manager.pk if manager else None)
        and order.sales_confirmed_at is None
    ):
        return order
    order.sales_manager = manager
    order.sales_confirmed_by = None
    order.sales_confirmed_at = None
    order.save(
        update_fields=["sales_manager", "sales_confirmed_by", "sales_confirmed_at", "updated_at"]
    )
    record_event(
        order, OrderEventKind.SALES_ATTRIBUTION_CHANGED, actor, manager=_user_label(manager)
    )
    return order


@transaction.atomic
def confirm_sales_attribution(*, order: Order, manager: Any, actor: Actor) -> Order:
    """ "Check": confirm who made a sale, a manager or the system."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.COMPLETED:
        raise Conflict(
            f"Order {order.number} is {order.status}; only a sale (a completed "
            "order) has its attribution confirmed.",
            fields={"status": order.status},
        )
    order.sales_manager = manager
    order.sales_confirmed_by = actor.user
    order.sales_confirmed_at = timezone.now()
    order.save(
        update_fields=["sales_manager", "sales_confirmed_by", "sales_confirmed_at", "updated_at"]
    )
    record_event(
        order, OrderEventKind.SALES_ATTRIBUTION_CONFIRMED, actor, manager=_user_label(manager)
    )
    return order


def sales_plan_offer_ids(order: Order) -> set[int]:
    return set(
        OrderLine.objects.filter(order=order, offer__isnull=False).values_list(
            "offer_id", flat=True
        )
    )
