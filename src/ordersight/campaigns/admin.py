from django.contrib import admin

from ordersight.campaigns.models import Campaign, Conversion, Creator
from ordersight.core.admin import ReadOnlyAdmin


# Read-only: campaigns change through their pages and the API (the services), so every
# change writes its event and recomputes the commissions.
@admin.register(Creator)
class CreatorAdmin(ReadOnlyAdmin):
    list_display = ("name", "handle", "email", "created_at")
    search_fields = ("name", "handle", "email")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "starts_on", "ends_on", "commission_kind", "commission_percent")


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = ("order", "campaign", "creator", "status", "approval", "currency", "commission")
    list_filter = ("status", "approval", "campaign")
    search_fields = ("order__number", "creator__handle", "code")
    list_select_related = ("order", "campaign", "creator")
