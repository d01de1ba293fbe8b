"""Read-mostly admin for orders: changes go through the API and services, which keep the
activity log and the status rules; the admin shows what happened."""

from django.contrib import admin
from django.http import HttpRequest

from ordersight.orders.models import Order, OrderChoice, OrderEvent, OrderLine


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class LineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = [
        "position",
        "sku",
        "name",
        "offer_number",
        "category_number",
        "unit_price",
        "quantity",
        "discount",
        "total",
    ]


class EventInline(ReadOnlyInline):
    model = OrderEvent
    fields = readonly_fields = ["created_at", "kind", "actor_label", "payload"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "created_at",
        "customer",
        "status",
        "payment_status",
        "currency",
        "total",
        "source",
        "order_type",
        "sales_manager",
    ]
    list_filter = ["status", "payment_status", "source", "order_type", "currency"]
    search_fields = ["=number", "customer__name", "customer__email", "external_id"]
    list_select_related = ["customer", "sales_manager"]
    date_hierarchy = "created_at"
    inlines = [LineInline, EventInline]
    show_full_result_count = False  # no COUNT(*) over millions of orders per page

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OrderChoice)
class OrderChoiceAdmin(admin.ModelAdmin):
    """The account's own sources and order types. They are added through the API (which
    checks the value against the built-in ones); here a label can be renamed."""

    list_display = ["kind", "value", "label", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "value"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
