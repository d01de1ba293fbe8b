"""Reads for accounts."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from ordersight.accounts.roles import SALES_MANAGER


def list_sales_managers() -> QuerySet:
    """Active users with the Sales manager role, the people a sale can be attributed to."""
    return (
        get_user_model()
        .objects.filter(groups__name=SALES_MANAGER, is_active=True)
        .order_by("username")
        .distinct()
    )
