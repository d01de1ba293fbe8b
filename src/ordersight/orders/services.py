"""Every write to one order: create, update, move along the transition table, fulfil.

The rule "which status may follow which, and who may make the move" is in
`orders/transitions.py`; nothing else changes `Order.status`. Pricing is in `pricing.py`,
bulk ingest in `ingest.py`, sales attribution in `attribution.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.core.actors import Actor
from ordersight.core.bulk import insert_many, insert_rows
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid
from ordersight.core.money import round_money
from ordersight.core.sequences import reserve_numbers
from ordersight.core.validation import clean_code, clean_metadata
from ordersight.orders import attribution
from ordersight.orders.choices import is_built_in, order_type_values
from ordersight.orders.events import record_event
from ordersight.orders.models import (
    ChoiceKind,
    FulfillmentStatus,
    Order,
    OrderChoice,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from ordersight.orders.pricing import (
    LINE_COLUMNS,
    NOTES_MAX,
    Lookups,
    OrderInput,
    PreparedOrder,
    line_rows,
    prepare_order,
)
from ordersight.orders.transitions import (
    CREATE_STATUSES,
    FULFILLABLE,
    LINES_EDITABLE,
    check_transition,
)

ORDER_NUMBER_START = 1001


def save_new_orders(*, prepared: Sequence[PreparedOrder]) -> list[Order]:
    """Number and insert new orders with their lines (COPY on PostgreSQL)."""
    numbers = reserve_numbers("order", len(prepared), start=ORDER_NUMBER_START)
    orders = []
    for number, item in zip(numbers, prepared, strict=True):
        item.order.number = number
        orders.append(item.order)
    insert_many(Order, orders, batch_size=500)
    insert_rows(
        OrderLine, LINE_COLUMNS, (row for o in prepared for row in line_rows(o.order.pk, o.lines))
    )
    return orders


def created_payload(*, order: Order) -> dict[str, Any]:
    return {
        "status": order.status,
        "total": str(round_money(order.total, order.currency)),
        "currency": order.currency,
        "source": order.source,
    }


@retry_on_deadlock
@transaction.atomic
def create_order(*, data: OrderInput, actor: Actor) -> Order:
    """Create one order from catalog SKUs and free lines; the server computes the totals."""
    if data.status not in CREATE_STATUSES:
        raise Invalid(
            _("A new order starts as draft or open."),
            fields={"status": _("must be draft or open")},
        )
    prepared = prepare_order(data, Lookups.load([data]))
    attribution.check_may_name(actor, prepared)
    # The unique (source, external_id) constraint is the check: a query asking first
    # would cost every order a round trip and still lose to a concurrent insert.
    try:
        with transaction.atomic():
            (order,) = save_new_orders(prepared=[prepared])
    except IntegrityError:
        if not data.external_id:
            raise
        raise Conflict(
            _(
                "An order from {source} with external id {external_id} exists; "
                "use bulk ingest to upsert."
            ).format(source=data.source, external_id=data.external_id),
            fields={"external_id": _("already exists")},
        ) from None
    record_event(order, OrderEventKind.CREATED, actor, **created_payload(order=order))
    return order


def prepare_orders(*, data: Sequence[OrderInput], actor: Actor) -> list[PreparedOrder]:
    """Validate a batch of new orders and build their unsaved rows, all or none: an invalid
    one raises Invalid with its fields prefixed by its index."""
    lookups = Lookups.load(data)
    prepared = []
    for index, item in enumerate(data):
        if item.status not in CREATE_STATUSES:
            raise Invalid(
                _("A new order starts as draft or open."),
                fields={f"[{index}].status": _("must be draft or open")},
            )
        try:
            ready = prepare_order(item, lookups)
            attribution.check_may_name(actor, ready)
        except Invalid as exc:
            fields = {f"[{index}].{name}": problem for name, problem in exc.fields.items()}
            raise Invalid(exc.message, fields=fields) from None
        prepared.append(ready)
    return prepared


def lock_order(*, order: Order) -> Order:
    """The order's row, locked for the rest of the transaction. Lock orders before invoices."""
    return Order.objects.select_for_update(no_key=True).get(pk=order.pk)


