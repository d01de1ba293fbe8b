"""Signed provider webhooks: verify, store each event once, apply it in the right order.

Signature header: `Ordersight-Signature: t=<unix time>,v1=<hex HMAC-SHA256>` over
`"<t>.<raw body>"` with the payment system's webhook secret, as the major providers do.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import DomainError, Invalid, NotFound
from ordersight.core.validation import validation_fields
from ordersight.payments import services
from ordersight.payments.models import (
    CAPTURED,
    Invoice,
    PaymentSystem,
    WebhookEvent,
    WebhookEventStatus,
)

SIGNATURE_HEADER = "Ordersight-Signature"
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    pass


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    invoice: int
    amount: Decimal
    currency: str = Field(min_length=3, max_length=3)
    transaction_id: str = ""
    one_click: bool = False
    failure_code: str = ""
    failure_message: str = ""
    refund_id: str = ""


class ProviderEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=255)
    type: Literal["payment.succeeded", "payment.failed", "refund.succeeded"]
    created: datetime
    data: EventData


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value a provider sends; used by tests and by anyone building a sender."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None) -> None:
    if not secret:
        raise SignatureError("this payment system has no webhook secret")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise SignatureError("malformed signature header") from None
    if abs((now or time.time()) - t) > TOLERANCE_SECONDS:
        raise SignatureError("signature timestamp outside the tolerance")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise SignatureError("signature does not match")


def parse_event(body: bytes) -> ProviderEvent:
    try:
        return ProviderEvent.model_validate_json(body)
    except PydanticValidationError as exc:
        fields = validation_fields(exc.errors())
        raise Invalid(
            _("Not a valid event: {fields}.").format(fields=", ".join(sorted(fields))),
            fields=fields,
        ) from None


def _apply(event: ProviderEvent, system: PaymentSystem, invoice: Invoice) -> str:
    actor = Actor.system()
    data = event.data
    if event.type == "refund.succeeded":
        if invoice.status not in CAPTURED:
            return WebhookEventStatus.DEFERRED  # applied once the payment itself arrives
        services.record_provider_refund(
            invoice=invoice, amount=data.amount, transaction_id=data.refund_id, actor=actor
        )
        return WebhookEventStatus.APPLIED
    applied = services.record_gateway_result(
        invoice=invoice,
        succeeded=event.type == "payment.succeeded",
        payment_system=system,
        occurred_at=event.created,
        paid_in_one_click=data.one_click,
        transaction_id=data.transaction_id,
        failure_code=data.failure_code,
        failure_message=data.failure_message,
        actor=actor,
    )
    return WebhookEventStatus.APPLIED if applied else WebhookEventStatus.STALE


def _apply_deferred(invoice: Invoice) -> None:
    invoice.refresh_from_db()
    if invoice.status not in CAPTURED:
        return
    waiting = (
        WebhookEvent.objects.select_for_update(no_key=True)
        .filter(invoice=invoice, status=WebhookEventStatus.DEFERRED)
        .order_by("occurred_at", "id")
    )
    for stored in waiting:
        event = ProviderEvent.model_validate(stored.payload)
        try:
            with transaction.atomic():
                services.record_provider_refund(
                    invoice=invoice,
                    amount=event.data.amount,
                    transaction_id=event.data.refund_id,
                    actor=Actor.system(),
                )
        except DomainError as exc:
            # A refund that breaks a rule must not hold back the payment that released it
            # (nor any event after it): it is set aside with its reason for a person to see.
            stored.status = WebhookEventStatus.REJECTED
            stored.reason = exc.message[:500]
        else:
            stored.status = WebhookEventStatus.APPLIED
        stored.save(update_fields=["status", "reason"])


@retry_on_deadlock
@transaction.atomic
def handle_webhook(*, system_code: str, body: bytes, signature: str) -> tuple[WebhookEvent, bool]:
    """Verify and apply one event; returns the stored event and whether it was new."""
    system = PaymentSystem.objects.filter(code=system_code).first()
    if system is None:
        raise NotFound(
            _("No payment system {code}.").format(code=system_code),
            fields={"system": _("not found")},
        )
    verify(system.webhook_secret, body, signature)
    event = parse_event(body)
    existing = WebhookEvent.objects.filter(payment_system=system, event_id=event.id).first()
    if existing is not None:
        return existing, False
    invoice = Invoice.objects.filter(number=event.data.invoice).select_related("order").first()
    if invoice is None:
        raise Invalid(
            _("No invoice {number}.").format(number=event.data.invoice),
            fields={"data.invoice": _("not found")},
        )
    if event.data.currency.upper() != invoice.currency:
        raise Invalid(
            _("Invoice {number} is in {currency}.").format(
                number=invoice.number, currency=invoice.currency
            ),
            fields={"data.currency": _("must be {currency}").format(currency=invoice.currency)},
        )
    if event.type != "refund.succeeded" and event.data.amount != invoice.amount:
        raise Invalid(
            _("Invoice {number} is for {amount}.").format(
                number=invoice.number, amount=invoice.amount
            ),
            fields={"data.amount": _("does not match the invoice")},
        )
    # Claim the event id before applying anything: a second delivery running at the same
    # time waits on the unique index here and then finds the first one's row, so the event
    # is applied once. The claim is a savepoint, so losing it leaves this transaction usable.
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                payment_system=system,
                event_id=event.id,
                event_type=event.type,
                occurred_at=event.created,
                payload=event.model_dump(mode="json"),
                status=WebhookEventStatus.APPLIED,
                invoice=invoice,
            )
    except IntegrityError:
        return WebhookEvent.objects.get(payment_system=system, event_id=event.id), False
    stored.status = _apply(event, system, invoice)
    stored.save(update_fields=["status"])
    if event.type == "payment.succeeded":
        _apply_deferred(invoice)
    return stored, True
