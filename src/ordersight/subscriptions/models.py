"""Recurring orders, their charge attempts, their activity, the account's retry settings.

The rows are the truth of billing: `next_payment_at` says when a recurring order is due, and
a charge attempt is one row per (recurring order, cycle, attempt) whose key is also the
idempotency key sent to the gateway, so a crash, a restart or a second worker can never
charge a customer twice (see `billing.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ordersight.catalog.models import Offer
from ordersight.customers.models import Customer
from ordersight.orders.models import Order
from ordersight.payments.models import Invoice, PaymentSystem

DEFAULT_RETRY_INTERVALS = [86400, 3 * 86400]  # 1 day, then 3 days (seconds)


class IntervalUnit(models.TextChoices):
    DAY = "day", _("Days")
    WEEK = "week", _("Weeks")
    MONTH = "month", _("Months")


class RecurringStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class RecurringOrder(models.Model):
    """A customer's standing order of one offer, charged every interval to a stored card."""

    number = models.PositiveBigIntegerField(unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="recurring_orders"
    )
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="recurring_orders")
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    interval_count = models.PositiveSmallIntegerField()
    interval_unit = models.CharField(max_length=10, choices=IntervalUnit.choices)
    # NULL: open-ended, charged until completed by hand.
    total_payments = models.PositiveIntegerField(null=True, blank=True)
    payments_made = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=RecurringStatus.choices, default=RecurringStatus.PROCESSING
    )
    # When the next charge is due (a scheduled payment or a retry); NULL when none will be.
    next_payment_at = models.DateTimeField(null=True, blank=True)
    # Failed attempts at the payment being collected now, counted for the retry rule (reset
    # when one succeeds or the order is activated again with a new payment method)...
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    # ...and every attempt at it, which numbers the attempt rows (reset when one succeeds).
    cycle_attempts = models.PositiveSmallIntegerField(default=0)
    payment_system = models.ForeignKey(
        PaymentSystem, on_delete=models.PROTECT, related_name="recurring_orders"
    )
    payment_token = models.CharField(max_length=255, help_text="Stored payment method token")
    # Set when the order failed: it is activated again only with a new payment method.
    needs_new_payment_method = models.BooleanField(default=False)
    initial_order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The initial payment's time: payments fall due every interval from it.
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        permissions = [
            ("manage_recurring_status", "Can manage recurring order statuses"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="recurring_amount_positive"),
            models.CheckConstraint(
                condition=Q(interval_count__gte=1), name="recurring_interval_positive"
            ),
            models.CheckConstraint(
                condition=Q(total_payments__isnull=True) | Q(total_payments__gte=1),
                name="recurring_total_payments_positive",
            ),
            models.CheckConstraint(
                condition=Q(total_payments__isnull=True)
                | Q(payments_made__lte=models.F("total_payments")),
                name="recurring_payments_within_total",
            ),
        ]
        indexes = [
            # The billing pass: active orders by due time.
            models.Index(fields=["status", "next_payment_at"], name="recurring_due_idx"),
            models.Index(fields=["customer", "-number"], name="recurring_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"Recurring order {self.number}"

    @property
    def payments_remaining(self) -> int | None:
        if self.total_payments is None:
            return None
        return self.total_payments - self.payments_made

    @property
    def token_hint(self) -> str:
        """The stored token as people see it: never in full."""
        return f"…{self.payment_token[-4:]}" if len(self.payment_token) > 4 else "…"


class AttemptStatus(models.TextChoices):
    PENDING = "pending", _("In flight")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ChargeAttempt(models.Model):
    """One try at collecting one payment (cycle) of a recurring order."""

    recurring_order = models.ForeignKey(
        RecurringOrder, on_delete=models.PROTECT, related_name="attempts"
    )
    cycle = models.PositiveIntegerField(help_text="Which payment: 1 is the initial one")
    attempt = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=20, choices=AttemptStatus.choices, default=AttemptStatus.PENDING
    )
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    due_at = models.DateTimeField()
    # A gateway that was unreachable is asked again (same key) from this time on.
    not_before = models.DateTimeField()
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transaction_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=50, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    gateway_errors = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recurring_order", "cycle", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["recurring_order", "cycle", "attempt"], name="charge_attempt_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["not_before"],
                condition=Q(status="pending"),
                name="charge_attempt_pending_idx",
            ),
            models.Index(fields=["order"], name="charge_attempt_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recurring_order} payment {self.cycle} attempt {self.attempt}"

    @property
    def idempotency_key(self) -> str:
        """Derived from the row's identity: every worker asking for this attempt asks the
        gateway with the same key, and the gateway charges it once."""
        return f"recurring-{self.recurring_order_id}-{self.cycle}-{self.attempt}"


class RecurringEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    CHARGED = "charged", _("Payment collected")
    CHARGE_FAILED = "charge_failed", _("Payment failed")
    RETRY_SCHEDULED = "retry_scheduled", _("Retry scheduled")
    GATEWAY_UNAVAILABLE = "gateway_unavailable", _("Gateway unavailable")
    PAUSED = "paused", _("Paused")
    ACTIVATED = "activated", _("Activated")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    PAYMENT_METHOD_REPLACED = "payment_method_replaced", _("Payment method replaced")
    CHILD_ORDER_REFUNDED = "child_order_refunded", _("Child order refunded")
    CHILD_ORDER_CANCELLED = "child_order_cancelled", _("Child order cancelled")


class RecurringEvent(models.Model):
    """Every change of a recurring order, with who made it."""

    recurring_order = models.ForeignKey(
        RecurringOrder, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=40, choices=RecurringEventKind.choices)
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["recurring_order", "id"], name="recurring_event_idx")]

    def __str__(self) -> str:
        return f"{self.recurring_order}: {self.kind}"


def default_retry_intervals() -> list[int]:
    return list(DEFAULT_RETRY_INTERVALS)


class RecurringPaymentSettings(models.Model):
    """The account's recurring payment settings (one row)."""

    # Seconds to wait after a failed attempt before the next; two entries: the two retries.
    retry_intervals = models.JSONField(default=default_retry_intervals)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "recurring payment settings"
        verbose_name_plural = "recurring payment settings"

    def __str__(self) -> str:
        return "Recurring payment settings"
