"""Running a feed: fetch what changed in the store (or everything, on a full resync), write it
through the same services the API uses, and record the run with its counts and every item's
error. One run per feed at a time; a run that fails midway keeps what it wrote and says why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict
from ordersight.customers.bulk import upsert_customers
from ordersight.sync.imports import PageOutcome, import_orders, import_products
from ordersight.sync.models import (
    Feed,
    FeedKind,
    ReceivedRecord,
    RunStatus,
    StoreConnection,
    SyncError,
    SyncRun,
)
from ordersight.sync.shopify import ShopifyClient, StoreUnavailable

SOURCE = "shopify"
Progress = Callable[[SyncRun], None]


def client_for(connection: StoreConnection) -> ShopifyClient:
    token = os.environ.get(connection.token_env, "") if connection.token_env else ""
    if not token:
        named = connection.token_env or "(none named)"
        raise StoreUnavailable(f"no access token: set the environment variable {named}")
    return ShopifyClient(connection.shop_url, token)


def feeds_of(connection: StoreConnection) -> dict[str, Feed]:
    """The connection's three feeds, made on first use."""
    for kind in FeedKind.values:
        Feed.objects.get_or_create(connection=connection, kind=kind)
    return {feed.kind: feed for feed in connection.feeds.all()}


def start_run(feed: Feed, *, full: bool = False) -> SyncRun:
    """A new run of the feed; Conflict when one is already running."""
    try:
        with transaction.atomic():
            return SyncRun.objects.create(feed=feed, full=full, started_at=timezone.now())
    except IntegrityError:
        raise Conflict(
            f"The {feed.kind} feed of {feed.connection} is already refreshing.",
            fields={"feed": "a run is in progress"},
        ) from None


# --- Customers ----------------------------------------------------------------------------


def is_wanted_customer(connection: StoreConnection, customer: Mapping[str, Any]) -> bool:
    """Tagged with the connection's tag, or carrying metafields in its namespace."""
    tags = {t.strip().lower() for t in str(customer.get("tags") or "").split(",") if t.strip()}
    if connection.customer_tag.lower() in tags:
        return True
    metafields = customer.get("metafields") or []
    return any(
        isinstance(m, Mapping) and m.get("namespace") == connection.metafield_namespace
        for m in metafields
    )


def customer_item(connection: StoreConnection, customer: Mapping[str, Any]) -> dict[str, Any]:
    """A Shopify customer as the customers' bulk upsert takes it."""
    name = " ".join(
        str(customer.get(part) or "").strip() for part in ("first_name", "last_name")
    ).strip()
    tags = [t.strip() for t in str(customer.get("tags") or "").split(",") if t.strip()]
    metafields = {
        str(m.get("key")): m.get("value")
        for m in customer.get("metafields") or []
        if isinstance(m, Mapping) and m.get("namespace") == connection.metafield_namespace
    }
    item: dict[str, Any] = {
        "source": SOURCE,
        "external_id": str(customer.get("id") or ""),
        "name": name or str(customer.get("email") or ""),
        "email": customer.get("email") or "",
        "phone": customer.get("phone") or "",
        "tags": tags,
    }
    if metafields:
        item["metadata"] = {connection.metafield_namespace: metafields}
    return item


@dataclass
class _Counts:
    received: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0


def record_received(connection: StoreConnection, kind: str, items: list[Mapping[str, Any]]) -> None:
    now = timezone.now()
    rows = [
        ReceivedRecord(
            connection=connection,
            kind=kind,
            external_id=str(item.get("id")),
            payload=dict(item),
            received_at=now,
        )
        for item in items
        if item.get("id") is not None
    ]
    ReceivedRecord.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["connection", "kind", "external_id"],
        update_fields=["payload", "received_at"],
    )


def _customers(
    connection: StoreConnection, items: list[dict[str, Any]], counts: _Counts
) -> PageOutcome:
    """Only the customers the connection wants (its tag or metafield namespace)."""
    wanted = [c for c in items if isinstance(c, Mapping) and is_wanted_customer(connection, c)]
    counts.skipped += len(items) - len(wanted)
    record_received(connection, FeedKind.CUSTOMERS, wanted)
    results = upsert_customers(
        items=[customer_item(connection, c) for c in wanted], actor=Actor.system()
    )
    return PageOutcome(results=results)


def _products(
    connection: StoreConnection, items: list[dict[str, Any]], counts: _Counts
) -> PageOutcome:
    record_received(connection, FeedKind.PRODUCTS, items)
    return import_products(connection, items, Actor.system())


