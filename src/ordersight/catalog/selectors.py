"""Reads for the catalog."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Case, QuerySet, Value, When
from django.utils.translation import gettext as _

from ordersight.catalog.filters import OfferFilterSet, VariantFilterSet
from ordersight.catalog.models import Category, Offer, Variant
from ordersight.core.errors import NotFound
from ordersight.core.filtering import apply_filterset
from ordersight.core.validation import MAX_NUMBER, SEARCH_PART_MIN, is_id


def list_categories() -> QuerySet[Category]:
    return Category.objects.all()


def get_category(*, number: int) -> Category:
    category = (
        Category.objects.filter(number=number).first() if is_id(number, limit=MAX_NUMBER) else None
    )
    if category is None:
        raise NotFound(
            _("No category {number}.").format(number=number), fields={"number": _("not found")}
        )
    return category


def _offers() -> QuerySet[Offer]:
    return Offer.objects.select_related("category").prefetch_related(
        "external_ids", "variants__external_ids"
    )


def list_offers(*, filters: Mapping[str, Any]) -> QuerySet[Offer]:
    return apply_filterset(OfferFilterSet, filters, _offers())


def get_offer(*, number: int, field: str = "number") -> Offer:
    offer = _offers().filter(number=number).first() if is_id(number, limit=MAX_NUMBER) else None
    if offer is None:
        raise NotFound(
            _("No offer {number}.").format(number=number), fields={field: _("not found")}
        )
    return offer


def list_variants(*, filters: Mapping[str, Any]) -> QuerySet[Variant]:
    qs = Variant.objects.select_related("offer__category").prefetch_related("external_ids")
    return apply_filterset(VariantFilterSet, filters, qs)


def variants_by_sku(skus: set[str]) -> dict[str, Variant]:
    """The variants for these SKUs with their offers, in one query."""
    return {
        v.sku: v for v in Variant.objects.select_related("offer__category").filter(sku__in=skus)
    }


def find_variants(*, term: str, limit: int) -> list[Variant]:
    """Variants whose SKU holds the search text (the whole SKU when it is shorter than
    three characters), the exact SKU first, each with its offer."""
    sku = term.strip()
    if not sku:
        return []
    rows = Variant.objects.select_related("offer")
    if len(sku) < SEARCH_PART_MIN:
        return list(rows.filter(sku__iexact=sku)[:limit])
    exact = Case(When(sku__iexact=sku, then=Value(0)), default=Value(1))
    return list(rows.filter(sku__icontains=sku).order_by(exact, "sku")[:limit])
