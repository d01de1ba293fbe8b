"""Writes for customers: create and update, with tags and external ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid
from ordersight.core.validation import clean_email, clean_external_ids, clean_metadata
from ordersight.customers.models import Customer, CustomerExternalId, Tag

TAG_MAX = 64


def _locking(customer_ids: Iterable[int | None]) -> QuerySet[Customer]:
    ids = sorted({pk for pk in customer_ids if pk is not None})
    return Customer.objects.select_for_update(no_key=True).filter(pk__any=ids).order_by("pk")


def lock_customers(*, customer_ids: Iterable[int | None]) -> None:
    """Hold these customers' rows until the transaction ends: the one way a customer row
    is locked, so that every writer (bulk ingest, recounts, billing, customer edits) takes
    them in one order, by id, and no two writers can wait for each other in a circle.

    FOR NO KEY UPDATE, not FOR UPDATE: it keeps two writers of one customer apart, yet does
    not conflict with the KEY SHARE lock PostgreSQL's foreign key check takes when a row
    naming the customer (an order) is inserted, at commit since Django's keys are deferred.
    Customer rows are never deleted nor their ids changed, so no writer needs more.
    """
    list(_locking(customer_ids).values_list("pk", flat=True))


def locked_customers(*, customer_ids: Iterable[int | None]) -> list[Customer]:
    """`lock_customers`, for a writer that also changes the rows: them, by id."""
    return list(_locking(customer_ids))


def clean_tags(*, tags: Iterable[str]) -> list[str]:
    cleaned = []
    for i, raw in enumerate(tags):
        tag = str(raw).strip().lower()
        if not tag or len(tag) > TAG_MAX:
            raise Invalid(
                ngettext(
                    "Tags must be 1 to {count} character.",
                    "Tags must be 1 to {count} characters.",
                    TAG_MAX,
                ).format(count=TAG_MAX),
                fields={
                    f"tags[{i}]": ngettext(
                        "1 to {count} character", "1 to {count} characters", TAG_MAX
                    ).format(count=TAG_MAX)
                },
            )
        cleaned.append(tag)
    return sorted(set(cleaned))


def clean_name(*, name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(_("A customer needs a name."), fields={"name": _("required")})
    if len(name) > 200:
        raise Invalid(_("The name is too long."), fields={"name": _("at most 200 characters")})
    return name


def _set_tags(customer: Customer, tags: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=tags)}
    missing = [Tag(name=name) for name in tags if name not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    customer.tags.set(Tag.objects.filter(name__in=tags))


def _add_external_ids(customer: Customer, external_ids: Mapping[str, str]) -> None:
    for source, external_id in external_ids.items():
        taken = (
            CustomerExternalId.objects.filter(source=source, external_id=external_id)
            .exclude(customer=customer)
            .exists()
        )
        if taken:
            raise Conflict(
                _("External id {source}:{external_id} already belongs to another customer.").format(
                    source=source, external_id=external_id
                ),
                fields={f"external_ids.{source}": _("already used by another customer")},
            )
        CustomerExternalId.objects.update_or_create(
            customer=customer, source=source, defaults={"external_id": str(external_id)}
        )


@retry_on_deadlock
@transaction.atomic
def create_customer(
    *,
    name: str,
    email: str = "",
    phone: str = "",
    tags: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    external_ids: Mapping[str, str] | None = None,
    actor: Actor,
) -> Customer:
    external_ids = clean_external_ids(external_ids)
    customer = Customer.objects.create(
        name=clean_name(name=name),
        email=clean_email(email),
        phone=(phone or "").strip(),
        metadata=clean_metadata(metadata),
    )
    _set_tags(customer, clean_tags(tags=tags))
    try:
        with transaction.atomic():
            _add_external_ids(customer, external_ids)
    except IntegrityError:
        raise Conflict(
            _("An external id is already in use."), fields={"external_ids": _("taken")}
        ) from None
    return customer


@retry_on_deadlock
@transaction.atomic
def update_customer(*, customer: Customer, changes: Mapping[str, Any], actor: Actor) -> Customer:
    """Apply the given fields only; fields left out keep their values."""
    external_ids = clean_external_ids(changes.get("external_ids"))
    (customer,) = locked_customers(customer_ids=[customer.pk])
    fields = []
    if "name" in changes:
        customer.name = clean_name(name=changes["name"])
        fields.append("name")
    if "email" in changes:
        customer.email = clean_email(changes["email"])
        fields.append("email")
    if "phone" in changes:
        customer.phone = (changes["phone"] or "").strip()
        fields.append("phone")
    if "metadata" in changes:
        customer.metadata = clean_metadata(changes["metadata"])
        fields.append("metadata")
    if fields:
        customer.save(update_fields=[*fields, "updated_at"])
    if "tags" in changes:
        _set_tags(customer, clean_tags(tags=changes["tags"] or []))
    if external_ids:
        _add_external_ids(customer, external_ids)
    return customer