def _orders(
    connection: StoreConnection, items: list[dict[str, Any]], counts: _Counts
) -> PageOutcome:
    record_received(connection, FeedKind.ORDERS, items)
    return import_orders(connection, items, Actor.system())


def _page(run: SyncRun, connection: StoreConnection, items: list, counts: _Counts) -> None:
    """One page of the feed written, its outcome counted and every refused item recorded."""
    counts.received += len(items)
    outcome = PAGE_HANDLERS[run.feed.kind](connection, items, counts)
    errors = [SyncError(run=run, external_id=ext, reason=why) for ext, why in outcome.refused]
    for result in outcome.results:
        if result.result == "created":
            counts.created += 1
        elif result.result == "updated":
            counts.updated += 1
        elif result.result == "error":
            detail = "; ".join(f"{k}: {v}" for k, v in result.fields.items())
            reason = f"{result.message} {detail}".strip()
            errors.append(SyncError(run=run, external_id=result.external_id or "", reason=reason))
    counts.errors += len(errors)
    SyncError.objects.bulk_create(errors)


PAGE_HANDLERS = {
    FeedKind.CUSTOMERS: _customers,
    FeedKind.PRODUCTS: _products,
    FeedKind.ORDERS: _orders,
}


def run_feed(
    feed: Feed,
    *,
    full: bool = False,
    client: ShopifyClient | None = None,
    progress: Progress | None = None,
) -> SyncRun:
    """One run of the feed: incremental (what changed since the last successful run) unless
    `full`; each page written in its own transaction, counts saved as it goes."""
    run = start_run(feed, full=full)
    connection = feed.connection
    counts = _Counts()
    since = None if full else feed.synced_until
    try:
        client = client or client_for(connection)
        run.expected = client.count(feed.kind, since)
        for page in client.pages(feed.kind, since):
            with transaction.atomic():
                _page(run, connection, page.items, counts)
            _save_counts(run, counts)
            if progress is not None:
                progress(run)
    except StoreUnavailable as exc:
        run.status, run.message = RunStatus.FAILED, str(exc)
    else:
        run.status = RunStatus.SUCCEEDED
        feed.synced_until = run.started_at
    run.finished_at = timezone.now()
    _save_counts(run, counts)
    feed.last_import_at = run.finished_at
    feed.items_synced = feed.items_synced + counts.created
    feed.save(update_fields=["synced_until", "last_import_at", "items_synced"])
    return run


def _save_counts(run: SyncRun, counts: _Counts) -> None:
    for name in ("received", "created", "updated", "skipped", "errors"):
        setattr(run, name, getattr(counts, name))
    run.save()


# --- Feed status ---------------------------------------------------------------------------

GREEN, AMBER = "green", "amber"


@dataclass
class FeedStatus:
    colour: str
    text: str
    last_run: SyncRun | None


def feed_status(feed: Feed) -> FeedStatus:
    """Green: data received, no errors; amber: errors found, or no data yet (configure)."""
    last = feed.runs.exclude(status=RunStatus.RUNNING).first()
    if last is None or (not feed.items_synced and not last.received):
        return FeedStatus(AMBER, "No data received yet: the connection needs configuring.", last)
    if last.status == RunStatus.FAILED:
        return FeedStatus(AMBER, f"The last refresh failed: {last.message}", last)
    if last.errors:
        return FeedStatus(AMBER, f"Data received with {last.errors} error(s).", last)
    return FeedStatus(GREEN, "Data received, no errors.", last)


# --- Scheduled refreshes -------------------------------------------------------------------


def due_feeds(at: datetime | None = None) -> list[Feed]:
    """Feeds of active connections whose last run started at least the connection's refresh
    interval ago (or never ran), not running now."""
    at = at or timezone.now()
    due = []
    for connection in StoreConnection.objects.filter(is_active=True):
        for feed in feeds_of(connection).values():
            last = feed.runs.first()
            if last is not None and last.status == RunStatus.RUNNING:
                continue
            interval = timedelta(minutes=connection.refresh_minutes)
            if last is None or last.started_at + interval <= at:
                due.append(feed)
    return due


def refresh_due(at: datetime | None = None) -> list[SyncRun]:
    """Run every due feed once (the periodic task); a feed another worker started is left."""
    runs = []
    for feed in due_feeds(at):
        try:
            runs.append(run_feed(feed))
        except Conflict:
            continue
    return runs
