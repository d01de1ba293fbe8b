"""Catalog API: categories, offers and variants (SKUs)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, WithJsonSchema

from ordersight.accounts.auth import can_read, can_write
from ordersight.api.lists import BulkOut, bulk_out, list_export, list_page
from ordersight.catalog import bulk, selectors, services
from ordersight.catalog.filters import OfferFilterSet, VariantFilterSet
from ordersight.catalog.models import Category, Offer, Variant
from ordersight.core.errors import Forbidden
from ordersight.core.money import format_money
from ordersight.http.query_schemas import query_schema
from ordersight.http.schemas import (
    AMOUNT_SCHEMA,
    NUMBER_SCHEMA,
    VISIBLE,
    Amount,
    Currency,
    ExternalIds,
    Number,
    PageOut,
    StrictIn,
    decimals_by_currency,
    error_responses,
    text,
)

router = Router(tags=["catalog"])
OfferListQuery = query_schema(OfferFilterSet, "OfferListQuery", sorts=selectors.OFFER_LIST.sorts)
VariantListQuery = query_schema(
    VariantFilterSet, "VariantListQuery", sorts=selectors.VARIANT_LIST.sorts
)
ERRORS = error_responses()


class CategoryIn(StrictIn):
    name: text(200)
    number: Number | None = Field(None, description="Assigned when omitted")


class CategoryUpdateIn(StrictIn):
    name: text(200)


class CategoryOut(Schema):
    number: int
    name: str


Sku = Annotated[str, WithJsonSchema({"type": "string", "maxLength": 100, "pattern": VISIBLE})]
VariantName = Annotated[str, WithJsonSchema({"type": "string", "maxLength": 200})]


class VariantIn(StrictIn):
    sku: Sku = Field(..., description="Unique across the catalog")
    name: VariantName = ""
    unit_price: Amount | None = Field(
        None, description="Overrides the offer's price; in the offer's currency"
    )
    external_ids: ExternalIds = {}


class VariantUpdateIn(StrictIn):
    name: VariantName | None = None
    unit_price: Amount | None = Field(
        None, description="In the offer's currency, with at most as many decimals as it has"
    )
    is_active: bool | None = None
    external_ids: ExternalIds | None = None


class OfferIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                decimals_by_currency(
                    "currency",
                    lambda pattern: {
                        "properties": {
                            "unit_price": {"pattern": pattern},
                            "variants": {
                                "items": {"properties": {"unit_price": {"pattern": pattern}}}
                            },
                        }
                    },
                )
            ]
        }
    )

    name: text(200)
    category_number: Number
    currency: Currency
    unit_price: Amount
    number: Number | None = Field(None, description="Assigned when omitted")
    allow_quantity: bool = False
    allow_partial_payments: bool = False
    variants: list[VariantIn] = []
    external_ids: ExternalIds = {}


class OfferUpdateIn(StrictIn):
    name: text(200) = None
    # A price and a category are never taken away, so null is no value for them (the
    # service refuses it naming the field).
    category_number: Annotated[int | None, WithJsonSchema(NUMBER_SCHEMA)] = None
    unit_price: Annotated[Decimal | None, WithJsonSchema(AMOUNT_SCHEMA)] = Field(
        None, description="In the offer's currency, with at most as many decimals as it has"
    )
    allow_quantity: bool | None = None
    allow_partial_payments: bool | None = None
    is_active: bool | None = None
    external_ids: ExternalIds | None = None


class VariantOut(Schema):
    sku: str
    name: str
    offer_number: int
    unit_price: str
    is_active: bool
    external_ids: dict[str, str]


class OfferOut(Schema):
    number: int
    name: str
    category_number: int
    currency: str
    unit_price: str
    allow_quantity: bool
    allow_partial_payments: bool
    is_active: bool
    external_ids: dict[str, str]
    variants: list[VariantOut]


def category_out(category: Category) -> dict[str, Any]:
    return {"number": category.number, "name": category.name}


def variant_out(variant: Variant, offer: Offer | None = None) -> dict[str, Any]:
    offer = offer or variant.offer
    return {
        "sku": variant.sku,
        "name": variant.name,
        "offer_number": offer.number,
        "unit_price": format_money(variant.price, offer.currency),
        "is_active": variant.is_active,
        "external_ids": {e.source: e.external_id for e in variant.external_ids.all()},
    }


def offer_out(offer: Offer) -> dict[str, Any]:
    return {
        "number": offer.number,
        "name": offer.name,
        "category_number": offer.category.number,
        "currency": offer.currency,
        "unit_price": format_money(offer.unit_price, offer.currency),
        "allow_quantity": offer.allow_quantity,
        "allow_partial_payments": offer.allow_partial_payments,
        "is_active": offer.is_active,
        "external_ids": {e.source: e.external_id for e in offer.external_ids.all()},
        "variants": [variant_out(v, offer) for v in offer.variants.all()],
    }


@router.post(
    "/categories", response={201: CategoryOut, **ERRORS}, auth=can_write("catalog.add_category")
)
def create_category(request: HttpRequest, payload: CategoryIn):
    actor = request.actor
    return Status(201, category_out(services.create_category(**payload.model_dump(), actor=actor)))


@router.get(
    "/categories",
    response={200: list[CategoryOut], **ERRORS},
    auth=can_read("catalog.view_category"),
)
def list_categories(request: HttpRequest):
    return [category_out(c) for c in selectors.list_categories()]


@router.get(
    "/categories/{int:number}",
    response={200: CategoryOut, **ERRORS},
    auth=can_read("catalog.view_category"),
)
def get_category(request: HttpRequest, number: int):
    return category_out(selectors.get_category(number=number))


@router.patch(
    "/categories/{int:number}",
    response={200: CategoryOut, **ERRORS},
    auth=can_write("catalog.change_category"),
)
def update_category(request: HttpRequest, number: int, payload: CategoryUpdateIn):
    actor = request.actor
    category = services.update_category(
        category=selectors.get_category(number=number), changes=payload.model_dump(), actor=actor
    )
    return category_out(category)


class OfferBulkIn(StrictIn):
    offers: list[dict[str, Any]] = Field(
        ...,
        max_length=1000,
        description="At most 1,000 offers, each as POST /offers takes it (with `variants`); "
        "found by `number`, else by a variant's `sku`",
    )


@router.post("/offers/bulk", response={200: BulkOut, **ERRORS}, auth=can_write("catalog.add_offer"))
def bulk_upsert_offers(request: HttpRequest, payload: OfferBulkIn) -> dict[str, Any]:
    """Create or update up to 1,000 offers by offer number or variant SKU; a result per
    item, a bad item reported without stopping the others."""
    actor = request.actor
    if not actor.has_perm("catalog.change_offer"):
        raise Forbidden(
            "Bulk upsert also changes offers: it needs catalog.change_offer.",
            fields={"permission": "catalog.change_offer"},
        )
    return bulk_out(bulk.upsert_offers(items=payload.offers, actor=actor))


@router.post("/offers", response={201: OfferOut, **ERRORS}, auth=can_write("catalog.add_offer"))
def create_offer(request: HttpRequest, payload: OfferIn):
    actor = request.actor
    data = payload.model_dump()
    offer = services.create_offer(**data, actor=actor)
    return Status(201, offer_out(selectors.get_offer(number=offer.number)))


@router.get(
    "/offers", response={200: PageOut[OfferOut], **ERRORS}, auth=can_read("catalog.view_offer")
)
def list_offers(request: HttpRequest, params: Query[OfferListQuery]):
    """Offers by number (or `sort`), with their variants, by keyset."""
    return list_page(request, selectors.OFFER_LIST, params, offer_out)


@router.get(
    "/offers/export.csv", response={200: None, **ERRORS}, auth=can_read("catalog.view_offer")
)
def export_offers(request: HttpRequest, params: Query[OfferListQuery]) -> StreamingHttpResponse:
    """The offers the filters select, as CSV, in the list's sort."""
    return list_export(request, selectors.OFFER_LIST, params)


