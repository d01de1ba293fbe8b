"""Bulk upsert of customers by their id in a source system, a result per item.

A store's customer list arrives by the thousand: each item is validated alone (a bad one
is reported and skipped), then the batch is written in one transaction with a few
statements, not a few per customer. An item names its source system and its id there;
a customer already known under that id is updated, field by field, else created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.core.actors import Actor
from ordersight.core.bulk import ItemResult, insert_many
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Invalid
from ordersight.core.validation import (
    EXTERNAL_ID_MAX,
    clean_email,
    clean_metadata,
)
from ordersight.core.validation import EXTERNAL_SOURCE_MAX as SOURCE_MAX
from ordersight.customers.models import Customer, CustomerExternalId, Tag
from ordersight.customers.services import clean_name, clean_tags, locked_customers

FIELDS = ("name", "email", "phone", "metadata")


@dataclass
class CustomerRow:
    source: str
    external_id: str
    values: dict[str, Any]  # the fields the item gives, cleaned
    tags: list[str] | None


def clean_item(item: Mapping[str, Any]) -> CustomerRow:
    """One item, validated; Invalid names every bad field."""
    errors: dict[str, str] = {}
    source = str(item.get("source") or "api").strip()
    if not 0 < len(source) <= SOURCE_MAX:
        errors["source"] = ngettext(
            "1 to {count} character", "1 to {count} characters", SOURCE_MAX
        ).format(count=SOURCE_MAX)
    external_id = item.get("external_id")
    if not isinstance(external_id, str) or not 0 < len(external_id.strip()) <= EXTERNAL_ID_MAX:
        errors["external_id"] = ngettext(
            "required, 1 to {count} character", "required, 1 to {count} characters", EXTERNAL_ID_MAX
        ).format(count=EXTERNAL_ID_MAX)
        external_id = ""
    values: dict[str, Any] = {}
    cleaners = {
        "name": lambda v: clean_name(name=v),
        "email": clean_email,
        "phone": lambda v: str(v or "").strip()[:40],
        "metadata": clean_metadata,
    }
    for name in FIELDS:
        if name in item:
            try:
                values[name] = cleaners[name](item[name])
            except Invalid as exc:
                errors.update(exc.fields or {name: exc.message})
    tags = None
    if "tags" in item:
        try:
            tags = clean_tags(tags=item["tags"] or [])
        except Invalid as exc:
            errors.update(exc.fields)
    if errors:
        raise Invalid(_("The customer is not valid."), fields=errors)
    return CustomerRow(source, external_id.strip(), values, tags)


@retry_on_deadlock
def upsert_customers(*, items: Sequence[Mapping[str, Any]], actor: Actor) -> list[ItemResult]:
    """Create or update up to a thousand customers; if another writer created one of them
    meanwhile, the batch is tried once more and finds it as an update."""
    try:
        return _upsert(items)
    except IntegrityError:
        return _upsert(items)


@transaction.atomic
def _upsert(items: Sequence[Mapping[str, Any]]) -> list[ItemResult]:
    results: list[ItemResult] = []
    rows: list[tuple[ItemResult, CustomerRow]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        result = ItemResult(index=index)
        results.append(result)
        try:
            row = clean_item(item)
        except Invalid as exc:
            result.message, result.fields = exc.message, exc.fields
            result.external_id = item.get("external_id") if isinstance(item, Mapping) else None
            continue
        result.external_id = row.external_id
        if (row.source, row.external_id) in seen:
            result.message = _("The same customer appears twice in this batch.")
            result.fields = {"external_id": _("duplicate in batch")}
            continue
        seen.add((row.source, row.external_id))
        rows.append((result, row))
    known = _known(rows)
    new = [(r, row) for r, row in rows if (row.source, row.external_id) not in known]
    old = [(r, row) for r, row in rows if (row.source, row.external_id) in known]
    for result, row in new:
        if "name" not in row.values:
            result.message = _("A new customer needs a name.")
            result.fields = {"name": _("required")}
    new = [(r, row) for r, row in new if "name" in row.values]
    _create(new)
    _update(old, known)
    return results


def _known(rows: Sequence[tuple[ItemResult, CustomerRow]]) -> dict[tuple[str, str], Customer]:
    if not rows:
        return {}
    found = CustomerExternalId.objects.select_related("customer").filter(
        source__in={row.source for _unused, row in rows},
        external_id__in={row.external_id for _unused, row in rows},
    )
    wanted = {(row.source, row.external_id) for _unused, row in rows}
    known = {(e.source, e.external_id): e.customer for e in found}
    known = {k: c for k, c in known.items() if k in wanted}
    # Lock them for the rest of the batch, in id order.
    by_pk = {c.pk: c for c in locked_customers(customer_ids=(c.pk for c in known.values()))}
    return {k: by_pk[c.pk] for k, c in known.items()}


def _create(new: Sequence[tuple[ItemResult, CustomerRow]]) -> None:
    if not new:
        return
    customers = insert_many(
        Customer,
        [
            Customer(
                name=row.values["name"],
                email=row.values.get("email", ""),
                phone=row.values.get("phone", ""),
                metadata=row.values.get("metadata", {}),
            )
            for _unused, row in new
        ],
    )
    insert_many(
        CustomerExternalId,
        [
            CustomerExternalId(customer=c, source=row.source, external_id=row.external_id)
            for c, (_unused, row) in zip(customers, new, strict=True)
        ],
    )
    _set_tags([(c, row.tags) for c, (_unused, row) in zip(customers, new, strict=True) if row.tags])
    for customer, (result, _unused) in zip(customers, new, strict=True):
        result.result, result.id = "created", customer.pk


def _update(
    old: Sequence[tuple[ItemResult, CustomerRow]], known: dict[tuple[str, str], Customer]
) -> None:
    changed: list[Customer] = []
    fields: set[str] = set()
    retag: list[tuple[Customer, list[str]]] = []
    current_tags: dict[int, set[str]] = {}
    with_tags = [
        known[(row.source, row.external_id)].pk for _unused, row in old if row.tags is not None
    ]
    if with_tags:
        through = Customer.tags.through.objects.filter(customer_id__in=with_tags)
        for customer_id, name in through.values_list("customer_id", "tag__name"):
            current_tags.setdefault(customer_id, set()).add(name)
    for result, row in old:
        customer = known[(row.source, row.external_id)]
        result.id = customer.pk
        diff = [n for n, v in row.values.items() if getattr(customer, n) != v]
        for name in diff:
            setattr(customer, name, row.values[name])
        tags_differ = row.tags is not None and set(row.tags) != current_tags.get(customer.pk, set())
        if diff:
            customer.updated_at = timezone.now()  # bulk_update leaves auto_now alone
            changed.append(customer)
            fields.update(diff)
        if tags_differ:
            retag.append((customer, row.tags or []))
        result.result = "updated" if diff or tags_differ else "unchanged"
    if changed:
        Customer.objects.bulk_update(changed, [*sorted(fields), "updated_at"], batch_size=500)
    if retag:
        Customer.tags.through.objects.filter(
            customer_id__in=[c.pk for c, _unused in retag]
        ).delete()
        _set_tags(retag)


def _set_tags(pairs: Sequence[tuple[Customer, list[str]]]) -> None:
    names = {name for _unused, tags in pairs for name in tags}
    if not names:
        return
    Tag.objects.bulk_create([Tag(name=n) for n in sorted(names)], ignore_conflicts=True)
    ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    through = Customer.tags.through
    through.objects.bulk_create(
        [through(customer_id=c.pk, tag_id=ids[name]) for c, tags in pairs for name in tags]
    )
