"""Bulk upsert of offers (with their variants) by offer number or variant SKU.

A store's catalog arrives by the thousand: each item is validated alone (a bad one is
reported and skipped), then the batch is written in one transaction with a few statements.
An item finds its offer by `number` when given, else by the SKU of any of its variants; an
offer found is updated field by field (its currency is fixed), new SKUs are added to it and
known ones updated; an offer not found is created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ordersight.catalog.models import Category, Offer, Variant
from ordersight.core.actors import Actor
from ordersight.core.bulk import ItemResult, insert_many
from ordersight.core.errors import Invalid
from ordersight.core.money import is_currency
from ordersight.core.sequences import reserve_numbers
from ordersight.core.validation import MAX_NUMBER, amount_error, is_id

NAME_MAX = 200
SKU_MAX = 100
FLAGS = ("allow_quantity", "allow_partial_payments", "is_active")
OFFER_NUMBER_START = 1000


@dataclass
class VariantRow:
    sku: str
    values: dict[str, Any]  # name, unit_price (None = the offer's), as given


@dataclass
class OfferRow:
    number: int | None
    values: dict[str, Any]  # name, currency, unit_price, category_number, flags, as given
    variants: list[VariantRow] = field(default_factory=list)


def _text(value: Any, name: str, limit: int, errors: dict[str, str], required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[name] = _("must be text")
    elif required and not text:
        errors[name] = _("required")
    elif len(text) > limit:
        errors[name] = _("at most {max} characters").format(max=limit)
    return text


def _price(value: Any, currency: str | None, name: str, errors: dict[str, str]) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = _("must be a decimal amount")
        return None
    if currency is not None:
        problem = amount_error(amount, currency)
        if problem:
            errors[name] = problem
    return amount


def clean_item(item: Mapping[str, Any]) -> OfferRow:
    """One item, validated as far as it can be alone; Invalid names every bad field."""
    errors: dict[str, str] = {}
    number = item.get("number")
    if number is not None and not (is_id(number) and number <= MAX_NUMBER):
        errors["number"] = _("a whole number from 1 to {max}").format(max=MAX_NUMBER)
        number = None
    values: dict[str, Any] = {}
    if "name" in item:
        values["name"] = _text(item["name"], "name", NAME_MAX, errors, True)
    currency = None
    if "currency" in item:
        currency = str(item["currency"] or "").upper()
        if not is_currency(currency):
            errors["currency"] = _("an ISO 4217 code")
            currency = None
        values["currency"] = currency
    if "unit_price" in item:
        values["unit_price"] = _price(item["unit_price"], currency, "unit_price", errors)
    if "category_number" in item:
        category = item["category_number"]
        if not (is_id(category) and category <= MAX_NUMBER):
            errors["category_number"] = _("a category number")
        values["category_number"] = category
    for flag in FLAGS:
        if flag in item:
            if not isinstance(item[flag], bool):
                errors[flag] = _("true or false")
            values[flag] = item[flag]
    variants = []
    raw_variants = item.get("variants") or []
    if not isinstance(raw_variants, list):
        errors["variants"] = _("a list")
        raw_variants = []
    skus: set[str] = set()
    for i, raw in enumerate(raw_variants):
        where = f"variants[{i}]"
        if not isinstance(raw, Mapping):
            errors[where] = _("an object")
            continue
        sku = _text(raw.get("sku"), f"{where}.sku", SKU_MAX, errors, True)
        if sku in skus:
            errors[f"{where}.sku"] = _("twice in this offer")
        skus.add(sku)
        v: dict[str, Any] = {}
        if "name" in raw:
            v["name"] = _text(raw["name"], f"{where}.name", NAME_MAX, errors, False)
        if raw.get("unit_price") is not None:
            v["unit_price"] = _price(raw["unit_price"], currency, f"{where}.unit_price", errors)
        variants.append(VariantRow(sku, v))
    if number is None and not variants:
        errors["number"] = _("give the offer's number or at least one variant SKU")
    if errors:
        raise Invalid(_("The offer is not valid."), fields=errors)
    return OfferRow(number, values, variants)


def upsert_offers(*, items: Sequence[Mapping[str, Any]], actor: Actor) -> list[ItemResult]:
    """Create or update up to a thousand offers; one retry if a concurrent writer created
    one of them meanwhile."""
    try:
        return _upsert(items)
    except IntegrityError:
        return _upsert(items)


@transaction.atomic
def _upsert(items: Sequence[Mapping[str, Any]]) -> list[ItemResult]:
    results: list[ItemResult] = []
    rows: list[tuple[ItemResult, OfferRow]] = []
    for index, item in enumerate(items):
        result = ItemResult(index=index)
        results.append(result)
        try:
            row = clean_item(item if isinstance(item, Mapping) else {})
        except Invalid as exc:
            result.message, result.fields = exc.message, exc.fields
            continue
        result.number = row.number
        rows.append((result, row))
    found, sku_owners = _find(rows)
    categories = _categories(rows)
    claimed: dict[int, int] = {}  # offer id -> the item that updates it
    skus_in_batch: dict[str, int] = {}
    creates: list[tuple[ItemResult, OfferRow]] = []
    updates: list[tuple[ItemResult, OfferRow, Offer]] = []
    for result, row in rows:
        offer = found.get(id(row))
        problem = _check(row, offer, categories, claimed, skus_in_batch, sku_owners)
        if problem:
            result.message, result.fields = "The offer cannot be saved.", problem
            continue
        if offer is None:
            creates.append((result, row))
        else:
            claimed[offer.pk] = result.index
            updates.append((result, row, offer))
        for v in row.variants:
            skus_in_batch[v.sku] = result.index
    _create(creates, categories)
    _update(updates, categories)
    return results


def _find(
    rows: Sequence[tuple[ItemResult, OfferRow]],
) -> tuple[dict[int, Offer], dict[str, int]]:
    """The stored offer of each row (keyed by the row's id()), locked for the batch, and
    the offer id each SKU named in the batch already belongs to."""
    numbers = {row.number for _result, row in rows if row.number is not None}
    skus = {v.sku for _result, row in rows for v in row.variants}
    by_number = {o.number: o for o in Offer.objects.filter(number__in=numbers)}
    by_sku = {
        v.sku: v.offer_id for v in Variant.objects.filter(sku__in=skus).only("sku", "offer_id")
    }
    offer_ids = {o.pk for o in by_number.values()} | set(by_sku.values())
    locked = {
        o.pk: o
        for o in Offer.objects.select_for_update(no_key=True)
        .filter(pk__in=offer_ids)
        .order_by("pk")
    }
    found: dict[int, Offer] = {}
    for _result, row in rows:
        if row.number is not None and row.number in by_number:
            found[id(row)] = locked[by_number[row.number].pk]
        elif row.number is None:
            for v in row.variants:
                if v.sku in by_sku:
                    found[id(row)] = locked[by_sku[v.sku]]
                    break
    return found, by_sku


def _categories(rows: Sequence[tuple[ItemResult, OfferRow]]) -> dict[int, Category]:
    numbers = {
        row.values["category_number"] for _result, row in rows if "category_number" in row.values
    }
    return {c.number: c for c in Category.objects.filter(number__in=numbers)}


def _check(
    row: OfferRow,
    offer: Offer | None,
    categories: dict[int, Category],
    claimed: dict[int, int],
    skus_in_batch: dict[str, int],
    sku_owners: dict[str, int],
) -> dict[str, str]:
    """What keeps a row from being saved, given what is stored and earlier rows."""
    problem: dict[str, str] = {}
    values = row.values
    if "category_number" in values and values["category_number"] not in categories:
        problem["category_number"] = "unknown category"
    for i, v in enumerate(row.variants):
        owner = sku_owners.get(v.sku)
        if v.sku in skus_in_batch:
            problem[f"variants[{i}].sku"] = f"also in item {skus_in_batch[v.sku]}"
        elif owner is not None and (offer is None or owner != offer.pk):
            problem[f"variants[{i}].sku"] = "belongs to another offer"
    if offer is None:
        for name in ("name", "currency", "unit_price", "category_number"):
            if name not in values:
                problem.setdefault(name, "required for a new offer")
        return problem
    if offer.pk in claimed:
        problem["number"] = f"the same offer as item {claimed[offer.pk]}"
    if "currency" in values and values["currency"] != offer.currency:
        problem["currency"] = f"fixed at {offer.currency} once the offer exists"
    for name, amount in [("unit_price", values.get("unit_price"))] + [
        (f"variants[{i}].unit_price", v.values.get("unit_price"))
        for i, v in enumerate(row.variants)
    ]:
        if amount is not None and amount_error(amount, offer.currency):
            problem[name] = amount_error(amount, offer.currency)
    return problem


def _new_numbers(count: int) -> list[int]:
    """Offer numbers from the sequence, skipping any a person chose by hand."""
    numbers: list[int] = []
    while len(numbers) < count:
        block = list(reserve_numbers("offer", count - len(numbers), start=OFFER_NUMBER_START))
        taken = set(Offer.objects.filter(number__in=block).values_list("number", flat=True))
        numbers += [n for n in block if n not in taken]
    return numbers


def _create(creates: Sequence[tuple[ItemResult, OfferRow]], categories: dict) -> None:
    if not creates:
        return
    automatic = iter(_new_numbers(sum(1 for _result, row in creates if row.number is None)))
    offers = []
    for _result, row in creates:
        v = row.values
        offers.append(
            Offer(
                number=row.number if row.number is not None else next(automatic),
                name=v["name"],
                category=categories[v["category_number"]],
                currency=v["currency"],
                unit_price=v["unit_price"],
                **{flag: v[flag] for flag in FLAGS if flag in v},
            )
        )
    insert_many(Offer, offers)
    insert_many(
        Variant,
        [
            Variant(
                offer=offer,
                sku=variant.sku,
                name=variant.values.get("name", ""),
                unit_price=variant.values.get("unit_price"),
            )
            for offer, (_result, row) in zip(offers, creates, strict=True)
            for variant in row.variants
        ],
    )
    for offer, (result, _row) in zip(offers, creates, strict=True):
        result.result, result.number, result.id = "created", offer.number, offer.pk


def _update(updates: Sequence[tuple[ItemResult, OfferRow, Offer]], categories: dict) -> None:
    if not updates:
        return
    stored = {
        v.sku: v
        for v in Variant.objects.filter(offer_id__in=[offer.pk for _result, _row, offer in updates])
    }
    changed_offers: list[Offer] = []
    offer_fields: set[str] = set()
    changed_variants: list[Variant] = []
    new_variants: list[Variant] = []
    now = timezone.now()
    for result, row, offer in updates:
        wanted = dict(row.values)
        wanted.pop("currency", None)
        if "category_number" in wanted:
            wanted["category_id"] = categories[wanted.pop("category_number")].pk
        diff = [name for name, value in wanted.items() if getattr(offer, name) != value]
        for name in diff:
            setattr(offer, name, wanted[name])
        if diff:
            offer.updated_at = now  # bulk_update leaves auto_now alone
            changed_offers.append(offer)
            offer_fields.update(diff)
        variants_changed = False
        for variant in row.variants:
            existing = stored.get(variant.sku)
            if existing is None or existing.offer_id != offer.pk:
                new_variants.append(
                    Variant(
                        offer=offer,
                        sku=variant.sku,
                        name=variant.values.get("name", ""),
                        unit_price=variant.values.get("unit_price"),
                    )
                )
                variants_changed = True
                continue
            vdiff = [n for n, v in variant.values.items() if getattr(existing, n) != v]
            for name in vdiff:
                setattr(existing, name, variant.values[name])
            if vdiff:
                changed_variants.append(existing)
                variants_changed = True
        result.number, result.id = offer.number, offer.pk
        result.result = "updated" if diff or variants_changed else "unchanged"
    if changed_offers:
        Offer.objects.bulk_update(changed_offers, [*sorted(offer_fields), "updated_at"])
    if changed_variants:
        Variant.objects.bulk_update(changed_variants, ["name", "unit_price"])
    if new_variants:
        insert_many(Variant, new_variants)
