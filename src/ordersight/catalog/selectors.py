"""Reads for the catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from ordersight.catalog.filters import OfferFilterSet, VariantFilterSet
from ordersight.catalog.models import (
    Category,
    Offer,
    Variant,
    variant_display_name,
    variant_price,
)
from ordersight.core.csv_stream import IsoTimestamp, money_text, neutralised, yes_no
from ordersight.core.errors import NotFound
from ordersight.core.lists import ListSpec
from ordersight.core.validation import MAX_NUMBER, SEARCH_PART_MIN, ascii_int, is_id


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


def _own_price() -> Case:
    return Case(
        When(unit_price__isnull=True, then=Value("")),
        default=money_text("unit_price", "offer__currency"),
        output_field=CharField(),
    )


def _offers() -> QuerySet[Offer]:
    return Offer.objects.select_related("category").prefetch_related(
        "external_ids", "variants__external_ids"
    )


# `GET /api/v1/offers` and its export: the catalog by offer number.
OFFER_LIST = ListSpec(
    name="offers",
    filterset=OfferFilterSet,
    base=_offers,
    sorts={"number": "number", "name": "name", "created_at": "created_at"},
    default_sort="number",
    columns=(
        ("number", "number"),
        ("name", neutralised("name")),
        ("category_number", "category__number"),
        ("currency", "currency"),
        ("unit_price", money_text("unit_price")),
        ("is_active", yes_no("is_active")),
        ("allow_partial_payments", yes_no("allow_partial_payments")),
        ("created_at", IsoTimestamp("created_at")),
    ),
    filename="offers.csv",
)


def get_offer(*, number: int, field: str = "number") -> Offer:
    offer = _offers().filter(number=number).first() if is_id(number, limit=MAX_NUMBER) else None
    if offer is None:
        raise NotFound(
            _("No offer {number}.").format(number=number), fields={field: _("not found")}
        )
    return offer


# `GET /api/v1/variants` and its export: SKUs, each with its offer; a variant's own price
# when it has one, else blank (it sells at its offer's).
VARIANT_LIST = ListSpec(
    name="variants",
    filterset=VariantFilterSet,
    base=lambda: Variant.objects.select_related("offer__category").prefetch_related("external_ids"),
    sorts={"sku": "sku", "offer": "offer__number"},
    default_sort="sku",
    columns=(
        ("sku", neutralised("sku")),
        ("name", neutralised("name")),
        ("offer_number", "offer__number"),
        ("currency", "offer__currency"),
        ("unit_price", _own_price()),
        ("is_active", yes_no("is_active")),
    ),
    filename="variants.csv",
)


def variants_by_sku(*, skus: set[str]) -> dict[str, Variant]:
    """The variants for these SKUs with their offers, in one query."""
    return {
        v.sku: v for v in Variant.objects.select_related("offer__category").filter(sku__in=skus)
    }


class VariantPrice(NamedTuple):
    """What pricing an order line reads of a SKU, as plain values: an ingest batch prices
    thousands of lines, and a variant with its offer and category as model objects cost
    more to build than the query took."""

    sku: str
    variant_id: int
    name: str  # as `Variant.display_name`
    price: Decimal  # as `Variant.price`
    on_sale: bool  # the variant and its offer both active
    offer_id: int
    offer_number: int
    currency: str
    allow_quantity: bool
    category_number: int


def variant_prices(*, skus: set[str]) -> dict[str, VariantPrice]:
    """The price and what a line records of each of these SKUs, in one query."""
    rows = Variant.objects.filter(sku__in=skus).values_list(
        "sku",
        "pk",
        "name",
        "unit_price",
        "is_active",
        "offer_id",
        "offer__number",
        "offer__name",
        "offer__unit_price",
        "offer__currency",
        "offer__is_active",
        "offer__allow_quantity",
        "offer__category__number",
    )
    found: dict[str, VariantPrice] = {}
    for (
        sku,
        pk,
        name,
        price,
        active,
        offer_id,
        number,
        offer_name,
        offer_price,
        currency,
        offer_active,
        allow_quantity,
        category_number,
    ) in rows:
        found[sku] = VariantPrice(
            sku=sku,
            variant_id=pk,
            name=variant_display_name(offer_name, name),
            price=variant_price(price, offer_price),
            on_sale=active and offer_active,
            offer_id=offer_id,
            offer_number=number,
            currency=currency,
            allow_quantity=allow_quantity,
            category_number=category_number,
        )
    return found


def find_variants(*, term: str, limit: int, for_sale: bool = False) -> list[Variant]:
    """Variants whose SKU holds the search text (the whole SKU when it is shorter than
    three characters), the exact SKU first, each with its offer. `for_sale`: only active
    variants of active offers, found by their offer's name too (a person adding a line
    types what they sell)."""
    sku = term.strip()
    if not sku:
        return []
    rows = Variant.objects.select_related("offer")
    if for_sale:
        rows = rows.filter(is_active=True, offer__is_active=True)
    if len(sku) < SEARCH_PART_MIN:
        return list(rows.filter(sku__iexact=sku)[:limit])
    matching = Q(sku__icontains=sku)
    if for_sale:
        named = Offer.objects.filter(name__icontains=sku, is_active=True)
        named = named.order_by("number").values("id")
        matching |= Q(offer_id__in=named[:limit])
    exact = Case(When(sku__iexact=sku, then=Value(0)), default=Value(1))
    return list(rows.filter(matching).order_by(exact, "sku")[:limit])


def offer_numbered(*, text: str) -> Offer | None:
    """The offer whose number `text` is (as a form or a URL sends it), else None: words,
    a number out of range, or no such offer."""
    number = _offer_number(text)
    return Offer.objects.filter(number=number).first() if number is not None else None


def _offer_number(text: str) -> int | None:
    number = ascii_int(text.strip())
    return number if is_id(number, limit=MAX_NUMBER) else None


def find_offers(*, term: str, limit: int) -> list[Offer]:
    """Offers whose number is the search text or whose name holds it (three characters or
    more), the numbered one first."""
    term = term.strip()
    number = _offer_number(term)
    matching = Q(pk__in=[])
    if number is not None:
        matching |= Q(number=number)
    if len(term) >= SEARCH_PART_MIN:
        matching |= Q(name__icontains=term)
    numbered = Case(When(number=number or 0, then=Value(0)), default=Value(1))
    return list(Offer.objects.filter(matching).order_by(numbered, "number")[:limit])
