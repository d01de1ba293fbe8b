"""Promotions: customers' purchase figures and the segments built on them; discount codes,
their validation rules and redemptions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ordersight.customers.models import Customer
from ordersight.orders.models import Order


class CountedOrder(models.Model):
    """What one order adds to its customer's figures, as last counted (only orders that
    count have a row: completed and not refunded in full)."""

    order = models.OneToOneField(
        Order, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    placed_at = models.DateTimeField()
    total = models.DecimalField(max_digits=18, decimal_places=4)
    net = models.DecimalField(max_digits=18, decimal_places=4)  # total − refunds

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["customer", "placed_at"], name="counted_customer_idx")]

    def __str__(self) -> str:
        return f"Counted {self.order_id}"


class CustomerFigures(models.Model):
    """A customer's purchase history in figures, kept current by the order lifecycle."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="figures"
    )
    orders = models.PositiveIntegerField(default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    last_order_amount = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    last_order_currency = models.CharField(max_length=3, blank=True)

    class Meta:
        verbose_name_plural = "customer figures"
        indexes = [
            models.Index(fields=["orders"], name="figures_orders_idx"),
            models.Index(fields=["last_order_at"], name="figures_last_order_idx"),
            models.Index(fields=["first_order_at"], name="figures_first_order_idx"),
        ]

    def __str__(self) -> str:
        return f"Figures of {self.customer_id}"


class CustomerSpend(models.Model):
    """What a customer spent in one currency (net of refunds), over how many orders."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="spend")
    currency = models.CharField(max_length=3)
    orders = models.PositiveIntegerField()
    spent = models.DecimalField(max_digits=18, decimal_places=4)
    average = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "currency"], name="customer_spend_once"),
        ]
        indexes = [
            models.Index(fields=["currency", "spent"], name="spend_currency_spent_idx"),
            models.Index(fields=["currency", "average"], name="spend_currency_average_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.spent} {self.currency}"


class Segment(models.Model):
    """Customers whose figures, tags and metadata match `rules` (see `segments.py`)."""

    name = models.CharField(max_length=200, unique=True)
    rules = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    FIXED = "fixed", _("Fixed amount off")
    # One unit free: the cheapest unit among the lines the code applies to.
    FREE_ITEM = "free_item", _("One item free")


class DiscountTarget(models.TextChoices):
    ORDER = "order", _("The whole order")
    LINES = "lines", _("Chosen lines (by SKU or category)")


class DiscountCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=DiscountKind.choices)
    percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    # Fixed amount by currency: {"EUR": "5.00"}; an order in another currency is refused.
    amounts = models.JSONField(default=dict, blank=True)
    target = models.CharField(
        max_length=10, choices=DiscountTarget.choices, default=DiscountTarget.ORDER
    )
    target_skus = models.JSONField(default=list, blank=True)
    target_categories = models.JSONField(default=list, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    per_customer_limit = models.PositiveIntegerField(null=True, blank=True)
    redeemed = models.PositiveIntegerField(default=0)  # active redemptions
    is_active = models.BooleanField(default=True)
    # The validation rules: {"all": [...]} / {"any": [...]} of conditions (see rules.py).
    rules = models.JSONField(null=True, blank=True)
    batch = models.CharField(max_length=64, blank=True, help_text="Generated together")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(redeemed__lte=models.F("usage_limit")),
                name="discount_code_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class RedemptionStatus(models.TextChoices):
    ACTIVE = "active", _("Redeemed")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class Redemption(models.Model):
    code = models.ForeignKey(DiscountCode, on_delete=models.PROTECT, related_name="redemptions")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="redemptions")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=12, choices=RedemptionStatus.choices, default=RedemptionStatus.ACTIVE
    )
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    redeemed_at = models.DateTimeField()
    rolled_back_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-redeemed_at", "-id"]
        constraints = [
            # One active discount per order.
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="active"), name="redemption_active_once"
            ),
        ]
        indexes = [models.Index(fields=["code", "-redeemed_at"], name="redemption_code_idx")]

    def __str__(self) -> str:
        return f"{self.code} on {self.order_id}"
