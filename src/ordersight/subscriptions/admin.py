from django.contrib import admin

from ordersight.core.admin import ReadOnlyAdmin
from ordersight.subscriptions.models import RecurringOrder, RecurringPaymentSettings


@admin.register(RecurringOrder)
class RecurringOrderAdmin(ReadOnlyAdmin):
    """Read-only: statuses change through the Recurring Orders tab and the API (services)."""

    list_display = (
        "number",
        "customer",
        "offer",
        "amount",
        "currency",
        "status",
        "next_payment_at",
    )
    list_filter = ("status", "currency")
    search_fields = ("number", "customer__email", "customer__external_id")


@admin.register(RecurringPaymentSettings)
class RecurringPaymentSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "retry_intervals", "updated_at")
