from django.contrib import admin

from ordersight.subscriptions.models import RecurringOrder, RecurringPaymentSettings


@admin.register(RecurringOrder)
class RecurringOrderAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecurringPaymentSettings)
class RecurringPaymentSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "retry_intervals", "updated_at")
