"""Reads for accounts."""

from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet

from ordersight.accounts.models import ApiKey
from ordersight.accounts.roles import SALES_MANAGER


def list_sales_managers() -> QuerySet:
    """Active users with the Sales manager role, the people a sale can be attributed to."""
    return (
        get_user_model()
        .objects.filter(groups__name=SALES_MANAGER, is_active=True)
        .order_by("username")
        .distinct()
    )


def list_people() -> QuerySet:
    """Everyone who may sign in or did, active first, with their groups."""
    return get_user_model().objects.order_by("-is_active", "username").prefetch_related("groups")


def list_api_keys() -> QuerySet[ApiKey]:
    """Every key, active ones first, newest first, with who made it."""
    return ApiKey.objects.select_related("created_by").order_by(
        F("revoked_at").asc(nulls_first=True), "-created_at"
    )
