"""Reads for customers."""

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from ordersight.core.errors import NotFound
from ordersight.core.filtering import apply_filterset
from ordersight.customers.filters import CustomerFilterSet
from ordersight.customers.models import Customer


def list_customers(*, filters: Mapping[str, Any]) -> QuerySet[Customer]:
    qs = Customer.objects.prefetch_related("tags", "external_ids")
    return apply_filterset(CustomerFilterSet, filters, qs)


def get_customer(*, customer_id: int) -> Customer:
    customer = (
        Customer.objects.prefetch_related("tags", "external_ids").filter(pk=customer_id).first()
    )
    if customer is None:
        raise NotFound(f"No customer {customer_id}.", fields={"customer_id": "not found"})
    return customer
