"""Every write to a recurring order: create, pause, activate, complete early, replace the
payment method, and the account's retry settings. Charging is `billing.py`'s job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from ordersight.catalog.models import Offer
from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Forbidden, Invalid
from ordersight.core.money import format_money
from ordersight.core.sequences import reserve_numbers
from ordersight.core.validation import amount_error, clean_currency
from ordersight.customers.models import Customer
from ordersight.payments.gateways import gateway_for
from ordersight.payments.models import PaymentSystem
from ordersight.subscriptions.events import record_recurring_event
from ordersight.subscriptions.models import (
    ChargeAttempt,
    IntervalUnit,
    RecurringEventKind,
    RecurringOrder,
    RecurringPaymentSettings,
    RecurringStatus,
)
from ordersight.subscriptions.schedule import format_duration, parse_duration

MANAGE_STATUS = "subscriptions.manage_recurring_status"
RECURRING_NUMBER_START = 101
MAX_INTERVAL = 366
MAX_PAYMENTS = 1000
RETRIES = 2  # a failed charge is tried twice more


def _require(actor: Actor) -> None:
    if not actor.has_perm(MANAGE_STATUS):
        raise Forbidden(
            _(
                "Changing a recurring order's status needs the permission "
                "'Can manage recurring order statuses'."
            )
        )


def lock_recurring(*, recurring: RecurringOrder) -> RecurringOrder:
    return RecurringOrder.objects.select_for_update(no_key=True).get(pk=recurring.pk)


def _check_token(token: str | None, errors: dict[str, str]) -> str:
    token = (token or "").strip()
    if not 0 < len(token) <= 255:
        errors["payment_token"] = _("1 to 255 characters")
    return token


def _check_card_gateway(payment_system: PaymentSystem | None, errors: dict[str, str]) -> None:
    if payment_system is None:
        errors["payment_system"] = _("required")
    elif gateway_for(payment_system.provider) is None or not payment_system.is_active:
        errors["payment_system"] = _("{system} cannot charge cards").format(
            system=payment_system.name
        )


def _check_terms(
    *,
    offer: Offer | None,
    customer: Customer | None,
    amount: Decimal | None,
    currency: str | None,
    interval_count: int | None,
    interval_unit: str | None,
    total_payments: int | None,
    errors: dict[str, str],
) -> str:
    if customer is None:
        errors["customer"] = _("required")
    if offer is None:
        errors["offer"] = _("required")
    elif not offer.is_active or not offer.variants.filter(is_active=True).exists():
        errors["offer"] = _("offer {number} is not on sale").format(number=offer.number)
    try:
        code = clean_currency(currency or (offer.currency if offer else None))
    except Invalid as exc:
        errors.update(exc.fields)
        code = ""
    if amount is None:
        errors["amount"] = _("required")
    elif code:
        problem = amount_error(amount, code, allow_zero=False)
        if problem:
            errors["amount"] = problem
    if interval_unit not in IntervalUnit.values:
        errors["interval_unit"] = _("must be one of {choices}").format(
            choices=", ".join(IntervalUnit.values)
        )
    if interval_count is None or not 1 <= interval_count <= MAX_INTERVAL:
        errors["interval_count"] = _("a whole number from 1 to {most}").format(most=MAX_INTERVAL)
    if total_payments is not None and not 1 <= total_payments <= MAX_PAYMENTS:
        errors["total_payments"] = _("1 to {most}, or null for open-ended").format(
            most=MAX_PAYMENTS
        )
    return code


@retry_on_deadlock
@transaction.atomic
def create_recurring_order(
    *,
    customer: Customer | None,
    offer: Offer | None,
    amount: Decimal | None,
    currency: str | None,
    interval_count: int | None,
    interval_unit: str | None,
    total_payments: int | None,
    payment_system: PaymentSystem | None,
    payment_token: str | None,
    actor: Actor,
    at: datetime | None = None,
) -> tuple[RecurringOrder, ChargeAttempt]:
    """Store the recurring order and its initial charge attempt (charged by the caller with
    `billing.run_attempt`, so the initial order is made at once)."""
    at = at or timezone.now()
    errors: dict[str, str] = {}
    code = _check_terms(
        offer=offer,
        customer=customer,
        amount=amount,
        currency=currency,
        interval_count=interval_count,
        interval_unit=interval_unit,
        total_payments=total_payments,
        errors=errors,
    )
    token = _check_token(payment_token, errors)
    _check_card_gateway(payment_system, errors)
    if errors:
        raise Invalid(_("The recurring order is not valid."), fields=errors)
    (number,) = reserve_numbers("recurring", 1, start=RECURRING_NUMBER_START)
    recurring = RecurringOrder.objects.create(
        number=number,
        customer=customer,
        offer=offer,
        amount=amount,
        currency=code,
        interval_count=interval_count,
        interval_unit=interval_unit,
        total_payments=total_payments,
        status=RecurringStatus.PROCESSING,
        next_payment_at=None,
        payment_system=payment_system,
        payment_token=token,
        created_at=at,
    )
    attempt = ChargeAttempt.objects.create(
        recurring_order=recurring,
        cycle=1,
        attempt=1,
        amount=recurring.amount,
        currency=recurring.currency,
        due_at=at,
        not_before=at,
        created_at=at,
    )
    record_recurring_event(
        recurring,
        RecurringEventKind.CREATED,
        actor,
        at,
        amount=format_money(recurring.amount, recurring.currency),
        currency=recurring.currency,
        every=f"{interval_count} {interval_unit}",
        total_payments=total_payments,
    )
    return recurring, attempt


def _refuse(recurring: RecurringOrder, action: str, *allowed: str) -> None:
    if recurring.status in allowed:
        return
    if recurring.status == RecurringStatus.PROCESSING:
        reason = _("a charge is in flight; try again in a moment")
    else:
        reason = _("it is {status}").format(status=recurring.get_status_display().lower())
    raise Conflict(
        _("Recurring order {number} cannot be {action}: {reason}.").format(
            number=recurring.number, action=action, reason=reason
        ),
        fields={"status": recurring.status},
    )


@retry_on_deadlock
@transaction.atomic
def pause_recurring_order(
    *, recurring: RecurringOrder, actor: Actor, at: datetime | None = None
) -> RecurringOrder:
    """Put on hold: nothing is charged until it is activated again."""
    _require(actor)
    at = at or timezone.now()
    recurring = lock_recurring(recurring=recurring)
    _refuse(recurring, pgettext("recurring order cannot be …", "paused"), RecurringStatus.ACTIVE)
    recurring.status = RecurringStatus.PAUSED
    recurring.save(update_fields=["status", "updated_at"])
    record_recurring_event(recurring, RecurringEventKind.PAUSED, actor, at)
    return recurring


@retry_on_deadlock
@transaction.atomic
def activate_recurring_order(
    *, recurring: RecurringOrder, actor: Actor, at: datetime | None = None
) -> RecurringOrder:
    """Resume a paused order (a payment that fell due meanwhile is due now, so the next
    billing pass, within minutes, makes it), or a failed one after its payment method was
    replaced (the failed payment is tried again from the first attempt)."""
    _require(actor)
    at = at or timezone.now()
    recurring = lock_recurring(recurring=recurring)
    _refuse(
        recurring,
        pgettext("recurring order cannot be …", "activated"),
        RecurringStatus.PAUSED,
        RecurringStatus.FAILED,
    )
    if recurring.started_at is None:
        raise Conflict(
            _("Recurring order {number} never started: its initial payment failed.").format(
                number=recurring.number
            ),
            fields={"status": _("initial payment failed")},
        )
    if recurring.status == RecurringStatus.FAILED:
        if recurring.needs_new_payment_method:
            raise Conflict(
                _(
                    "Recurring order {number} failed; replace its payment method "
                    "before activating it."
                ).format(number=recurring.number),
                fields={"payment_token": _("replace the payment method first")},
            )
        recurring.failed_attempts = 0
        recurring.ended_at = None
        recurring.next_payment_at = at
    elif recurring.next_payment_at is None or recurring.next_payment_at < at:
        recurring.next_payment_at = at
    recurring.status = RecurringStatus.ACTIVE
    recurring.save()
    record_recurring_event(
        recurring,
        RecurringEventKind.ACTIVATED,
        actor,
        at,
        next_payment_at=recurring.next_payment_at.isoformat(),
    )
    return recurring


@retry_on_deadlock
@transaction.atomic
def complete_recurring_order(
    *, recurring: RecurringOrder, actor: Actor, at: datetime | None = None
) -> RecurringOrder:
    """Finish early: no further payments."""
    _require(actor)
    at = at or timezone.now()
    recurring = lock_recurring(recurring=recurring)
    _refuse(
        recurring,
        pgettext("recurring order cannot be …", "completed"),
        RecurringStatus.ACTIVE,
        RecurringStatus.PAUSED,
    )
    recurring.status = RecurringStatus.COMPLETED
    recurring.next_payment_at = None
    recurring.ended_at = at
    recurring.save()
    record_recurring_event(
        recurring,
        RecurringEventKind.COMPLETED,
        actor,
        at,
        early=True,
        payments_made=recurring.payments_made,
    )
    return recurring


@retry_on_deadlock
@transaction.atomic
def replace_payment_method(
    *,
    recurring: RecurringOrder,
    payment_token: str | None,
    payment_system: PaymentSystem | None = None,
    actor: Actor,
    at: datetime | None = None,
) -> RecurringOrder:
    """A new card for the next charges (a failed order may then be activated again)."""
    _require(actor)
    at = at or timezone.now()
    recurring = lock_recurring(recurring=recurring)
    errors: dict[str, str] = {}
    token = _check_token(payment_token, errors)
    system = payment_system or recurring.payment_system
    _check_card_gateway(system, errors)
    if errors:
        raise Invalid(_("The payment method is not valid."), fields=errors)
    _refuse(
        recurring,
        pgettext("recurring order cannot be …", "given a new payment method"),
        RecurringStatus.ACTIVE,
        RecurringStatus.PAUSED,
        RecurringStatus.FAILED,
    )
    recurring.payment_token = token
    recurring.payment_system = system
    recurring.needs_new_payment_method = False
    recurring.save()
    record_recurring_event(
        recurring,
        RecurringEventKind.PAYMENT_METHOD_REPLACED,
        actor,
        at,
        payment_system=system.name,
        token=recurring.token_hint,
    )
    return recurring


def recurring_settings() -> RecurringPaymentSettings:
    found, _created = RecurringPaymentSettings.objects.get_or_create(pk=1)
    return found


def retry_intervals() -> list[int]:
    """Seconds to wait before each retry (the account's settings)."""
    intervals = recurring_settings().retry_intervals
    return [int(s) for s in intervals][:RETRIES]


@retry_on_deadlock
@transaction.atomic
def set_retry_intervals(*, intervals: Sequence[str], actor: Actor) -> RecurringPaymentSettings:
    """Set the two retry intervals, e.g. ['1d', '3d'] or ['30m', '2h']."""
    _require(actor)
    if len(intervals) != RETRIES:
        raise Invalid(
            ngettext(
                "Give {count} retry interval.", "Give {count} retry intervals.", RETRIES
            ).format(count=RETRIES),
            fields={
                "retry_intervals": ngettext(
                    "exactly {count} interval", "exactly {count} intervals", RETRIES
                ).format(count=RETRIES)
            },
        )
    seconds = [
        parse_duration(text, field=f"retry_intervals[{i}]") for i, text in enumerate(intervals)
    ]
    found = RecurringPaymentSettings.objects.select_for_update(no_key=True).filter(pk=1).first()
    found = found or RecurringPaymentSettings(pk=1)
    found.retry_intervals = seconds
    found.save()
    return found


def describe_intervals(*, seconds: Sequence[int]) -> list[str]:
    return [format_duration(s) for s in seconds]
