"""Reads of recurring orders: the tab's list (also its API and CSV), one order, its children."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ordersight.core.csv_stream import IsoTimestamp, money_text, neutralised
from ordersight.core.errors import NotFound
from ordersight.core.lists import ListSpec
from ordersight.core.validation import is_id
from ordersight.orders.models import Order
from ordersight.payments.models import Invoice
from ordersight.subscriptions.filters import RecurringOrderFilterSet
from ordersight.subscriptions.models import ChargeAttempt, RecurringOrder, RecurringStatus


def _base() -> QuerySet[RecurringOrder]:
    # The tab lists recurring orders once their initial order is paid (or failed later).
    return RecurringOrder.objects.filter(started_at__isnull=False).select_related(
        "customer", "offer", "payment_system"
    )


RECURRING_LIST = ListSpec(
    name="recurring orders",
    filterset=RecurringOrderFilterSet,
    base=_base,
    sorts={
        "number": "number",
        "amount": "amount",
        "started_at": "started_at",
        "payments_made": "payments_made",
    },
    default_sort="-number",
    columns=(
        ("number", "number"),
        ("status", "status"),
        ("customer_id", "customer_id"),
        ("customer_name", neutralised("customer__name")),
        ("offer_number", "offer__number"),
        ("offer_name", neutralised("offer__name")),
        ("amount", money_text("amount")),
        ("currency", "currency"),
        ("interval_count", "interval_count"),
        ("interval_unit", "interval_unit"),
        ("total_payments", "total_payments"),
        ("payments_made", "payments_made"),
        ("started_at", IsoTimestamp("started_at")),
        ("next_payment_at", IsoTimestamp("next_payment_at")),
    ),
    filename="recurring-orders.csv",
)

# Statuses a person may move a recurring order out of (pause, activate, complete).
MANAGEABLE = (RecurringStatus.ACTIVE, RecurringStatus.PAUSED, RecurringStatus.FAILED)


def get_recurring_order(*, number: int) -> RecurringOrder:
    found = (
        RecurringOrder.objects.select_related("customer", "offer", "payment_system")
        .filter(number=number)
        .first()
        if is_id(number)
        else None
    )
    if found is None:
        raise NotFound(
            _("No recurring order {number}.").format(number=number),
            fields={"number": _("not found")},
        )
    return found


def child_orders(*, recurring: RecurringOrder) -> list[Order]:
    """Its orders, the initial one first, then each payment's in order."""
    ids = (
        ChargeAttempt.objects.filter(recurring_order=recurring, order__isnull=False)
        .order_by("cycle", "attempt")
        .values_list("order_id", flat=True)
    )
    ordered = list(dict.fromkeys(ids))
    orders = Order.objects.in_bulk(ordered)
    invoices: dict[int, Invoice] = {}
    for invoice in (
        Invoice.objects.filter(order_id__in=ordered)
        .select_related("payment_system")
        .order_by("order_id", "-number")
    ):
        invoices.setdefault(invoice.order_id, invoice)
    children = []
    for pk in ordered:
        order = orders[pk]
        order.last_invoice = invoices.get(pk)
        children.append(order)
    return children


def recurring_orders_of(*, customer_id: int) -> QuerySet[RecurringOrder]:
    return _base().filter(customer_id=customer_id).order_by("-number")
