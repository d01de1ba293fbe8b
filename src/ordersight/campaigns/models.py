"""Creator campaigns: creators, campaigns and their members' codes, and the conversions
(orders a creator brought) with their live status, approval and commission."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ordersight.orders.models import Order


class Creator(models.Model):
    """An influencer or affiliate who brings sales."""

    name = models.CharField(max_length=200)
    handle = models.CharField(max_length=64, unique=True, help_text="e.g. anna.cooks")
    email = models.EmailField(blank=True)
    # Where and how to pay them (bank, PayPal, tax id): kept as given, shown to staff.
    payout = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} (@{self.handle})"


class CommissionKind(models.TextChoices):
    PERCENT = "percent", _("Percent of net order value")
    FIXED = "fixed", _("Fixed amount per order")


class Campaign(models.Model):
    name = models.CharField(max_length=200, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Empty: runs until ended")
    commission_kind = models.CharField(max_length=10, choices=CommissionKind.choices)
    # Percent of the order's net value (after refunds), e.g. 12.5.
    commission_percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    # Fixed commission per order, by the order's currency: {"EUR": "5.00", "USD": "6.00"}.
    fixed_commissions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        permissions = [
            ("approve_conversion", "Can approve and reject creator conversions"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A creator in a campaign, from joining until removal (if ever)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="memberships")
    joined_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "creator"],
                condition=Q(removed_at__isnull=True),
                name="membership_current_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.creator} in {self.campaign}"

    @property
    def is_current(self) -> bool:
        return self.removed_at is None


class CodeKind(models.TextChoices):
    COUPON = "coupon", _("Coupon code")
    LINK = "link", _("Affiliate link")


class CreatorCode(models.Model):
    """A code that ties an order to a member: a coupon the buyer types or the `ref` of the
    creator's link. Kept upper-case; unique for ever, so an old code never changes hands."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="codes")
    kind = models.CharField(max_length=10, choices=CodeKind.choices)
    code = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.code


class ConversionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # placed, not paid yet
    PAID = "paid", _("Paid")
    CANCELED = "canceled", _("Canceled")  # cancelled, or its payment declined
    REFUNDED = "refunded", _("Refunded")  # refunded in full


# A conversion in one of these is a sale (its order completed).
SALE_STATUSES = (ConversionStatus.PAID, ConversionStatus.REFUNDED)


class Approval(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Conversion(models.Model):
    """An order a creator brought. Its figures copy the order's (kept current by the order
    lifecycle) so the campaign's pages, exports and reports read one table."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="conversion")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="conversions")
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="conversions")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="conversions")
    via = models.CharField(max_length=10, choices=CodeKind.choices)
    code = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=ConversionStatus.choices)
    approval = models.CharField(max_length=10, choices=Approval.choices, default=Approval.APPROVED)
    # The order's, copied: when it was placed (and the account's day of it), what it is.
    ordered_at = models.DateTimeField()
    day = models.DateField()
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=20)
    order_type = models.CharField(max_length=20)
    units = models.PositiveIntegerField(default=0)
    gross = models.DecimalField(max_digits=18, decimal_places=4)
    refunds = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    fees = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    funds_credited = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    # What the campaign's rule gives for this sale now (zero unless Paid); counted in the
    # creator's totals only while the conversion is approved.
    commission = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        indexes = [
            # The Performance tab: a campaign's conversions, newest first, by keyset.
            models.Index(fields=["campaign", "-ordered_at", "-id"], name="conversion_campaign_idx"),
            models.Index(fields=["creator", "campaign"], name="conversion_creator_idx"),
            # Reports and the all-sales download read a range of days.
            models.Index(fields=["day", "currency"], name="conversion_day_idx"),
        ]

    def __str__(self) -> str:
        return f"Order {self.order_id} by {self.creator_id} in {self.campaign_id}"

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunds

    @property
    def counted_commission(self) -> Decimal:
        return self.commission if self.approval == Approval.APPROVED else Decimal(0)


class ConversionEventKind(models.TextChoices):
    ATTRIBUTED = "attributed", _("Attributed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved again (undo)")


class ConversionEvent(models.Model):
    """The audit trail of a conversion: attribution, each status and approval change."""

    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=ConversionEventKind.choices)
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversion", "id"], name="conversion_event_idx")]

    def __str__(self) -> str:
        return f"{self.conversion_id}: {self.kind}"


class CreatorCommission(models.Model):
    """A creator's totals in a campaign, per currency: always the sum over their approved
    conversions, recomputed by the services after every change (never edited by hand)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="commissions")
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="commissions")
    currency = models.CharField(max_length=3)
    sales = models.PositiveIntegerField(default=0)  # approved conversions that are sales
    net_sales = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    commission = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["campaign", "creator", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "creator", "currency"], name="creator_commission_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.creator_id} in {self.campaign_id}: {self.commission} {self.currency}"
