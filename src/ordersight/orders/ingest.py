"""Bulk ingest: create or update many orders by (source, external id), a result per item.

A re-sent order is held to the same rules as the one-by-one services: its status moves
through the transition table (with the same permissions), naming another sales manager needs
the attribution permission and clears the confirmation, and replaced lines are a lifecycle
moment, so payments recompute the order's payment state as on any other path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ordersight.core.actors import Actor
from ordersight.core.bulk import ItemResult, insert_rows
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Forbidden, Invalid
from ordersight.core.money import round_money
from ordersight.orders import attribution
from ordersight.orders.events import record_event, record_events
from ordersight.orders.models import Order, OrderEventKind, OrderLine
from ordersight.orders.pricing import (
    LINE_COLUMNS,
    LINE_SUMMARY_FIELDS,
    Lookups,
    OrderInput,
    PreparedOrder,
    PricedLine,
    line_rows,
    prepare_order,
)
from ordersight.orders.services import created_payload, save_new_orders, transition_order
from ordersight.orders.transitions import LINES_EDITABLE, check_may_reach


def _lines_signature(lines: Sequence[OrderLine | PricedLine]) -> list[tuple]:
    return [(ln.sku, ln.name, ln.unit_price, ln.quantity, ln.discount) for ln in lines]


def _replace_lines(existing: Order, new: PreparedOrder) -> None:
    incoming = new.order
    existing.lines.all().delete()
    insert_rows(OrderLine, LINE_COLUMNS, line_rows(existing.pk, new.lines))
    for name in ("currency", "subtotal", "discount_total", "total", *LINE_SUMMARY_FIELDS):
        setattr(existing, name, getattr(incoming, name))


def _apply_ingested(existing: Order, new: PreparedOrder, actor: Actor) -> bool:
    """Bring a stored order in line with a re-sent one; True if anything changed.

    The row is saved before the events are recorded, so lifecycle handlers (payments
    recomputing the paid state) see the order as it now is; a status the input changes is
    then moved through `transition_order`, judged on that fresh state. The caller's
    savepoint undoes everything if a rule refuses.
    """
    incoming = new.order
    changed: dict[str, Any] = {}
    for name in ("order_type", "notes", "metadata", "coupon_code", "referral_code"):
        if getattr(existing, name) != getattr(incoming, name):
            changed[name] = getattr(incoming, name)
    if existing.customer_id != incoming.customer_id:
        changed["customer"] = incoming.customer
    # Only a manager the input names changes the attribution; a re-sent order that names
    # nobody keeps whoever was attributed (and confirmed) here.
    manager_changes = new.names_manager and existing.sales_manager_id != incoming.sales_manager_id
    if manager_changes:
        attribution.check_may_attribute(actor)
    lines_differ = _lines_signature(existing.lines.all()) != _lines_signature(new.lines)
    lines_differ = lines_differ or existing.currency != incoming.currency
    if lines_differ and existing.status not in LINES_EDITABLE:
        raise Conflict(
            _("Order {number} is {status}; its items can no longer change.").format(
                number=existing.number, status=existing.status
            ),
            fields={"lines": _("order is {status}").format(status=existing.status)},
        )
    status_to = incoming.status if incoming.status != existing.status else None
    if not (changed or lines_differ or status_to or manager_changes):
        return False
    for name, value in changed.items():
        setattr(existing, name, value)
    if manager_changes:
        attribution.set_unconfirmed(existing, incoming.sales_manager)
    previous_total, previous_currency = existing.total, existing.currency
    if lines_differ:
        _replace_lines(existing, new)
    existing.save()
    if lines_differ:
        record_event(
            existing,
            OrderEventKind.LINES_REPLACED,
            actor,
            total=str(round_money(existing.total, existing.currency)),
            # What the order's pending invoices follow (payments' lifecycle handler).
            previous_total=str(previous_total),
            previous_currency=previous_currency,
        )
    if manager_changes:
        attribution.record_attribution_changed(existing, actor)
    if changed:
        record_event(existing, OrderEventKind.UPDATED, actor, changed=sorted(changed))
    if status_to and Order.objects.get(pk=existing.pk).status != status_to:
        transition_order(order=existing, to=status_to, actor=actor)
    return True


@retry_on_deadlock
def upsert_orders(*, items: Sequence[OrderInput | Invalid], actor: Actor) -> list[ItemResult]:
    """Create or update many orders by (source, external id); one result per item.

    Items that fail validation are reported and skipped; the valid ones are written in one
    transaction, so a replayed batch creates nothing twice. If another writer inserts one of
    the same orders meanwhile, the batch is retried once and then finds it as an update.
    """
    try:
        return _upsert(items, actor)
    except IntegrityError:
        return _upsert(items, actor)


def _locked_existing(valid: Sequence[OrderInput]) -> dict[tuple[str, str], Order]:
    keys = {(item.source, item.external_id) for item in valid if item.external_id}
    if not keys:
        return {}
    # In id order, as every batch locks them, so two batches re-sending some of the same
    # orders never wait for each other in a circle.
    found = (
        Order.objects.select_for_update(no_key=True)
        .filter(source__in={s for s, _unused in keys}, external_id__in={e for _unused, e in keys})
        .order_by("pk")
    )
    return {(o.source, o.external_id): o for o in found if (o.source, o.external_id) in keys}


@transaction.atomic
def _upsert(items: Sequence[OrderInput | Invalid], actor: Actor) -> list[ItemResult]:
    results: list[ItemResult] = []
    valid = [item for item in items if isinstance(item, OrderInput)]
    lookups = Lookups.load(valid)
    existing = _locked_existing(valid)
    seen: set[tuple[str, str]] = set()
    to_create: list[tuple[ItemResult, PreparedOrder]] = []
    for index, item in enumerate(items):
        result = ItemResult(index=index, result="error")
        results.append(result)
        if isinstance(item, Invalid):
            result.message, result.fields = item.message, item.fields
            continue
        result.external_id = item.external_id
        key = (item.source, item.external_id or "")
        if not item.external_id:
            result.message = "Bulk ingest needs an external_id to upsert by."
            result.fields = {"external_id": "required"}
            continue
        if key in seen:
            result.message = "The same order appears twice in this batch."
            result.fields = {"external_id": "duplicate in batch"}
            continue
        seen.add(key)
        try:
            prepared = prepare_order(item, lookups)
            if key in existing:
                with transaction.atomic():
                    changed = _apply_ingested(existing[key], prepared, actor)
                result.result = "updated" if changed else "unchanged"
                result.number = existing[key].number
            else:
                attribution.check_may_name(actor, prepared)
                check_may_reach(prepared.order, prepared.order.status, actor)
                to_create.append((result, prepared))
        except (Invalid, Conflict, Forbidden) as exc:
            result.message, result.fields = exc.message, exc.fields
    if to_create:
        orders = save_new_orders(prepared=[prepared for _unused, prepared in to_create])
        for (result, _unused), order in zip(to_create, orders, strict=True):
            result.result, result.number = "created", order.number
        record_events(
            ((order, OrderEventKind.IMPORTED, created_payload(order=order)) for order in orders),
            actor,
        )
    return results
