"""Customers API: create, get, list and update."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from ordersight.accounts.auth import can_read, can_write
from ordersight.api.lists import BulkOut, bulk_out, list_export, list_page
from ordersight.catalog.selectors import get_offer
from ordersight.core.errors import Forbidden
from ordersight.customers import bulk, selectors, services
from ordersight.customers.filters import CustomerFilterSet
from ordersight.customers.models import Customer
from ordersight.http.query_schemas import query_schema
from ordersight.http.schemas import (
    Email,
    ExternalIds,
    Id,
    JsonObject,
    Number,
    PageOut,
    StrictIn,
    error_responses,
    text,
)
from ordersight.orders import attribution
from ordersight.orders import selectors as order_selectors

router = Router(tags=["customers"])
CustomerListQuery = query_schema(
    CustomerFilterSet, "CustomerListQuery", sorts=selectors.CUSTOMER_LIST.sorts
)
ERRORS = error_responses()


Tag = text(services.TAG_MAX)


class CustomerIn(StrictIn):
    name: text(200)
    email: Email = ""
    phone: str = Field("", max_length=40)
    tags: list[Tag] = Field([], description="Kept in lower case")
    metadata: JsonObject = None
    external_ids: ExternalIds = {}


class CustomerUpdateIn(StrictIn):
    name: text(200) = None
    email: Email | None = None
    phone: str | None = Field(None, max_length=40)
    tags: list[Tag] | None = Field(None, description="Kept in lower case")
    metadata: JsonObject = None
    external_ids: ExternalIds | None = None


class CustomerOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    tags: list[str]
    metadata: dict[str, Any]
    external_ids: dict[str, str]
    created_at: datetime
    updated_at: datetime


def customer_out(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "tags": sorted(t.name for t in customer.tags.all()),
        "metadata": customer.metadata,
        "external_ids": {e.source: e.external_id for e in customer.external_ids.all()},
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


@router.post(
    "/customers", response={201: CustomerOut, **ERRORS}, auth=can_write("customers.add_customer")
)
def create_customer(request: HttpRequest, payload: CustomerIn):
    actor = request.actor
    customer = services.create_customer(**payload.model_dump(), actor=actor)
    return Status(201, customer_out(selectors.get_customer(customer_id=customer.pk)))


class CustomerBulkIn(StrictIn):
    customers: list[dict[str, Any]] = Field(
        ...,
        max_length=1000,
        description="At most 1,000: each with `source` (default api) and `external_id`, plus "
        "any of name, email, phone, tags, metadata",
    )


@router.post(
    "/customers/bulk", response={200: BulkOut, **ERRORS}, auth=can_write("customers.add_customer")
)
def bulk_upsert_customers(request: HttpRequest, payload: CustomerBulkIn) -> dict[str, Any]:
    """Create or update up to 1,000 customers by (source, external_id); a result per item,
    a bad item reported without stopping the others."""
    actor = request.actor
    if not actor.has_perm("customers.change_customer"):
        raise Forbidden(
            "Bulk upsert also changes customers: it needs customers.change_customer.",
            fields={"permission": "customers.change_customer"},
        )
    return bulk_out(bulk.upsert_customers(items=payload.customers, actor=actor))


@router.get(
    "/customers",
    response={200: PageOut[CustomerOut], **ERRORS},
    auth=can_read("customers.view_customer"),
)
def list_customers(request: HttpRequest, params: Query[CustomerListQuery]):
    return list_page(request, selectors.CUSTOMER_LIST, params, customer_out)


@router.get(
    "/customers/export.csv",
    response={200: None, **ERRORS},
    auth=can_read("customers.view_customer"),
)
def export_customers(
    request: HttpRequest, params: Query[CustomerListQuery]
) -> StreamingHttpResponse:
    """The filtered customers as CSV, streamed, in the list's sort."""
    return list_export(request, selectors.CUSTOMER_LIST, params)


@router.get(
    "/customers/{int:customer_id}",
    response={200: CustomerOut, **ERRORS},
    auth=can_read("customers.view_customer"),
)
def get_customer(request: HttpRequest, customer_id: int):
    return customer_out(selectors.get_customer(customer_id=customer_id))


@router.patch(
    "/customers/{int:customer_id}",
    response={200: CustomerOut, **ERRORS},
    auth=can_write("customers.change_customer"),
)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerUpdateIn):
    actor = request.actor
    customer = selectors.get_customer(customer_id=customer_id)
    services.update_customer(
        customer=customer, changes=payload.model_dump(exclude_unset=True), actor=actor
    )
    return customer_out(selectors.get_customer(customer_id=customer_id))


class SalesPlanIn(StrictIn):
    offer_number: Number
    manager_id: Id | None = Field(None, description="Defaults to the signed-in user")
    note: str = Field("", max_length=500)


class SalesPlanOut(Schema):
    id: int
    offer_number: int
    offer_name: str
    manager: str
    note: str
    recorded_at: datetime


def sales_plan_out(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "offer_number": entry.offer.number,
        "offer_name": entry.offer.name,
        "manager": entry.manager.get_username(),
        "note": entry.note,
        "recorded_at": entry.recorded_at,
    }


@router.get(
    "/customers/{int:customer_id}/sales-plan",
    response={200: list[SalesPlanOut], **ERRORS},
    auth=can_read("orders.view_salesplanentry"),
)
def list_sales_plan(request: HttpRequest, customer_id: int):
    customer = selectors.get_customer(customer_id=customer_id)
    return [sales_plan_out(e) for e in order_selectors.list_sales_plan(customer=customer)]


@router.post(
    "/customers/{int:customer_id}/sales-plan",
    response={201: SalesPlanOut, **ERRORS},
    auth=can_write("orders.add_salesplanentry"),
)
def record_sales_plan(request: HttpRequest, customer_id: int, payload: SalesPlanIn):
    """Record that the customer paid for an offer through a sales manager."""
    actor = request.actor
    entry = attribution.record_sales_plan_entry(
        customer=selectors.get_customer(customer_id=customer_id),
        offer=get_offer(number=payload.offer_number, field="offer_number"),
        manager_id=payload.manager_id,
        note=payload.note,
        actor=actor,
    )
    return Status(201, sales_plan_out(entry))
