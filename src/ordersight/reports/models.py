"""Sales rollups: the figures of completed orders summed per period, currency and dimension.

The services keep them current in the transaction of each order change, or, with
SALES_FIGURES = "after-commit", just after it from a queue (see `services`); `ordersight
reports rebuild` recomputes them from the raw rows. Reports read only these.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from ordersight.orders.models import Order


class Grain(models.TextChoices):
    DAY = "d", _("Day")
    MONTH = "m", _("Month")  # `period` is the first day of the month


# The source and order type of the rows that sum every source and order type.
ANY = "*"


class SalesRollup(models.Model):
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    currency = models.CharField(max_length=3)
    # Each sale counts twice: under its own source and order type (read when a report
    # filters by them or breaks down by them) and under ANY, ANY (read otherwise).
    source = models.CharField(max_length=40)
    order_type = models.CharField(max_length=40)
    # What the row is broken down by (`definitions.Dimension`) and the value it is for:
    # "" for the total, else an id or number as text, or "none" / "system".
    dimension = models.CharField(max_length=20)
    key = models.CharField(max_length=40)
    # Sales manager rows only: whether the attribution was confirmed.
    confirmed = models.BooleanField(default=False)
    orders = models.IntegerField(default=0)
    units = models.BigIntegerField(default=0)
    gross = models.DecimalField(max_digits=22, decimal_places=4, default=0)
    refunds = models.DecimalField(max_digits=22, decimal_places=4, default=0)
    fees = models.DecimalField(max_digits=22, decimal_places=4, default=0)
    funds_credited = models.DecimalField(max_digits=22, decimal_places=4, default=0)
    new_customers = models.IntegerField(default=0)

    class Meta:
        # Rollups are written by the services only; people get the one permission to read.
        default_permissions = ()
        permissions = [("view_sales_report", "Can view sales reports")]
        constraints = [
            models.UniqueConstraint(
                # Also the index reports read by: the equalities first (what, summed over
                # sources or not, day or month), then the period range.
                fields=[
                    "dimension",
                    "source",
                    "order_type",
                    "grain",
                    "period",
                    "currency",
                    "key",
                    "confirmed",
                ],
                name="sales_rollup_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.key} {self.period} {self.currency}"


class ReportedOrder(models.Model):
    """One sale as the rollups last counted it (`definitions.Sale`), so that a change
    subtracts exactly what the order added before. Only sales have a row."""

    # No foreign key in the database (Django still deletes the row with its order): a recount
    # rewrites other orders' rows of the same customer (first sale, previous sale) without
    # locking those orders, and a key check at commit would then lock one of them after the
    # customer, against the lock order: a deadlock with a payment of that order.
    order = models.OneToOneField(
        Order, primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    day = models.DateField()
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=40)
    order_type = models.CharField(max_length=40)
    customer_id = models.BigIntegerField(null=True, blank=True)
    manager_id = models.BigIntegerField(null=True, blank=True)
    confirmed = models.BooleanField(default=False)
    # True while this order is its customer's first sale (it counts the customer as new).
    first_sale = models.BooleanField(default=False)
    total = models.DecimalField(max_digits=18, decimal_places=4)
    # The sale's own figures beside its total, which the report by customer sums: a row per
    # customer and day in the rollups was a row per sale four times over (day and month,
    # under its source and under any), more than half the rollups' rows.
    units = models.BigIntegerField(db_default=0)
    refunds = models.DecimalField(max_digits=18, decimal_places=4, db_default=0)
    fees = models.DecimalField(max_digits=18, decimal_places=4, db_default=0)
    funds_credited = models.DecimalField(max_digits=18, decimal_places=4, db_default=0)
    # Its lines summed per offer and category, and its captured invoices (compact lists).
    parts = models.JSONField(default=dict)
    # The day of the same customer's sale before this one (by day, then order): a period's
    # returning customers are its sales whose prev_day is before the period, one per
    # customer, so the dashboard counts them without a DISTINCT.
    prev_day = models.DateField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(
                fields=["customer_id"], condition=Q(first_sale=True), name="reported_first_sale"
            ),
            # Customers who bought in a period (index-only scans of the period's sales).
            models.Index(fields=["day", "prev_day"], name="reported_day_prev"),
            models.Index(fields=["day", "customer_id"], name="reported_day_customer"),
            # A customer's sales in the order `prev_day` links them: the recount's window over
            # a batch's customers reads these, not every kept sale (1.8 s a batch of 1,000
            # at 720,000 sales without it).
            models.Index(fields=["customer_id", "day", "order"], name="reported_customer_sales"),
        ]

    def __str__(self) -> str:
        return f"Reported {self.order_id}"


class QueuedRecount(models.Model):
    """An order changed in a committed transaction whose sale the rollups have yet to take
    in (SALES_FIGURES = "after-commit"). A row per change, never updated: writers only
    insert them, and a recounter passes over the orders writers hold."""

    id = models.BigAutoField(primary_key=True)
    # No foreign key: the insert then takes no lock on the order row it names.
    order_id = models.BigIntegerField()
    queued_at = models.DateTimeField(db_default=Now())

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"order {self.order_id} queued at {self.queued_at}"
