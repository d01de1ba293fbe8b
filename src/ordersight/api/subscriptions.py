"""Recurring orders API: create (the initial order is charged at once), list, detail with
child orders, pause, activate, complete, replace the payment method; retry settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, WithJsonSchema

from ordersight.accounts.auth import can_read, can_write
from ordersight.api.lists import list_export, list_page
from ordersight.catalog.models import Offer
from ordersight.core.errors import Invalid, PaymentDeclined
from ordersight.core.money import format_money
from ordersight.customers.models import Customer
from ordersight.http.query_schemas import query_schema
from ordersight.http.schemas import (
    VISIBLE,
    CurrencyOrNone,
    Id,
    Number,
    PageOut,
    PositiveAmount,
    StrictIn,
    decimals_by_currency,
    error_responses,
    slug,
)
from ordersight.payments.models import PaymentSystem
from ordersight.subscriptions import selectors, services
from ordersight.subscriptions.billing import run_attempt
from ordersight.subscriptions.filters import RecurringOrderFilterSet
from ordersight.subscriptions.models import RecurringOrder
from ordersight.subscriptions.schedule import DURATION_PATTERN

router = Router(tags=["recurring orders"])
RecurringListQuery = query_schema(
    RecurringOrderFilterSet, "RecurringListQuery", sorts=selectors.RECURRING_LIST.sorts
)
ERRORS = error_responses()
MANAGE = services.MANAGE_STATUS


class RecurringOrderIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                decimals_by_currency(
                    "currency", lambda pattern: {"properties": {"amount": {"pattern": pattern}}}
                )
            ]
        }
    )

    customer_id: Id
    offer: Number = Field(..., description="Offer number")
    amount: PositiveAmount = Field(..., description="Charged every interval, in `currency`")
    currency: CurrencyOrNone = Field(None, description="Defaults to the offer's currency")
    interval_count: Annotated[
        int,
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": services.MAX_INTERVAL}),
    ] = Field(..., description="Every N units")
    interval_unit: Literal["day", "week", "month"]
    total_payments: Annotated[
        int | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": services.MAX_PAYMENTS},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(None, description="Payments in all, the initial one included; null for open-ended")
    payment_system: str = Field(..., description="Code of a card payment system")
    payment_token: Annotated[
        str, WithJsonSchema({"type": "string", "maxLength": 255, "pattern": VISIBLE})
    ] = Field(..., description="Stored payment method (card) token")


class PaymentMethodIn(StrictIn):
    payment_token: str
    payment_system: str | None = Field(None, description="Code; keeps the current one if left out")


class RetrySettingsIn(StrictIn):
    retry_intervals: list[slug(DURATION_PATTERN, "Minutes, hours or days: 30m, 2h, 1d")] = Field(
        ...,
        # Stated, not enforced here: the service refuses another count in its own words.
        json_schema_extra={"minItems": services.RETRIES, "maxItems": services.RETRIES},
        description='The two retry intervals, e.g. ["1d", "3d"] or ["30m", "2h"]',
    )


class RetrySettingsOut(Schema):
    retry_intervals: list[str]


class ChildOrderOut(Schema):
    number: int
    created_at: datetime
    status: str
    payment_status: str
    total: str
    currency: str
    payment_system: str | None


class RecurringOrderOut(Schema):
    number: int
    status: str
    customer_id: int
    customer_name: str
    offer: int
    offer_name: str
    amount: str
    currency: str
    interval_count: int
    interval_unit: str
    total_payments: int | None
    payments_made: int
    payments_remaining: int | None
    next_payment_at: datetime | None
    payment_system: str
    payment_token: str = Field(..., description="The token's last characters only")
    needs_new_payment_method: bool
    started_at: datetime | None
    created_at: datetime


class RecurringOrderDetailOut(RecurringOrderOut):
    child_orders: list[ChildOrderOut] = Field(..., description="The initial order first")


def recurring_out(recurring: RecurringOrder) -> dict[str, Any]:
    return {
        "number": recurring.number,
        "status": recurring.status,
        "customer_id": recurring.customer_id,
        "customer_name": recurring.customer.name,
        "offer": recurring.offer.number,
        "offer_name": recurring.offer.name,
        "amount": format_money(recurring.amount, recurring.currency),
        "currency": recurring.currency,
        "interval_count": recurring.interval_count,
        "interval_unit": recurring.interval_unit,
        "total_payments": recurring.total_payments,
        "payments_made": recurring.payments_made,
        "payments_remaining": recurring.payments_remaining,
        "next_payment_at": recurring.next_payment_at,
        "payment_system": recurring.payment_system.code,
        "payment_token": recurring.token_hint,
        "needs_new_payment_method": recurring.needs_new_payment_method,
        "started_at": recurring.started_at,
        "created_at": recurring.created_at,
    }


def detail_out(recurring: RecurringOrder) -> dict[str, Any]:
    children = selectors.child_orders(recurring=recurring)
    return {
        **recurring_out(recurring),
        "child_orders": [
            {
                "number": order.number,
                "created_at": order.created_at,
                "status": order.status,
                "payment_status": order.payment_status,
                "total": format_money(order.total, order.currency),
                "currency": order.currency,
                "payment_system": (
                    order.last_invoice.payment_system.code
                    if order.last_invoice and order.last_invoice.payment_system
                    else None
                ),
            }
            for order in children
        ],
    }


def _referenced(payload: RecurringOrderIn) -> tuple[Customer, Offer, PaymentSystem]:
    """The customer, offer and payment system the payload names; Invalid naming each missing."""
    customer = Customer.objects.filter(pk=payload.customer_id).first()
    offer = Offer.objects.filter(number=payload.offer).first()
    system = PaymentSystem.objects.filter(code=payload.payment_system).first()
    errors = {}
    if customer is None:
        errors["customer_id"] = f"no customer {payload.customer_id}"
    if offer is None:
        errors["offer"] = f"no offer {payload.offer}"
    if system is None:
        errors["payment_system"] = f"no payment system {payload.payment_system!r}"
    if errors:
        raise Invalid("The recurring order names what does not exist.", fields=errors)
    return customer, offer, system


@router.post(
    "/recurring-orders",
    response={201: RecurringOrderDetailOut, **error_responses(402)},
    auth=can_write("subscriptions.add_recurringorder"),
)
def create_recurring_order(request: HttpRequest, payload: RecurringOrderIn):
    """Store the recurring order and charge its initial payment now. A declined card is a
    402 naming `payment_token`; the declined initial order stays on record."""
    actor = request.actor
    customer, offer, system = _referenced(payload)
    with transaction.atomic():
        recurring, attempt = services.create_recurring_order(
            customer=customer,
            offer=offer,
            amount=payload.amount,
            currency=payload.currency,
            interval_count=payload.interval_count,
            interval_unit=payload.interval_unit,
            total_payments=payload.total_payments,
            payment_system=system,
            payment_token=payload.payment_token,
            actor=actor,
        )
    outcome = run_attempt(attempt=attempt, at=recurring.created_at, actor=actor)
    recurring = selectors.get_recurring_order(number=recurring.number)
    if outcome.result == "failed":
        raise PaymentDeclined(
            f"The initial payment was declined ({outcome.message}); recurring order "
            f"{recurring.number} did not start and order {outcome.order_number} is declined.",
            fields={"payment_token": outcome.message or "declined"},
        )
    return Status(201, detail_out(recurring))


@router.get(
    "/recurring-orders",
    response={200: PageOut[RecurringOrderOut], **ERRORS},
    auth=can_read("subscriptions.view_recurringorder"),
)
def list_recurring_orders(request: HttpRequest, params: Query[RecurringListQuery]):
    """The Recurring Orders tab's list: recurring orders whose initial order was paid."""
    return list_page(request, selectors.RECURRING_LIST, params, recurring_out)


