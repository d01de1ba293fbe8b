"""Orders API: create, read, list, update, transitions, activity, bulk ingest, CSV export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Body, Query, Router, Schema, Status
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from ordersight.accounts.auth import can_read, can_write
from ordersight.api.lists import BulkOut, answer, answered_page, bulk_out, list_export
from ordersight.api.order_schemas import (
    ORDER_ROW_FIELDS,
    BulkIn,
    EventOut,
    OrderIn,
    OrderOut,
    OrderRow,
    OrderUpdateIn,
    TransitionIn,
    event_out,
    orders_out,
)
from ordersight.core.bulk import ItemResult
from ordersight.core.errors import Invalid
from ordersight.core.validation import validation_fields
from ordersight.http.query_schemas import query_schema
from ordersight.http.schemas import PageOut, StrictIn, error_responses, slug, text
from ordersight.orders import attribution, choices, ingest, selectors, services
from ordersight.orders.filters import OrderFilterSet
from ordersight.orders.models import ChoiceKind, Order, OrderStatus
from ordersight.orders.pricing import OrderInput

router = Router(tags=["orders"])
OrderListQuery = query_schema(
    OrderFilterSet,
    "OrderListQuery",
    sorts=selectors.ORDER_LIST.sorts,
    documented_choices={kind.value: choices.BUILT_IN[kind].values for kind in ChoiceKind},
)
ERRORS = error_responses()


@router.post("/orders", response={201: OrderOut, **ERRORS}, auth=can_write("orders.add_order"))
def create_order(request: HttpRequest, payload: OrderIn):
    actor = request.actor
    order = services.create_order(data=payload.to_input(), actor=actor)
    # Read back as one order is read (GET /orders/{number}), so the two answers agree;
    # a new order has no invoice yet (the first is issued by a later request), so its
    # invoices are not looked for.
    return _read_back(order.number, invoiced=False, status=201)


@router.get(
    "/orders", response={200: PageOut[OrderOut], **ERRORS}, auth=can_read("orders.view_order")
)
def list_orders(request: HttpRequest, params: Query[OrderListQuery]):
    return answered_page(request, selectors.ORDER_LIST, params, orders_out, ORDER_ROW_FIELDS)


@router.get(
    "/orders/export.csv", response={200: None, **ERRORS}, auth=can_read("orders.view_order")
)
def export_orders(request: HttpRequest, params: Query[OrderListQuery]) -> StreamingHttpResponse:
    """The filtered orders as CSV, streamed; cells that would start a formula are neutralised."""
    return list_export(request, selectors.ORDER_LIST, params)


@router.post("/orders/bulk", response={200: BulkOut, **ERRORS}, auth=can_write("orders.add_order"))
def bulk_ingest(request: HttpRequest, payload: BulkIn):
    """Create or update up to 1,000 orders by (source, external_id); a result per item."""
    actor = request.actor
    items: list[OrderInput | Invalid] = []
    for raw in payload.orders:
        try:
            items.append(OrderIn.model_validate(raw).to_input())
        except PydanticValidationError as exc:
            fields = validation_fields(exc.errors())
            items.append(Invalid(f"Invalid input: {', '.join(sorted(fields))}.", fields=fields))
    return bulk_out(ingest.upsert_orders(items=items, actor=actor))


@router.get(
    "/orders/{int:number}", response={200: OrderOut, **ERRORS}, auth=can_read("orders.view_order")
)
def get_order(request: HttpRequest, number: int):
    return _read_back(number)


def _order_to_change(number: int) -> Order:
    # The services lock the order and read what they need: its details are not prefetched.
    return selectors.get_order(number=number, details=False)


def _read_back(number: int, *, invoiced: bool = True, status: int = 200) -> Any:
    """The order as GET /orders/{number} answers it (also after a change): one query for
    the order's columns, then its lines, its invoices and their refunds (see `orders_out`
    for `invoiced`)."""
    row = selectors.get_order_row(number=number, fields=ORDER_ROW_FIELDS)
    return answer(orders_out([OrderRow._make(row)], invoiced=invoiced)[0], status=status)


@router.patch(
    "/orders/{int:number}",
    response={200: OrderOut, **ERRORS},
    auth=can_write("orders.change_order"),
)
def update_order(request: HttpRequest, number: int, payload: OrderUpdateIn):
    actor = request.actor
    changes = payload.model_dump(exclude_unset=True)
    services.update_order(order=_order_to_change(number), changes=changes, actor=actor)
    return _read_back(number)


def _transition(request: HttpRequest, number: int, to: str, reason: str) -> dict:
    actor = request.actor
    order = _order_to_change(number)
    services.transition_order(order=order, to=to, actor=actor, reason=reason)
    return _read_back(number)


@router.post(
    "/orders/{int:number}/complete",
    response={200: OrderOut, **ERRORS},
    auth=can_write("orders.change_order"),
)
def complete_order(request: HttpRequest, number: int, payload: TransitionIn = Body(None)):
    """Complete the order (a sale). One not paid in full needs the permission to confirm
    partial payments, exactly as Confirm does."""
    return _transition(request, number, OrderStatus.COMPLETED, payload.reason if payload else "")


@router.post(
    "/orders/{int:number}/decline",
    response={200: OrderOut, **ERRORS},
    auth=can_write("orders.change_order"),
)
def decline_order(request: HttpRequest, number: int, payload: TransitionIn = Body(None)):
    """Decline the order; its pending invoices fail. Declining an order that took money
    needs the permission to confirm or decline partial payments."""
    return _transition(request, number, OrderStatus.DECLINED, payload.reason if payload else "")


@router.post(
    "/orders/{int:number}/confirm",
    response={200: OrderOut, **ERRORS},
    auth=can_write("orders.change_order"),
)
def confirm_order(request: HttpRequest, number: int):
    """Mark an order with partial payments as completed (a sale)."""
    actor = request.actor
    services.confirm_order(order=_order_to_change(number), actor=actor)
    return _read_back(number)


@router.post(
    "/orders/{int:number}/cancel",
    response={200: OrderOut, **ERRORS},
    auth=can_write("orders.change_order"),
)
def cancel_order(request: HttpRequest, number: int, payload: TransitionIn = Body(None)):
    return _transition(request, number, OrderStatus.CANCELLED, payload.reason if payload else "")


@router.post(
    "/orders/{int:number}/fulfil",
    response={200: OrderOut, **ERRORS},
    auth=can_write("orders.change_order"),
)
def fulfil_order(request: HttpRequest, number: int):
    actor = request.actor
    services.fulfil_order(order=_order_to_change(number), actor=actor)
    return _read_back(number)


@router.get(
    "/orders/{int:number}/events",
    response={200: list[EventOut], **ERRORS},
    auth=can_read("orders.view_order"),
)
def order_events(request: HttpRequest, number: int):
    """The order's activity, oldest first."""
    order = selectors.get_order(number=number, details=False)
    return [event_out(e) for e in selectors.list_order_events(order=order)]


