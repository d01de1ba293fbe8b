"""Payment systems and their fees, invoices (payment attempts), refunds, provider webhooks."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ordersight.orders.models import Order


class Provider(models.TextChoices):
    TEST = "test", _("Test gateway")
    STRIPE = "stripe", _("Stripe (PaymentIntents API)")
    MANUAL = "manual", _("Manual (bank transfer, pay by invoice)")


class PaymentSystem(models.Model):
    """A merchant account at a payment provider; its name is what people see on invoices."""

    code = models.SlugField(max_length=50, unique=True, help_text="Used in the webhook URL")
    name = models.CharField(max_length=100, unique=True, help_text="Merchant account name")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    supports_one_click = models.BooleanField(default=False)
    webhook_secret = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_manual(self) -> bool:
        return self.provider == Provider.MANUAL


class FeeRule(models.Model):
    """What the provider keeps of a payment in one currency: percent of the amount + fixed."""

    payment_system = models.ForeignKey(
        PaymentSystem, on_delete=models.CASCADE, related_name="fee_rules"
    )
    currency = models.CharField(max_length=3)
    percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    fixed = models.DecimalField(max_digits=18, decimal_places=4, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payment_system", "currency"], name="fee_rule_per_currency"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lt=100), name="fee_percent_range"
            ),
            models.CheckConstraint(condition=Q(fixed__gte=0), name="fee_fixed_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_system} {self.currency}: {self.percent}% + {self.fixed}"


class InvoiceStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")


# Invoices whose money was taken (a refunded one took it first).
CAPTURED = (InvoiceStatus.SUCCEEDED, InvoiceStatus.REFUNDED)
# Failure codes of pending invoices voided because the order changed (see
# payments/services/adjustment.py): nobody pays them, and they are not retried, but money a
# provider reports under one of them really arrived and is recorded.
REISSUED = "reissued"
ORDER_CANCELLED = "order_cancelled"
ORDER_DECLINED = "order_declined"
VOIDED = frozenset({REISSUED, ORDER_CANCELLED, ORDER_DECLINED})


class Invoice(models.Model):
    """One payment attempt on an order; an order with partial payments has several."""

    number = models.PositiveBigIntegerField(unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    installment = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.PENDING
    )
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    fee = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    funds_credited = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    refunded_amount = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    payment_system = models.ForeignKey(
        PaymentSystem, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    paid_in_one_click = models.BooleanField(default=False)
    buyer_comment = models.TextField(blank=True)
    transaction_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=50, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempted_at = models.DateTimeField(null=True, blank=True, help_text="Last payment attempt")
    paid_at = models.DateTimeField(null=True, blank=True)
    # Time of the provider event that set the status, so late-arriving older events lose.
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "installment", "number"]
        permissions = [
            ("confirm_partial_payments", "Can confirm or decline orders with partial payments"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="invoice_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0), name="invoice_refunded_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")),
                name="invoice_refunded_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="invoice_created_idx"),
            models.Index(fields=["status", "-created_at"], name="invoice_status_idx"),
            models.Index(fields=["payment_system", "-created_at"], name="invoice_system_idx"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"

    @property
    def refundable(self) -> Decimal:
        """What is left to refund of the money this invoice captured."""
        return refundable_amount(self.status, self.amount, self.refunded_amount)

    @property
    def is_void(self) -> bool:
        """Voided because its order changed (re-issued, cancelled, declined): asks for nothing."""
        return self.status == InvoiceStatus.FAILED and self.failure_code in VOIDED

    @property
    def payment_percent(self) -> Decimal:
        """This invoice's share of the order total, in percent with two decimals."""
        return payment_percent(self.amount, self.order.total)


def refundable_amount(status: str, amount: Decimal, refunded: Decimal) -> Decimal:
    """What is left to refund of an invoice of `status` that captured `amount`."""
    if status not in CAPTURED:
        return Decimal(0)
    return amount - refunded


def payment_percent(amount: Decimal, order_total: Decimal) -> Decimal:
    """An invoice's share of its order's total, in percent with two decimals."""
    if not order_total:
        return Decimal("0.00")
    return (amount * 100 / order_total).quantize(Decimal("0.01"))


class Refund(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=500, blank=True)
    transaction_id = models.CharField(max_length=255, blank=True)
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(
                fields=["invoice", "transaction_id"],
                condition=~Q(transaction_id=""),
                name="refund_transaction_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.currency} of {self.invoice}"


class WebhookEventStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    STALE = "stale", _("Older than the state it would change")
    DEFERRED = "deferred", _("Waiting for an earlier event")
    REJECTED = "rejected", _("Breaks a rule (see the reason); nothing was applied")


class WebhookEvent(models.Model):
    """A provider event, stored once per event id so replays change nothing."""

    payment_system = models.ForeignKey(
        PaymentSystem, on_delete=models.PROTECT, related_name="webhook_events"
    )
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=50)
    occurred_at = models.DateTimeField()
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=WebhookEventStatus.choices)
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    # Why a deferred event could not be applied when its turn came.
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payment_system", "event_id"], name="webhook_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_system.code}:{self.event_id}"
