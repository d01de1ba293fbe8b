from django.contrib import admin

from ordersight.catalog.models import Category, Offer, OfferExternalId, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0


class OfferExternalIdInline(admin.TabularInline):
    model = OfferExternalId
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["number", "name"]
    search_fields = ["name"]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "category", "currency", "unit_price", "is_active"]
    list_filter = ["category", "currency", "is_active", "allow_partial_payments"]
    search_fields = ["name", "variants__sku"]
    inlines = [VariantInline, OfferExternalIdInline]