class AttributionIn(StrictIn):
    manager_id: int | None = Field(None, description="The user who made the sale; null = system")


def _attribute(
    request: HttpRequest, number: int, payload: AttributionIn, service: Callable[..., Any]
) -> dict[str, Any]:
    actor = request.actor
    service(order=_order_to_change(number), manager_id=payload.manager_id, actor=actor)
    return _read_back(number)


@router.post(
    "/orders/{int:number}/sales-attribution",
    response={200: OrderOut, **ERRORS},
    auth=can_write(attribution.PERMISSION),
)
def assign_sales_manager(request: HttpRequest, number: int, payload: AttributionIn):
    """ "Add user": name who made the sale; it shows red until confirmed."""
    return _attribute(request, number, payload, attribution.assign_sales_manager)


class ConfirmAttributionsIn(StrictIn):
    numbers: list[int] = Field(
        ...,
        min_length=1,
        max_length=attribution.CONFIRM_LIMIT,
        description=f"The orders' numbers, at most {attribution.CONFIRM_LIMIT:,}",
    )
    unchanged_since: datetime | None = Field(
        None,
        description="When you read these sales: one whose sales manager was changed after "
        "this is refused rather than confirmed for a name you did not see",
    )


@router.post(
    "/orders/sales-attribution/confirm",
    response={200: BulkOut, **ERRORS},
    auth=can_write(attribution.PERMISSION),
)
def confirm_sales_attributions(request: HttpRequest, payload: ConfirmAttributionsIn):
    """ "Check" in bulk: confirm each sale as it is attributed now (its sales manager, or the
    system). A result per number: updated (confirmed now), unchanged (already confirmed) or
    error (no such order, not a sale, a manager who is no longer one, changed since
    `unchanged_since`, or the number sent twice)."""
    ids = selectors.order_ids_by_number(numbers=payload.numbers)
    done = attribution.confirm_sales_attributions(
        order_ids=list(ids.values()),
        actor=request.actor,
        unchanged_since=payload.unchanged_since,
    )
    confirmed = set(done.confirmed)
    results, seen = [], set()
    for index, number in enumerate(payload.numbers):
        result = ItemResult(index=index, number=number)
        pk = ids.get(number)
        if number in seen:
            result.message = _("Order {number} is named twice in this request.").format(
                number=number
            )
            result.fields = {"number": _("duplicate in request")}
        elif pk is None:
            result.message = _("No order {number}.").format(number=number)
            result.fields = {"number": _("not found")}
        elif pk in done.refused:
            result.message, result.fields = done.refused[pk].message, done.refused[pk].fields
        else:
            result.result = "updated" if pk in confirmed else "unchanged"
        seen.add(number)
        results.append(result)
    return bulk_out(results)


