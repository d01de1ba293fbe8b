from django.contrib import admin

from ordersight.customers.models import Customer, CustomerExternalId, Tag


class ExternalIdInline(admin.TabularInline):
    model = CustomerExternalId
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "email", "phone", "created_at"]
    search_fields = ["name", "email", "phone", "external_ids__external_id"]
    list_filter = ["tags"]
    filter_horizontal = ["tags"]
    inlines = [ExternalIdInline]


admin.site.register(Tag)
