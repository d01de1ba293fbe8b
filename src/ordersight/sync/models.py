"""Store connections, their feeds (products, customers, orders), each run of a feed with its
counts and per-item errors, and the raw record last received for each item (lookups)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    SHOPIFY = "shopify", _("Shopify")
    FEED = "feed", _("Generic JSON feed")


class StoreConnection(models.Model):
    name = models.CharField(max_length=100, unique=True)
    platform = models.CharField(max_length=10, choices=Platform.choices)
    # The shop's address (https://example.myshopify.com) or the feed's base URL.
    shop_url = models.URLField(max_length=300)
    # The access token is never stored here: the name of the environment variable that
    # holds it (e.g. ORDERSIGHT_SYNC_TOKEN_MAIN: names start with SYNC_SECRET_ENV_PREFIX),
    # read when a run starts.
    token_env = models.CharField(max_length=100, blank=True)
    # The secret Shopify signs webhooks with, also read from the environment.
    webhook_secret_env = models.CharField(max_length=100, blank=True)
    # Customers are imported when tagged so or carrying metafields in this namespace.
    currency = models.CharField(max_length=3, default="EUR", help_text="The shop's currency")
    customer_tag = models.CharField(max_length=64, default="b2b")
    metafield_namespace = models.CharField(max_length=64, default="ordersight")
    refresh_minutes = models.PositiveIntegerField(default=10)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FeedKind(models.TextChoices):
    PRODUCTS = "products", _("Products")
    CUSTOMERS = "customers", _("Customers")
    ORDERS = "orders", _("Orders")


class Feed(models.Model):
    connection = models.ForeignKey(StoreConnection, on_delete=models.CASCADE, related_name="feeds")
    kind = models.CharField(max_length=10, choices=FeedKind.choices)
    # When the last successful run started: the next incremental run asks for what changed
    # since (`updated_at_min`).
    synced_until = models.DateTimeField(null=True, blank=True)
    last_import_at = models.DateTimeField(null=True, blank=True)
    items_synced = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["connection", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind"], name="feed_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.connection} {self.kind}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class SyncRun(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="runs")
    full = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    expected = models.PositiveIntegerField(null=True, blank=True)  # as the store counts them
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)  # why a failed run stopped

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # A refresh already running is not started twice.
            models.UniqueConstraint(
                fields=["feed"], condition=Q(status="running"), name="sync_run_one_running"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feed} run {self.pk}"


class SyncError(models.Model):
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="item_errors")
    external_id = models.CharField(max_length=255, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.external_id}: {self.reason[:60]}"


class ReceivedRecord(models.Model):
    """The raw JSON last received for an item, shown beside the stored record by lookups."""

    connection = models.ForeignKey(
        StoreConnection, on_delete=models.CASCADE, related_name="records"
    )
    kind = models.CharField(max_length=10, choices=FeedKind.choices)
    external_id = models.CharField(max_length=255)
    payload = models.JSONField()
    # Other keys it is looked up by, space-delimited (a product's variant SKUs): " A B ".
    search_keys = models.TextField(blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "external_id"], name="received_record_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"