@router.post(
    "/orders/{int:number}/sales-attribution/confirm",
    response={200: OrderOut, **ERRORS},
    auth=can_write(attribution.PERMISSION),
)
def confirm_sales_attribution(request: HttpRequest, number: int, payload: AttributionIn):
    """ "Check": confirm the sale was made by this manager (or by the system when null)."""
    return _attribute(request, number, payload, attribution.confirm_sales_attribution)


# -- Sources and order types ----------------------------------------------------------------


class OrderChoiceOut(Schema):
    value: str
    label: str
    built_in: bool


class OrderChoiceIn(StrictIn):
    value: slug(services.CHOICE_VALUE.pattern, "1 to 20 lowercase letters, digits, - or _")
    label: text(100) = Field(..., description="What people see")


def _choice_routes(path: str, kind: ChoiceKind, noun: str) -> None:
    listing = choices.source_choices if kind == ChoiceKind.SOURCE else choices.order_type_choices
    # The two kinds share these views, so each route is named by its path (ninja would name
    # both after the function and give two operations one operationId).
    plural = path.strip("/").replace("-", "_")

    @router.get(
        path,
        response={200: list[OrderChoiceOut], **ERRORS},
        auth=can_read("orders.view_order"),
        operation_id=f"ordersight_api_orders_list_{plural}",
    )
    def list_choices(request: HttpRequest) -> list[dict[str, Any]]:
        return [
            {"value": v, "label": label, "built_in": choices.is_built_in(kind, v)}
            for v, label in listing()
        ]

    list_choices.__doc__ = f"Every {noun} an order may have: the built-in ones and the account's."

    @router.post(
        path,
        response={201: OrderChoiceOut, **ERRORS},
        auth=can_write("orders.add_orderchoice"),
        operation_id=f"ordersight_api_orders_add_{plural.removesuffix('s')}",
    )
    def add_choice(request: HttpRequest, payload: OrderChoiceIn) -> Status:
        actor = request.actor
        made = services.add_order_choice(
            kind=kind, value=payload.value, label=payload.label, actor=actor
        )
        return Status(201, {"value": made.value, "label": made.label, "built_in": False})

    add_choice.__doc__ = f"Add a {noun} of the account's own."


_choice_routes("/order-sources", ChoiceKind.SOURCE, "source")
_choice_routes("/order-types", ChoiceKind.ORDER_TYPE, "order type")