@retry_on_deadlock
@transaction.atomic
def transition_order(*, order: Order, to: str, actor: Actor, reason: str = "") -> Order:
    """Move an order along the transition table, if the actor may (see transitions.py)."""
    order = lock_order(order=order)
    check_transition(order, to, actor)
    previous = order.status
    order.status = to
    order.save(update_fields=["status", "updated_at"])
    payload: dict[str, Any] = {"from": previous, "to": to}
    if reason:
        payload["reason"] = reason[:500]
    record_event(order, OrderEventKind.STATUS_CHANGED, actor, **payload)
    return order


PAID_IN_FULL = "paid in full"


def complete_paid_orders(
    *, orders: Sequence[Order], actor: Actor, saved: bool = True
) -> list[dict[str, Any]]:
    """A batch of open orders a gateway charged in full moves to paid and completed along
    the transition table, as `transition_order` moves one whose payment completes it. The
    orders are locked and read by the caller (`saved`; a row moved since it was read fails
    the batch with Conflict), or new and not inserted yet (`saved=False`: their row is
    written once, as it ends up). Returns each order's status event payload,
    in the orders' order, for the caller to record after its payment events (a batch
    records its events in one statement)."""
    moved = []
    for order in orders:
        order.payment_status = PaymentStatus.PAID
        check_transition(order, OrderStatus.COMPLETED, actor)
        moved.append({"from": order.status, "to": OrderStatus.COMPLETED, "reason": PAID_IN_FULL})
        order.status = OrderStatus.COMPLETED
    if saved and orders:
        # Only rows still in a status judged: were one moved since its caller read it
        # (cancelled), the batch fails rather than completing it.
        judged = {move["from"] for move in moved}
        rows = Order.objects.filter(pk__any=[order.pk for order in orders], status__in=judged)
        updated = rows.update(
            status=OrderStatus.COMPLETED,
            payment_status=PaymentStatus.PAID,
            updated_at=timezone.now(),
        )
        if updated != len(orders):
            raise Conflict(_("An order of the batch changed while it was being completed."))
    return moved


@retry_on_deadlock
@transaction.atomic
def confirm_order(*, order: Order, actor: Actor) -> Order:
    """Confirm: complete an order with partial payments, making it a sale though not paid
    in full (needs the permission to confirm partial payments)."""
    order = lock_order(order=order)
    if not order.can_be_confirmed:
        raise Conflict(
            _(
                "Order {number} is {status} and {payment_status}; only a draft or open order "
                "with partial payments is confirmed by hand."
            ).format(
                number=order.number,
                status=order.status,
                payment_status=order.payment_status.replace("_", " "),
            ),
            fields={"payment_status": order.payment_status},
        )
    return transition_order(
        order=order, to=OrderStatus.COMPLETED, actor=actor, reason="confirmed with partial payments"
    )


@retry_on_deadlock
@transaction.atomic
def fulfil_order(*, order: Order, actor: Actor) -> Order:
    order = lock_order(order=order)
    if order.fulfillment_status == FulfillmentStatus.FULFILLED:
        raise Conflict(
            _("Order {number} is already fulfilled.").format(number=order.number),
            fields={"fulfillment_status": order.fulfillment_status},
        )
    if order.status not in FULFILLABLE:
        raise Conflict(
            _("Order {number} is {status}; it cannot be fulfilled.").format(
                number=order.number, status=order.status
            ),
            fields={"status": order.status},
        )
    order.fulfillment_status = FulfillmentStatus.FULFILLED
    order.save(update_fields=["fulfillment_status", "updated_at"])
    record_event(order, OrderEventKind.FULFILLED, actor)
    return order


def _clean_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    updates: dict[str, Any] = {}
    if "metadata" in changes:
        try:
            updates["metadata"] = clean_metadata(changes["metadata"])
        except Invalid as exc:
            errors.update(exc.fields)
    if "notes" in changes:
        notes = changes["notes"] or ""
        if len(notes) > NOTES_MAX:
            errors["notes"] = ngettext(
                "at most {count} character", "at most {count} characters", NOTES_MAX
            ).format(count=NOTES_MAX)
        updates["notes"] = notes
    for name in ("coupon_code", "referral_code"):
        if name in changes:
            try:
                updates[name] = clean_code(changes[name], field=name)
            except Invalid as exc:
                errors.update(exc.fields)
    if "order_type" in changes:
        allowed = order_type_values()
        if changes["order_type"] not in allowed:
            errors["order_type"] = _("must be one of {choices}").format(choices=", ".join(allowed))
        updates["order_type"] = changes["order_type"]
    if errors:
        raise Invalid(_("The changes are not valid."), fields=errors)
    return updates


