"""Reads of store sync: connections with their feeds' statuses, runs with their errors, and
the lookups that put the JSON last received beside the stored record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ordersight.catalog.models import Variant
from ordersight.core.errors import Invalid, NotFound
from ordersight.core.validation import ascii_int, is_id
from ordersight.customers.models import Customer
from ordersight.sync.models import FeedKind, Platform, ReceivedRecord, StoreConnection, SyncRun
from ordersight.sync.services import FeedStatus, feed_status, feeds_of, imported_fields


def source_of(*, connection: StoreConnection) -> str:
    """The source its records are stored under: `shopify`, or `feed` for a generic feed."""
    return "feed" if connection.platform == "feed" else "shopify"


def list_connections() -> QuerySet[StoreConnection]:
    return StoreConnection.objects.order_by("name")


def get_connection(*, name: str) -> StoreConnection:
    found = StoreConnection.objects.filter(name=name).first()
    if found is None:
        raise NotFound(
            _("No store connection {name}.").format(name=repr(name)),
            fields={"connection": _("not found")},
        )
    return found


@dataclass
class FeedView:
    kind: str
    label: str
    feed: Any
    status: FeedStatus
    running: SyncRun | None


def feed_views(*, connection: StoreConnection) -> list[FeedView]:
    feeds = feeds_of(connection=connection)
    return [
        FeedView(
            kind=kind,
            label=label,
            feed=feeds[kind],
            status=feed_status(feed=feeds[kind]),
            running=feeds[kind].runs.filter(status="running").first(),
        )
        for kind, label in FeedKind.choices
    ]


def recent_runs(*, connection: StoreConnection, limit: int = 20) -> QuerySet[SyncRun]:
    """The connection's latest runs over all its feeds, newest first."""
    return (
        SyncRun.objects.filter(feed__connection=connection)
        .select_related("feed")
        .order_by("-started_at", "-pk")[:limit]
    )


def get_run(*, run_id: int) -> SyncRun:
    found = (
        SyncRun.objects.select_related("feed__connection").filter(pk=run_id).first()
        if is_id(run_id)
        else None
    )
    if found is None:
        raise NotFound(
            _("No sync run {run_id}.").format(run_id=run_id), fields={"run_id": _("not found")}
        )
    return found


@dataclass
class Lookup:
    """What the store sent (raw JSON, when it did) beside what is stored here."""

    stored: Any
    received: ReceivedRecord | None
    admin_url: str


def admin_url(*, connection: StoreConnection, what: str, external_id: Any) -> str:
    """The item's page in the store's admin; "" for a generic feed (it has no admin) or an
    item without the store's id."""
    if connection.platform != Platform.SHOPIFY or external_id in (None, ""):
        return ""
    return f"{connection.shop_url.rstrip('/')}/admin/{what}/{external_id}"


def _shown(record: ReceivedRecord | None) -> ReceivedRecord | None:
    """The record with the imported fields of its JSON only: rows received before only
    those were kept still hold the whole item."""
    if record is not None:
        payload = record.payload if isinstance(record.payload, dict) else {}
        record.payload = imported_fields(
            connection=record.connection, kind=record.kind, item=payload
        )
    return record


def _received(connection: StoreConnection, kind: str, external_id: str) -> ReceivedRecord | None:
    return _shown(
        ReceivedRecord.objects.select_related("connection")
        .filter(connection=connection, kind=kind, external_id=external_id)
        .first()
    )


def lookup_product(*, connection: StoreConnection, sku: str = "", external_id: str = "") -> Lookup:
    """By variant SKU or by the store's product id."""
    if not (sku or external_id):
        raise Invalid(_("Give a SKU or a product id."), fields={"sku": _("or external_id")})
    record = None
    if external_id:
        record = _received(connection, FeedKind.PRODUCTS, external_id)
        skus = [v.get("sku") for v in (record.payload.get("variants") or [])] if record else []
        variant = Variant.objects.select_related("offer").filter(sku__in=skus).first()
    else:
        variant = Variant.objects.select_related("offer").filter(sku=sku).first()
        record = _shown(
            ReceivedRecord.objects.select_related("connection")
            .filter(connection=connection, kind=FeedKind.PRODUCTS, search_keys__contains=f" {sku} ")
            .first()
        )
    if variant is None and record is None:
        raise NotFound(
            _("No such product here or from the store."),
            fields={"sku" if sku else "external_id": _("not found")},
        )
    product_id = external_id or (record.payload.get("id") if record else "")
    return Lookup(
        stored=variant,
        received=record,
        admin_url=admin_url(connection=connection, what="products", external_id=product_id),
    )


def lookup_customer(
    *, connection: StoreConnection, customer_id: str = "", external_id: str = ""
) -> Lookup:
    """By our id or the store's."""
    if not (customer_id or external_id):
        raise Invalid(
            _("Give a customer id or the store's id."), fields={"id": _("or external_id")}
        )
    customer = None
    if customer_id:
        if ascii_int(customer_id) is None:
            raise Invalid(_("Not an id."), fields={"id": _("a whole number")})
        customer = (
            Customer.objects.filter(pk=int(customer_id)).prefetch_related("external_ids").first()
        )
        if customer is not None and not external_id:
            found = customer.external_ids.filter(source=source_of(connection=connection)).first()
            external_id = found.external_id if found else ""
    elif external_id:
        customer = Customer.objects.filter(
            external_ids__source=source_of(connection=connection),
            external_ids__external_id=external_id,
        ).first()
    record = _received(connection, FeedKind.CUSTOMERS, external_id) if external_id else None
    if customer is None and record is None:
        raise NotFound(
            _("No such customer here or from the store."),
            fields={"id" if customer_id else "external_id": _("not found")},
        )
    return Lookup(
        stored=customer,
        received=record,
        admin_url=admin_url(connection=connection, what="customers", external_id=external_id),
    )