@router.get(
    "/offers/{int:number}", response={200: OfferOut, **ERRORS}, auth=can_read("catalog.view_offer")
)
def get_offer(request: HttpRequest, number: int):
    return offer_out(selectors.get_offer(number=number))


@router.patch(
    "/offers/{int:number}",
    response={200: OfferOut, **ERRORS},
    auth=can_write("catalog.change_offer"),
)
def update_offer(request: HttpRequest, number: int, payload: OfferUpdateIn):
    actor = request.actor
    services.update_offer(
        offer=selectors.get_offer(number=number),
        changes=payload.model_dump(exclude_unset=True),
        actor=actor,
    )
    return offer_out(selectors.get_offer(number=number))


@router.post(
    "/offers/{int:number}/variants",
    response={201: VariantOut, **ERRORS},
    auth=can_write("catalog.change_offer"),
)
def add_variant(request: HttpRequest, number: int, payload: VariantIn):
    actor = request.actor
    offer = selectors.get_offer(number=number)
    variant = services.add_variant(offer=offer, data=payload.model_dump(), actor=actor)
    return Status(201, variant_out(variant, offer))


@router.get(
    "/variants",
    response={200: PageOut[VariantOut], **ERRORS},
    auth=can_read("catalog.view_variant"),
)
def list_variants(request: HttpRequest, params: Query[VariantListQuery]):
    """Look up variants by SKU, offer number, or an external variant or product id."""
    return list_page(request, selectors.VARIANT_LIST, params, variant_out)


# Before `/variants/{sku}`, which would otherwise read "export.csv" as a SKU.
@router.get(
    "/variants/export.csv",
    response={200: None, **ERRORS},
    auth=can_read("catalog.view_variant"),
)
def export_variants(request: HttpRequest, params: Query[VariantListQuery]) -> StreamingHttpResponse:
    """The variants the filters select, as CSV, in the list's sort."""
    return list_export(request, selectors.VARIANT_LIST, params)


@router.patch(
    "/variants/{sku}",
    response={200: VariantOut, **ERRORS},
    auth=can_write("catalog.change_variant"),
)
def update_variant(request: HttpRequest, sku: str, payload: VariantUpdateIn):
    actor = request.actor
    variant = services.update_variant(
        sku=sku, changes=payload.model_dump(exclude_unset=True), actor=actor
    )
    return variant_out(variant)