@retry_on_deadlock
@transaction.atomic
def update_order(*, order: Order, changes: Mapping[str, Any], actor: Actor) -> Order:
    """Change an order's metadata, notes, type or codes; fields left out keep their values."""
    order = lock_order(order=order)
    diff: dict[str, Any] = {}
    for name, value in _clean_changes(changes).items():
        old = getattr(order, name)
        if old == value:
            continue
        if name == "metadata":
            diff[name] = {
                "set": sorted(k for k in value if old.get(k) != value[k]),
                "removed": sorted(k for k in old if k not in value),
            }
        else:
            diff[name] = {"from": old, "to": value}
        setattr(order, name, value)
    if diff:
        order.save(update_fields=[*diff, "updated_at"])
        record_event(order, OrderEventKind.UPDATED, actor, changed=diff)
    return order


@retry_on_deadlock
@transaction.atomic
def apply_discounts(
    *,
    order: Order,
    discounts: Mapping[int, Decimal],
    actor: Actor,
    code: str = "",
) -> Order:
    """Take `discounts` (by line position) off the lines of an order that has taken no money
    yet, and record it (a lifecycle moment like new lines: payments, figures and reports
    follow). `code` is kept as the order's coupon code when it has none."""
    order = lock_order(order=order)
    if order.status not in LINES_EDITABLE or order.has_ever_captured_money:
        raise Conflict(
            _(
                "Order {number} is {status} ({payment_status}); a discount "
                "applies only before any payment."
            ).format(number=order.number, status=order.status, payment_status=order.payment_status),
            fields={"order": order.status},
        )
    lines = {line.position: line for line in order.lines.all()}
    unknown = sorted(set(discounts) - set(lines))
    if unknown:
        raise Invalid(
            _("No such line."),
            fields={"lines": _("no line at position {position}").format(position=unknown[0])},
        )
    for position, amount in discounts.items():
        line = lines[position]
        if amount < 0 or amount > line.total:
            raise Invalid(
                _("A discount cannot exceed the line."),
                fields={f"lines[{position}]": _("between 0 and {total}").format(total=line.total)},
            )
        line.discount += amount
        line.total -= amount
    OrderLine.objects.bulk_update(list(lines.values()), ["discount", "total"])
    previous_total = order.total
    taken = sum(discounts.values(), Decimal(0))
    order.discount_total += taken
    order.total -= taken
    if code and not order.coupon_code:
        order.coupon_code = code
    order.save()
    record_event(
        order,
        OrderEventKind.DISCOUNT_APPLIED,
        actor,
        code=code,
        amount=str(round_money(taken, order.currency)),
        total=str(round_money(order.total, order.currency)),
        # What the order's pending invoices follow (payments' lifecycle handler).
        previous_total=str(previous_total),
    )
    return order


CHOICE_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")


@retry_on_deadlock
@transaction.atomic
def add_order_choice(*, kind: str, value: str, label: str, actor: Actor) -> OrderChoice:
    """Add a source or an order type of the account's own."""
    errors: dict[str, str] = {}
    if kind not in ChoiceKind.values:
        errors["kind"] = _("must be one of {choices}").format(choices=", ".join(ChoiceKind.values))
    value = (value or "").strip()
    if not CHOICE_VALUE.match(value):
        errors["value"] = _(
            "1 to 20 lowercase letters, digits, - or _, starting with a letter or digit"
        )
    label = (label or "").strip()
    if not 0 < len(label) <= 100:
        errors["label"] = _("1 to 100 characters")
    if errors:
        raise Invalid(_("The choice is not valid."), fields=errors)
    if (
        is_built_in(ChoiceKind(kind), value)
        or OrderChoice.objects.filter(kind=kind, value=value).exists()
    ):
        raise Conflict(
            _("{value} already exists.").format(value=repr(value)),
            fields={"value": _("already exists")},
        )
    return OrderChoice.objects.create(kind=kind, value=value, label=label)