@router.get(
    "/recurring-orders/export.csv",
    response={200: None, **ERRORS},
    auth=can_read("subscriptions.view_recurringorder"),
)
def export_recurring_orders(
    request: HttpRequest, params: Query[RecurringListQuery]
) -> StreamingHttpResponse:
    return list_export(request, selectors.RECURRING_LIST, params)


@router.get(
    "/recurring-orders/{int:number}",
    response={200: RecurringOrderDetailOut, **ERRORS},
    auth=can_read("subscriptions.view_recurringorder"),
)
def get_recurring_order(request: HttpRequest, number: int):
    return detail_out(selectors.get_recurring_order(number=number))


def _status_change(request: HttpRequest, number: int, change: Any) -> dict[str, Any]:
    actor = request.actor
    recurring = selectors.get_recurring_order(number=number)
    change(recurring=recurring, actor=actor)
    return detail_out(selectors.get_recurring_order(number=number))


@router.post(
    "/recurring-orders/{int:number}/pause",
    response={200: RecurringOrderDetailOut, **ERRORS},
    auth=can_write(MANAGE),
)
def pause_recurring_order(request: HttpRequest, number: int):
    """Put on hold (needs `subscriptions.manage_recurring_status`)."""
    return _status_change(request, number, services.pause_recurring_order)


@router.post(
    "/recurring-orders/{int:number}/activate",
    response={200: RecurringOrderDetailOut, **ERRORS},
    auth=can_write(MANAGE),
)
def activate_recurring_order(request: HttpRequest, number: int):
    """Resume; a payment that fell due meanwhile is charged within 10 minutes. A failed
    order is activated only after its payment method was replaced."""
    return _status_change(request, number, services.activate_recurring_order)


@router.post(
    "/recurring-orders/{int:number}/complete",
    response={200: RecurringOrderDetailOut, **ERRORS},
    auth=can_write(MANAGE),
)
def complete_recurring_order(request: HttpRequest, number: int):
    """Finish early: no further payments."""
    return _status_change(request, number, services.complete_recurring_order)


@router.put(
    "/recurring-orders/{int:number}/payment-method",
    response={200: RecurringOrderDetailOut, **ERRORS},
    auth=can_write(MANAGE),
)
def replace_payment_method(request: HttpRequest, number: int, payload: PaymentMethodIn):
    actor = request.actor
    recurring = selectors.get_recurring_order(number=number)
    system = None
    if payload.payment_system is not None:
        system = PaymentSystem.objects.filter(code=payload.payment_system).first()
        if system is None:
            raise Invalid(
                f"No payment system {payload.payment_system!r}.",
                fields={"payment_system": "not found"},
            )
    services.replace_payment_method(
        recurring=recurring, payment_token=payload.payment_token, payment_system=system, actor=actor
    )
    return detail_out(selectors.get_recurring_order(number=number))


@router.get(
    "/recurring-settings",
    response={200: RetrySettingsOut, **ERRORS},
    auth=can_read("subscriptions.view_recurringpaymentsettings"),
)
def get_recurring_settings(request: HttpRequest):
    return {"retry_intervals": services.describe_intervals(seconds=services.retry_intervals())}


@router.put(
    "/recurring-settings",
    response={200: RetrySettingsOut, **ERRORS},
    auth=can_write("subscriptions.change_recurringpaymentsettings"),
)
def set_recurring_settings(request: HttpRequest, payload: RetrySettingsIn):
    """The account's recurring payment settings: wait this long before each retry."""
    actor = request.actor
    found = services.set_retry_intervals(intervals=payload.retry_intervals, actor=actor)
    return {"retry_intervals": services.describe_intervals(seconds=found.retry_intervals)}
