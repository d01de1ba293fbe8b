"""Writes for the catalog: categories, offers and their variants (SKUs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ordersight.catalog.models import Category, Offer, OfferExternalId, Variant, VariantExternalId
from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid, NotFound
from ordersight.core.sequences import next_free_number
from ordersight.core.validation import amount_error, clean_currency, clean_external_ids


def _clean_text(value: Any, field: str, *, max_length: int = 200, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str | type(None)) else str(value)
    if required and not text:
        raise Invalid(_("{field} is required.").format(field=field), fields={field: _("required")})
    if len(text) > max_length:
        raise Invalid(
            _("{field} is too long.").format(field=field),
            fields={field: _("at most {max} characters").format(max=max_length)},
        )
    return text


def _clean_price(value: Any, currency: str, field: str) -> Decimal:
    if value is None:  # a PATCH may send null; an offer or variant always has a price
        raise Invalid(_("{field} is required.").format(field=field), fields={field: _("required")})
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(
            _("{field} is not an amount.").format(field=field),
            fields={field: _("an amount such as 5.00")},
        ) from None
    problem = amount_error(amount, currency)
    if problem:
        raise Invalid(
            _("{field} {problem}.").format(field=field, problem=problem), fields={field: problem}
        )
    return amount


def _category(number: int, field: str = "category_number") -> Category:
    category = Category.objects.filter(number=number).first()
    if category is None:
        raise Invalid(
            _("No category number {number}.").format(number=number),
            fields={field: _("unknown category")},
        )
    return category


def _check_number_free(model: type, number: int | None, field: str = "number") -> None:
    if number is not None and model.objects.filter(number=number).exists():
        raise Conflict(
            _("Number {number} is already used.").format(number=number),
            fields={field: _("already used")},
        )


def _check_sku_free(sku: str, field: str, exclude_pk: int | None = None) -> None:
    taken = Variant.objects.filter(sku=sku).exclude(pk=exclude_pk).exists()
    if taken:
        raise Conflict(
            _("SKU {sku} already exists.").format(sku=sku), fields={field: _("SKU already exists")}
        )


def _set_external_ids(
    model: type, owner_field: str, owner: Any, ids: Mapping[str, str], field: str
) -> None:
    for source, external_id in clean_external_ids(ids, field=field).items():
        clash = model.objects.filter(source=source, external_id=external_id).exclude(
            **{owner_field: owner}
        )
        if clash.exists():
            raise Conflict(
                _("External id {source}:{external_id} is already used.").format(
                    source=source, external_id=external_id
                ),
                fields={f"{field}.{source}": _("already used")},
            )
        model.objects.update_or_create(
            **{owner_field: owner}, source=source, defaults={"external_id": str(external_id)}
        )


@retry_on_deadlock
@transaction.atomic
def create_category(*, name: str, number: int | None = None, actor: Actor) -> Category:
    _check_number_free(Category, number)
    return Category.objects.create(
        number=number
        or next_free_number(
            "category", lambda n: Category.objects.filter(number=n).exists(), start=100
        ),
        name=_clean_text(name, "name"),
    )


@retry_on_deadlock
@transaction.atomic
def update_category(*, category: Category, changes: Mapping[str, Any], actor: Actor) -> Category:
    category = Category.objects.select_for_update(no_key=True).get(pk=category.pk)
    if "name" in changes:
        category.name = _clean_text(changes["name"], "name")
        category.save(update_fields=["name"])
    return category


def _create_variant(offer: Offer, data: Mapping[str, Any], field: str) -> Variant:
    sku = _clean_text(data.get("sku"), f"{field}.sku", max_length=100)
    _check_sku_free(sku, f"{field}.sku")
    price = data.get("unit_price")
    variant = Variant.objects.create(
        offer=offer,
        sku=sku,
        name=_clean_text(data.get("name"), f"{field}.name", required=False),
        unit_price=None
        if price is None
        else _clean_price(price, offer.currency, f"{field}.unit_price"),
    )
    _set_external_ids(
        VariantExternalId,
        "variant",
        variant,
        data.get("external_ids") or {},
        f"{field}.external_ids",
    )
    return variant


@retry_on_deadlock
@transaction.atomic
def create_offer(
    *,
    name: str,
    category_number: int,
    currency: str,
    unit_price: Decimal,
    number: int | None = None,
    allow_quantity: bool = False,
    allow_partial_payments: bool = False,
    variants: Sequence[Mapping[str, Any]] = (),
    external_ids: Mapping[str, str] | None = None,
    actor: Actor,
) -> Offer:
    currency = clean_currency(currency)
    _check_number_free(Offer, number)
    offer = Offer.objects.create(
        number=number
        or next_free_number("offer", lambda n: Offer.objects.filter(number=n).exists(), start=1000),
        name=_clean_text(name, "name"),
        category=_category(category_number),
        currency=currency,
        unit_price=_clean_price(unit_price, currency, "unit_price"),
        allow_quantity=allow_quantity,
        allow_partial_payments=allow_partial_payments,
    )
    for i, data in enumerate(variants):
        _create_variant(offer, data, f"variants[{i}]")
    _set_external_ids(OfferExternalId, "offer", offer, external_ids or {}, "external_ids")
    return offer


@retry_on_deadlock
@transaction.atomic
def update_offer(*, offer: Offer, changes: Mapping[str, Any], actor: Actor) -> Offer:
    """Apply the given fields; the currency is fixed once orders may reference the price."""
    offer = Offer.objects.select_for_update(no_key=True).get(pk=offer.pk)
    fields = []
    if "name" in changes:
        offer.name = _clean_text(changes["name"], "name")
        fields.append("name")
    if "category_number" in changes:
        offer.category = _category(changes["category_number"])
        fields.append("category")
    if "unit_price" in changes:
        offer.unit_price = _clean_price(changes["unit_price"], offer.currency, "unit_price")
        fields.append("unit_price")
    for flag in ("allow_quantity", "allow_partial_payments", "is_active"):
        if flag in changes:
            setattr(offer, flag, bool(changes[flag]))
            fields.append(flag)
    if fields:
        offer.save(update_fields=[*fields, "updated_at"])
    if changes.get("external_ids"):
        _set_external_ids(OfferExternalId, "offer", offer, changes["external_ids"], "external_ids")
    return offer


@retry_on_deadlock
@transaction.atomic
def add_variant(*, offer: Offer, data: Mapping[str, Any], actor: Actor) -> Variant:
    return _create_variant(offer, data, "variant")


@retry_on_deadlock
@transaction.atomic
def update_variant(*, sku: str, changes: Mapping[str, Any], actor: Actor) -> Variant:
    variant = (
        Variant.objects.select_for_update(no_key=True)
        .select_related("offer")
        .filter(sku=sku)
        .first()
    )
    if variant is None:
        raise NotFound(
            _("No variant with SKU {sku}.").format(sku=sku), fields={"sku": _("not found")}
        )
    fields = []
    if "name" in changes:
        variant.name = _clean_text(changes["name"], "name", required=False)
        fields.append("name")
    if "unit_price" in changes:
        price = changes["unit_price"]
        variant.unit_price = (
            None if price is None else _clean_price(price, variant.offer.currency, "unit_price")
        )
        fields.append("unit_price")
    if "is_active" in changes:
        variant.is_active = bool(changes["is_active"])
        fields.append("is_active")
    if fields:
        variant.save(update_fields=fields)
    if changes.get("external_ids"):
        _set_external_ids(
            VariantExternalId, "variant", variant, changes["external_ids"], "external_ids"
        )
    return variant
