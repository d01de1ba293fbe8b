"""Orders, their lines and their activity events."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ordersight.customers.models import Customer


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    OVERPAID = "overpaid", _("Overpaid")


class RefundStatus(models.TextChoices):
    NONE = "none", _("None")
    PARTIAL = "partial", _("Partial")
    FULL = "full", _("Full")


class FulfillmentStatus(models.TextChoices):
    UNFULFILLED = "unfulfilled", _("Unfulfilled")
    FULFILLED = "fulfilled", _("Fulfilled")


class OrderSource(models.TextChoices):
    STOREFRONT = "storefront", _("Storefront")
    API = "api", _("API")
    MANUAL = "manual", _("Manual")
    SHOPIFY = "shopify", _("Shopify")
    FEED = "feed", _("Feed")
    SUBSCRIPTION = "subscription", _("Recurring order")


class OrderType(models.TextChoices):
    STANDARD = "standard", _("Standard")
    DRAFT = "draft", _("Draft")
    QUOTE = "quote", _("Quote")
    SAMPLE = "sample", _("Sample")
    WHOLESALE = "wholesale", _("Wholesale")
    RECURRING = "recurring", _("Recurring")


class ChoiceKind(models.TextChoices):
    SOURCE = "source", _("Source")
    ORDER_TYPE = "order_type", _("Order type")


class OrderChoice(models.Model):
    """A source or order type an account added to the built-in ones (a marketplace, a
    'pre-order' type); orders, filters and reports accept it like the built-in ones."""

    kind = models.CharField(max_length=20, choices=ChoiceKind.choices)
    value = models.SlugField(max_length=20)
    label = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "label"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="order_choice_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"


class Order(models.Model):
    number = models.PositiveBigIntegerField(unique=True)
    # NULL, not "", for orders with no outside id, so the unique index ignores them.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    source = models.CharField(max_length=20, choices=OrderSource.choices, default=OrderSource.API)
    order_type = models.CharField(
        max_length=20, choices=OrderType.choices, default=OrderType.STANDARD
    )
    # Several foreign keys here and below go without an index of their own: a composite
    # index that starts with them serves their lookups, and every index is written on every
    # insert (a bulk batch of 1,000 orders spends more time in index upkeep than anywhere).
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # order_customer_created_idx
    )
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=18, decimal_places=4)
    discount_total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    total = models.DecimalField(max_digits=18, decimal_places=4)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    refund_status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.NONE
    )
    fulfillment_status = models.CharField(
        max_length=20, choices=FulfillmentStatus.choices, default=FulfillmentStatus.UNFULFILLED
    )
    metadata = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    # What the buyer came with, kept upper-case: a coupon code typed at checkout and the
    # affiliate link code (the storefront's `ref` parameter). Campaigns attribute by them.
    # (A database default too: bulk loaders that COPY their own columns leave them empty.)
    # Looked up by the whole code only: one plain index each (Meta), not db_index's pair
    # with a LIKE-prefix twin.
    coupon_code = models.CharField(max_length=64, blank=True, default="", db_default="")
    referral_code = models.CharField(max_length=64, blank=True, default="", db_default="")
    # A copy of what the lines say, written by the services with the lines: the list's
    # offer columns, their sorts and the CSV export read it instead of running a subquery
    # on the lines for every order (see BENCHMARKS.md). The lead line is position 1.
    line_count = models.PositiveIntegerField(default=0)
    lead_item = models.CharField(max_length=300, blank=True)
    lead_sku = models.CharField(max_length=100, blank=True)
    lead_offer_number = models.PositiveIntegerField(null=True, blank=True)
    lead_category_number = models.PositiveIntegerField(null=True, blank=True)
    lead_unit_price = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    lead_quantity = models.PositiveIntegerField(null=True, blank=True)
    # Sales attribution: who made the sale (null = the system) and whether a person with
    # `orders.manage_sales_attribution` confirmed it.
    sales_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_orders",
        db_index=False,  # order_manager_created_idx
    )
    sales_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="confirmed_orders",
    )
    sales_confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            ("manage_sales_attribution", "Can manage auto sales and generated sales"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="order_source_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_total__gte=0), name="order_discount_not_negative"
            ),
        ]
        indexes = [
            # The default list: newest first, keyset-paginated on (created_at, id).
            models.Index(fields=["-created_at", "-id"], name="order_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="order_status_created_idx"),
            models.Index(fields=["customer", "-created_at"], name="order_customer_created_idx"),
            models.Index(fields=["sales_manager", "-created_at"], name="order_manager_created_idx"),
            models.Index(fields=["coupon_code"], name="order_coupon_code_idx"),
            models.Index(fields=["referral_code"], name="order_referral_code_idx"),
            # A customer's first sale (reports look it up in every recount): one probe of
            # their completed orders, not a sort of everything they ordered.
            models.Index(
                fields=["customer", "created_at", "id"],
                condition=Q(status="completed"),
                name="order_customer_sale_idx",
            ),
            # The search box finds an order by its external id whatever its source: the
            # unique constraint leads with the source, so it cannot answer that alone.
            models.Index(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="order_external_id_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    # Derived values: defined here once, read by the API, the pages and the services alike.

    @property
    def badge(self) -> str:
        """The one status word a person sees, computed from the four status fields."""
        return order_badge(self.status, self.refund_status, self.fulfillment_status)

    @property
    def is_paid_in_full(self) -> bool:
        return self.payment_status in (PaymentStatus.PAID, PaymentStatus.OVERPAID)

    @property
    def has_ever_captured_money(self) -> bool:
        """True once any money was captured, even if all of it was refunded since."""
        return (
            self.payment_status != PaymentStatus.UNPAID or self.refund_status != RefundStatus.NONE
        )

    @property
    def holds_money_net_of_refunds(self) -> bool:
        """True while captured money net of refunds is kept (payment status follows it)."""
        return self.payment_status != PaymentStatus.UNPAID

    @property
    def can_be_confirmed(self) -> bool:
        """Confirm = complete an order that is partially paid, draft (pay by invoice) or open."""
        return self.payment_status == PaymentStatus.PARTIALLY_PAID and self.status in (
            OrderStatus.DRAFT,
            OrderStatus.OPEN,
        )


def order_badge(status: str, refund_status: str, fulfillment_status: str) -> str:
    """`Order.badge` of an order with these statuses (for a row read without its model)."""
    if status == OrderStatus.CANCELLED:
        return "Cancelled"
    if status == OrderStatus.DECLINED:
        return "Declined"
    if status == OrderStatus.DRAFT:
        return "Draft"
    if status == OrderStatus.COMPLETED:
        return "Refund" if refund_status == RefundStatus.FULL else "Completed"
    return "Fulfilled" if fulfillment_status == FulfillmentStatus.FULFILLED else "Open"


class OrderLine(models.Model):
    """What was bought, snapshotted at order time so later catalog changes do not alter it."""

    # Indexed by order_line_position_unique, which starts with the order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    position = models.PositiveSmallIntegerField()
    offer = models.ForeignKey(
        "catalog.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    variant = models.ForeignKey(
        "catalog.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sku = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=300)
    offer_number = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    category_number = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    unit_price = models.DecimalField(max_digits=18, decimal_places=4)
    quantity = models.PositiveIntegerField()
    discount = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    total = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "position"], name="order_line_position_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="line_discount_not_negative"),
            models.CheckConstraint(condition=Q(total__gte=0), name="line_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class OrderEventKind(models.TextChoices):
    CREATED = "created", _("Order created")
    IMPORTED = "imported", _("Order imported")
    UPDATED = "updated", _("Order updated")
    STATUS_CHANGED = "status_changed", _("Status changed")
    FULFILLED = "fulfilled", _("Order fulfilled")
    LINES_REPLACED = "lines_replaced", _("Items changed")
    SALES_ATTRIBUTION_CHANGED = "sales_attribution_changed", _("Sales manager changed")
    SALES_ATTRIBUTION_CONFIRMED = "sales_attribution_confirmed", _("Sale confirmed")
    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    PAYMENT_SUCCEEDED = "payment_succeeded", _("Payment succeeded")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    REFUNDED = "refunded", _("Refund made")
    PAYMENT_STATUS_CHANGED = "payment_status_changed", _("Payment status changed")
    DISCOUNT_APPLIED = "discount_applied", _("Discount applied")
    REDEMPTION_ROLLED_BACK = "redemption_rolled_back", _("Discount redemption rolled back")
    INVOICES_ADJUSTED = "invoices_adjusted", _("Pending invoices adjusted")


class ActorType(models.TextChoices):
    USER = "user", _("User")
    API_KEY = "api_key", _("API key")
    SYSTEM = "system", _("System")


class OrderEvent(models.Model):
    # Indexed by order_event_idx, which starts with the order.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=40, choices=OrderEventKind.choices)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at", "id"], name="order_event_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.order_id})"


class SalesPlanEntry(models.Model):
    """A sales manager's note on a customer card that the customer paid for an offer.

    It proposes the manager as the sale's attribution on that customer's orders of the
    offer; a person with `manage_sales_attribution` confirms it.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="sales_plan")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="+")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales_plan_entries"
    )
    note = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name_plural = "sales plan entries"
        indexes = [models.Index(fields=["customer", "offer"], name="sales_plan_customer_offer")]

    def __str__(self) -> str:
        return f"{self.customer} paid for {self.offer} (via {self.manager})"
