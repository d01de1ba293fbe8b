"""Running a feed: fetch what changed in the store (or everything, on a full resync), write it
through the same services the API uses, and record the run with its counts and every item's
error. One run per feed at a time; a run that fails midway keeps what it wrote and says why.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.catalog.bulk import upsert_offers
from ordersight.core.actors import Actor
from ordersight.core.bulk import upsert_rows
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid
from ordersight.core.live import publish_after_commit
from ordersight.core.money import is_currency
from ordersight.core.validation import harmless_text, split_refused
from ordersight.customers.bulk import upsert_customers
from ordersight.orders.ingest import upsert_orders
from ordersight.sync.generic import FeedSource
from ordersight.sync.imports import PageOutcome, feed_order_input, import_orders, import_products
from ordersight.sync.models import (
    Feed,
    FeedKind,
    Platform,
    ReceivedRecord,
    RunStatus,
    StoreConnection,
    SyncError,
    SyncRun,
)
from ordersight.sync.shopify import ShopifyClient
from ordersight.sync.transport import Page, StoreUnavailable, read_ahead, url_refusal

SOURCE = "shopify"
LIVE_CHANNEL = "sync"
MAX_ENV_NAME = 100
ENV_NAME = re.compile(rf"^[A-Z_][A-Z0-9_]{{0,{MAX_ENV_NAME - 1}}}$")
MAX_NAME = 100
MAX_SHOP_URL = 300
REFRESH_MINUTES = (1, 24 * 60)  # how often the feeds refresh: from a minute to a day
Progress = Callable[[SyncRun], None]


EDITABLE = (
    "shop_url",
    "currency",
    "token_env",
    "webhook_secret_env",
    "customer_tag",
    "metafield_namespace",
    "refresh_minutes",
    "is_active",
)


def _clean_settings(data: Mapping[str, Any], platform: str, errors: dict[str, str]) -> dict:
    """The settings a connection is created or edited with, checked; each bad one named."""
    clean: dict[str, Any] = {}
    if "shop_url" in data:
        shop_url = str(data.get("shop_url") or "").strip()
        refusal = url_refusal(shop_url, files=platform == Platform.FEED)
        if refusal or len(shop_url) > MAX_SHOP_URL:
            too_long = _("at most {max} characters").format(max=MAX_SHOP_URL)
            errors["shop_url"] = _("the store's address: {why}").format(why=refusal or too_long)
        clean["shop_url"] = shop_url
    if "currency" in data:
        currency = str(data.get("currency") or "EUR").upper()
        if not is_currency(currency):
            errors["currency"] = _("a currency, e.g. EUR")
        clean["currency"] = currency
    for env in ("token_env", "webhook_secret_env"):
        if env in data:
            value = str(data.get(env) or "").strip()
            env_refusal = secret_env_refusal(name=value) if value else None
            if env_refusal:
                errors[env] = env_refusal
            clean[env] = value
    if "customer_tag" in data:
        clean["customer_tag"] = str(data.get("customer_tag") or "b2b").strip()[:64]
    if "metafield_namespace" in data:
        namespace = str(data.get("metafield_namespace") or "ordersight").strip()[:64]
        clean["metafield_namespace"] = namespace
    if "refresh_minutes" in data:
        minutes = data.get("refresh_minutes")
        low, high = REFRESH_MINUTES
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
            errors["refresh_minutes"] = _("a whole number of minutes from {low} to {high}").format(
                low=low, high=high
            )
        clean["refresh_minutes"] = minutes
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    return clean


@retry_on_deadlock
def create_connection(*, actor: Actor, **data: Any) -> StoreConnection:
    """A store connection; the token and webhook secret are named environment variables,
    never stored."""
    actor.require("sync.add_storeconnection")
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not 0 < len(name) <= MAX_NAME or "/" in name:
        errors["name"] = _("1 to {max} characters, no slash").format(max=MAX_NAME)
    elif name.lower() == "new":
        # /sync/connections/new/ is the page that adds one: a connection so named had no page.
        errors["name"] = _(
            "“new” is the address of the page that adds a connection; choose another"
        )
    platform = data.get("platform") or Platform.SHOPIFY
    if platform not in Platform.values:
        errors["platform"] = _("one of {platforms}").format(platforms=", ".join(Platform.values))
    defaults = {"currency": "EUR", "refresh_minutes": 10, "shop_url": ""}
    clean = _clean_settings(
        {**defaults, **{k: v for k, v in data.items() if k in EDITABLE}}, platform, errors
    )
    if errors:
        raise Invalid(_("The store connection is not valid."), fields=errors)
    clean.setdefault("customer_tag", "b2b")
    clean.setdefault("metafield_namespace", "ordersight")
    try:
        with transaction.atomic():
            connection = StoreConnection.objects.create(name=name, platform=platform, **clean)
            feeds_of(connection=connection)  # with the connection, so running it again makes both
    except IntegrityError:
        raise Conflict(
            _("A connection named {name} exists.").format(name=repr(name)),
            fields={"name": _("taken")},
        ) from None
    return connection


@retry_on_deadlock
@transaction.atomic
def update_connection(
    *, connection: StoreConnection, changes: Mapping[str, Any], actor: Actor
) -> StoreConnection:
    """Change a connection's address, currency, secret variables, import rules or refresh
    interval. Its name (in its webhook URL) and platform stay as created."""
    actor.require("sync.change_storeconnection")
    errors: dict[str, str] = {}
    for field in sorted(set(changes) - set(EDITABLE)):
        errors[field] = (
            _("cannot be changed") if field in ("name", "platform") else _("unknown field")
        )
    clean = _clean_settings(changes, connection.platform, errors)
    if errors:
        raise Invalid(_("The changes to the store connection are not valid."), fields=errors)
    connection = StoreConnection.objects.select_for_update(no_key=True).get(pk=connection.pk)
    for field, value in clean.items():
        setattr(connection, field, value)
    connection.save(update_fields=[*clean])
    return connection


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def check_connection(*, connection: StoreConnection) -> ConnectionCheck:
    """Ask the store once, the way a run would (same address rules, same token), and say
    whether it answered: a Shopify store counts its products, a feed lists its files."""
    try:
        client = client_for(connection=connection)
        if isinstance(client, FeedSource):
            found = [kind for kind in FeedKind.values if client.has_file(kind)]
            if not found:
                return ConnectionCheck(
                    False, "the feed answered, but it has no products, customers or orders file"
                )
            return ConnectionCheck(True, f"the feed answered with files for {', '.join(found)}")
        count = client.count("products", once=True)
    except StoreUnavailable as exc:
        return ConnectionCheck(False, str(exc))
    counted = f" and counts {count} product{'s' if count != 1 else ''}" if count is not None else ""
    return ConnectionCheck(True, f"the store answered{counted}")


def secret_env_refusal(*, name: str) -> str | None:
    """Why a connection may not read its token or webhook secret from this variable: only
    names with the operator's prefix (SYNC_SECRET_ENV_PREFIX), never the server's own."""
    prefix = settings.SYNC_SECRET_ENV_PREFIX
    if ENV_NAME.match(name) and name.startswith(prefix) and name != prefix:
        return None
    return _(
        "the name of an environment variable starting with {prefix}, e.g. {prefix}TOKEN_MAIN"
    ).format(prefix=prefix)


def read_secret(*, name: str) -> str:
    """The value of a connection's token or webhook secret variable; "" when the name is
    not one a connection may read (a row stored before the rule), without reading it."""
    if not name or secret_env_refusal(name=name):
        return ""
    return os.environ.get(name, "")


def client_for(*, connection: StoreConnection) -> ShopifyClient | FeedSource:
    if connection.platform == Platform.FEED:
        return FeedSource(connection.shop_url)
    token = read_secret(name=connection.token_env)  # "" for a name outside the prefix too
    if not token:
        named = connection.token_env or "(none named)"
        raise StoreUnavailable(
            f"no access token: the connection names the variable {named}; set one whose "
            f"name starts with {settings.SYNC_SECRET_ENV_PREFIX}"
        )
    return ShopifyClient(connection.shop_url, token)


def feeds_of(*, connection: StoreConnection) -> dict[str, Feed]:
    """The connection's three feeds, made on first use."""
    for kind in FeedKind.values:
        Feed.objects.get_or_create(connection=connection, kind=kind)
    return {feed.kind: feed for feed in connection.feeds.all()}


@retry_on_deadlock
def start_run(*, feed: Feed, full: bool = False) -> SyncRun:
    """A new run of the feed; Conflict when one is already running."""
    try:
        with transaction.atomic():
            return SyncRun.objects.create(feed=feed, full=full, started_at=timezone.now())
    except IntegrityError:
        raise Conflict(
            _("The {kind} feed of {connection} is already refreshing.").format(
                kind=feed.kind, connection=feed.connection
            ),
            fields={"feed": _("a run is in progress")},
        ) from None


# --- Customers ----------------------------------------------------------------------------


def _tags(value: Any) -> set[str]:
    """Shopify's comma-separated tags, or a feed's list of them, lower-cased."""
    parts = value if isinstance(value, list) else str(value or "").split(",")
    return {str(t).strip().lower() for t in parts if str(t).strip()}


def is_wanted_customer(*, connection: StoreConnection, customer: Mapping[str, Any]) -> bool:
    """Tagged with the connection's tag, or carrying metafields in its namespace (a feed's
    customer: metadata under that namespace)."""
    if connection.customer_tag.lower() in _tags(customer.get("tags")):
        return True
    metafields = customer.get("metafields")
    if isinstance(metafields, list) and any(
        isinstance(m, Mapping) and m.get("namespace") == connection.metafield_namespace
        for m in metafields
    ):
        return True
    metadata = customer.get("metadata")
    return isinstance(metadata, Mapping) and bool(metadata.get(connection.metafield_namespace))


def customer_item(*, connection: StoreConnection, customer: Mapping[str, Any]) -> dict[str, Any]:
    """A Shopify customer as the customers' bulk upsert takes it."""
    name = " ".join(
        str(customer.get(part) or "").strip() for part in ("first_name", "last_name")
    ).strip()
    tags = sorted(_tags(customer.get("tags")))
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


def _search_keys(kind: str, item: Mapping[str, Any]) -> str:
    if kind != FeedKind.PRODUCTS:
        return ""
    skus = [
        str(v.get("sku") or "").strip()
        for v in item.get("variants") or []
        if isinstance(v, Mapping)
    ]
    return " " + " ".join(s for s in skus if s) + " "


def _record_id(item: Mapping[str, Any]) -> str | None:
    """The store's id of an item: Shopify's `id`; a generic feed's `external_id`, or a
    product's offer number or name."""
    for _key, value in _identities(item):
        return value[:255]
    return None


# What is imported of each item, by platform and feed: the lookups show the JSON received,
# and keep (and so show) these fields only. A name maps to None (kept as sent), to the
# fields of an object, or to a one-element list: a list of objects with those fields.
_LINE = {"id": None, "kind": None, "status": None, "amount": None}
IMPORTED: dict[tuple[str, str], dict[str, Any]] = {
    (Platform.SHOPIFY, FeedKind.CUSTOMERS): dict.fromkeys(
        ("id", "first_name", "last_name", "email", "phone", "tags", "updated_at")
    )
    | {"metafields": [dict.fromkeys(("namespace", "key", "value"))]},
    (Platform.SHOPIFY, FeedKind.PRODUCTS): dict.fromkeys(
        ("id", "title", "product_type", "updated_at")
    )
    | {"variants": [dict.fromkeys(("id", "sku", "title", "price"))]},
    (Platform.SHOPIFY, FeedKind.ORDERS): dict.fromkeys(
        (
            "id",
            "name",
            "created_at",
            "updated_at",
            "currency",
            "financial_status",
            "cancelled_at",
            "landing_site",
        )
    )
    | {
        "customer": {"id": None},
        "line_items": [
            dict.fromkeys(("sku", "title", "name", "price", "quantity", "total_discount"))
        ],
        "discount_codes": [{"code": None}],
        "transactions": [_LINE],
        "refunds": [{"transactions": [_LINE]}],
    },
    (Platform.FEED, FeedKind.CUSTOMERS): dict.fromkeys(
        ("external_id", "name", "email", "phone", "tags", "metadata")
    ),
    (Platform.FEED, FeedKind.PRODUCTS): dict.fromkeys(
        (
            "number",
            "name",
            "currency",
            "unit_price",
            "category_number",
            "allow_quantity",
            "allow_partial_payments",
            "is_active",
        )
    )
    | {"variants": [dict.fromkeys(("sku", "name", "unit_price"))]},
    (Platform.FEED, FeedKind.ORDERS): dict.fromkeys(
        (
            "external_id",
            "created_at",
            "currency",
            "customer_external_id",
            "status",
            "coupon_code",
            "referral_code",
            "metadata",
        )
    )
    | {"lines": [dict.fromkeys(("sku", "name", "unit_price", "quantity", "discount"))]},
}


def _project(value: Any, shape: Any) -> Any:
    if shape is None:
        return value
    if isinstance(shape, list):
        return [_project(v, shape[0]) for v in value] if isinstance(value, list) else None
    if not isinstance(value, Mapping):
        return None
    return {k: _project(value[k], sub) for k, sub in shape.items() if k in value}


def imported_fields(*, connection: StoreConnection, kind: str, item: Mapping[str, Any]) -> dict:
    """The fields of a received item that are imported (metafields: the namespace's only)."""
    kept = _project(item, IMPORTED[(connection.platform, kind)])
    if isinstance(kept.get("metafields"), list):
        kept["metafields"] = [
            m
            for m in kept["metafields"]
            if isinstance(m, Mapping) and m.get("namespace") == connection.metafield_namespace
        ]
    return kept


def record_received(
    *, connection: StoreConnection, kind: str, items: list[Mapping[str, Any]]
) -> None:
    """Keep the imported fields of each item as received, for the lookups."""
    now = timezone.now()
    # The same item twice in one batch is kept once (the later one). Plain rows: a page of
    # 250 orders' JSON went through a model instance each.
    rows = {
        external_id: (
            connection.pk,
            kind,
            external_id,
            imported_fields(connection=connection, kind=kind, item=item),
            _search_keys(kind, item),
            now,
        )
        for item in items
        if (external_id := _record_id(item)) is not None and "_error" not in item
    }
    upsert_rows(
        ReceivedRecord,
        ("connection_id", "kind", "external_id", "payload", "search_keys", "received_at"),
        list(rows.values()),
        unique=("connection_id", "kind", "external_id"),
    )


def _customers(
    connection: StoreConnection, items: list[dict[str, Any]], counts: _Counts
) -> PageOutcome:
    """Only the customers the connection wants (its tag or metafield namespace)."""
    wanted = [
        c
        for c in items
        if isinstance(c, Mapping) and is_wanted_customer(connection=connection, customer=c)
    ]
    counts.skipped += len(items) - len(wanted)
    record_received(connection=connection, kind=FeedKind.CUSTOMERS, items=wanted)
    results = upsert_customers(
        items=[customer_item(connection=connection, customer=c) for c in wanted],
        actor=Actor.system(),
    )
    return PageOutcome(results=results)


def _products(
    connection: StoreConnection, items: list[dict[str, Any]], counts: _Counts
) -> PageOutcome:
    record_received(connection=connection, kind=FeedKind.PRODUCTS, items=items)
    return import_products(connection, items, Actor.system())


def _orders(
    connection: StoreConnection, items: list[dict[str, Any]], counts: _Counts
) -> PageOutcome:
    record_received(connection=connection, kind=FeedKind.ORDERS, items=items)
    return import_orders(connection, items, Actor.system())


def _feed_page(
    connection: StoreConnection, kind: str, items: list[dict[str, Any]], counts: _Counts
) -> PageOutcome:
    """A page of the generic feed: rows that could not be read are refused with their line;
    the rest go to the bulk services as the API's bulk endpoints would send them. Customers
    are imported only when the connection wants them, as from Shopify."""
    if kind == FeedKind.CUSTOMERS:
        wanted = [
            i
            for i in items
            if "_error" in i or is_wanted_customer(connection=connection, customer=i)
        ]
        counts.skipped += len(items) - len(wanted)
        items = wanted
    record_received(connection=connection, kind=kind, items=items)
    refused = [(str(i.get("external_id") or ""), i["_error"]) for i in items if "_error" in i]
    rows = [
        {k: v for k, v in i.items() if not k.startswith("_")} for i in items if "_error" not in i
    ]
    lines = [i["_line"] for i in items if "_error" not in i]
    actor = Actor.system()
    if kind == FeedKind.CUSTOMERS:
        results = upsert_customers(items=[{**r, "source": "feed"} for r in rows], actor=actor)
    elif kind == FeedKind.PRODUCTS:
        results = upsert_offers(items=rows, actor=actor)
    else:
        results = upsert_orders(items=[feed_order_input(r) for r in rows], actor=actor)
    for line, result in zip(lines, results, strict=True):
        if result.result == "error":
            result.message = f"line {line}: {result.message}"
    return PageOutcome(results=results, refused=refused)


def _bad_text_id(item: Any) -> str:
    """The store's id of an item refused for its text, harmless to show (the id may be what
    holds the character)."""
    return harmless_text(_record_id(item) or "") if isinstance(item, Mapping) else ""


def _at_line(item: Any) -> str:
    """Where a generic feed's item came from, to prefix its error ("line 4: ")."""
    return f"line {item['_line']}: " if isinstance(item, Mapping) and "_line" in item else ""


@retry_on_deadlock
def _write_page(run: SyncRun, connection: StoreConnection, items: list, counts: _Counts) -> _Counts:
    """One write of pages (`_in_writes`) in one transaction, with the counts after it. If
    PostgreSQL aborts the transaction to break a deadlock, it runs again from the counts as
    they were before."""
    after = replace(counts)
    with transaction.atomic():
        _page(run, connection, items, after)
    return after


def _page(run: SyncRun, connection: StoreConnection, items: list, counts: _Counts) -> None:
    """One write of the feed's items (a page or several, `_in_writes`), its outcome counted
    and every refused item recorded."""
    counts.received += len(items)
    # Text no input may hold (NUL, bidi controls) refuses its item before anything reads it.
    items, bad_text = split_refused(items)
    if connection.platform == Platform.FEED:
        outcome = _feed_page(connection, run.feed.kind, items, counts)
    else:
        outcome = PAGE_HANDLERS[run.feed.kind](connection, items, counts)
    errors = [
        SyncError(run=run, external_id=_bad_text_id(item), reason=_at_line(item) + why)
        for item, why in bad_text
    ]
    errors += [SyncError(run=run, external_id=ext, reason=why) for ext, why in outcome.refused]
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
    *,
    feed: Feed,
    full: bool = False,
    client: ShopifyClient | FeedSource | None = None,
    progress: Progress | None = None,
) -> SyncRun:
    """One run of the feed: incremental (what changed since the last successful run) unless
    `full`; the next page fetched while one is written, pages written up to a thousand items
    a transaction, counts saved as it goes."""
    return continue_run(run=start_run(feed=feed, full=full), client=client, progress=progress)


def continue_run(
    *,
    run: SyncRun,
    client: ShopifyClient | FeedSource | None = None,
    progress: Progress | None = None,
) -> SyncRun:
    """Carry out a started run."""
    feed = run.feed
    full = run.full
    connection = feed.connection
    counts = _Counts()
    since = None if full else feed.synced_until
    try:
        client = client or client_for(connection=connection)
        run.expected = client.count(feed.kind, since)
        for items in _in_writes(read_ahead(client.pages(feed.kind, since))):
            counts = _write_page(run, connection, items, counts)
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


# Items written in one transaction at most (as many as the bulk API takes in a request):
# what each write costs whatever its size (the lookups, the sales figures' recount, the
# run's counts) is paid once for four of Shopify's pages, not for each.
ITEMS_PER_WRITE = 1_000


def _in_writes(pages: Iterator[Page]) -> Iterator[list[dict[str, Any]]]:
    """The pages' items gathered into writes of `ITEMS_PER_WRITE` at most (a page is never
    split); what the store sent before it failed is written before the failure is raised.

    A page that brings an item again (changed while the run paged through the store) starts
    a new write: the ingest refuses an item twice in one batch, and written one after the
    other the later copy updates the first, as when each page was its own write."""
    items: list[dict[str, Any]] = []
    ids: set[tuple[str, str]] = set()
    try:
        for page in pages:
            page_ids = {key for item in page.items for key in _identities(item)}
            if items and (
                len(items) + len(page.items) > ITEMS_PER_WRITE or not ids.isdisjoint(page_ids)
            ):
                yield items
                items, ids = [], set()
            items += page.items
            ids |= page_ids
    except StoreUnavailable:
        if items:
            yield items
        raise
    if items:
        yield items


def _identities(item: Any) -> Iterator[tuple[str, str]]:
    """Every value an item may be known by, the store's id first (`_record_id`): a generic
    feed's row may carry an `id` beside the `external_id` the ingest matches on."""
    if isinstance(item, Mapping):
        for key in ("id", "external_id", "number", "name"):
            if item.get(key) not in (None, ""):
                yield key, str(item[key])


def _save_counts(run: SyncRun, counts: _Counts) -> None:
    for name in ("received", "created", "updated", "skipped", "errors"):
        setattr(run, name, getattr(counts, name))
    run.save()
    # The Data Sync page follows a run as it goes (received of expected).
    publish_after_commit(
        LIVE_CHANNEL,
        {"run": run.pk, "feed": run.feed.kind, "status": run.status, "received": run.received},
    )


# --- Feed status ---------------------------------------------------------------------------

GREEN, AMBER = "green", "amber"


@dataclass
class FeedStatus:
    colour: str
    text: str
    last_run: SyncRun | None


def feed_status(*, feed: Feed) -> FeedStatus:
    """Green: data received, no errors; amber: errors found, or no data yet (configure)."""
    last = feed.runs.exclude(status=RunStatus.RUNNING).first()
    # A failed refresh says why first: "could not reach the store" is what to fix, even on
    # a feed that never received data.
    if last is not None and last.status == RunStatus.FAILED:
        failed = _("The last refresh failed: {why}").format(why=last.message)
        return FeedStatus(AMBER, failed, last)
    if last is None or (not feed.items_synced and not last.received):
        return FeedStatus(AMBER, _("No data received yet: the connection needs configuring."), last)
    if last.errors:
        with_errors = ngettext(
            "Data received with %(count)s error.",
            "Data received with %(count)s errors.",
            last.errors,
        ) % {"count": last.errors}
        return FeedStatus(AMBER, with_errors, last)
    return FeedStatus(GREEN, _("Data received, no errors."), last)


# --- Scheduled refreshes -------------------------------------------------------------------


def due_feeds(*, at: datetime | None = None) -> list[Feed]:
    """Feeds of active connections whose last run started at least the connection's refresh
    interval ago (or never ran), not running now."""
    at = at or timezone.now()
    due = []
    for connection in StoreConnection.objects.filter(is_active=True):
        for feed in feeds_of(connection=connection).values():
            last = feed.runs.first()
            if last is not None and last.status == RunStatus.RUNNING:
                continue
            interval = timedelta(minutes=connection.refresh_minutes)
            if last is None or last.started_at + interval <= at:
                due.append(feed)
    return due


def refresh_due(*, at: datetime | None = None) -> list[SyncRun]:
    """Run every due feed once (the periodic task); a feed another worker started is left."""
    runs = []
    for feed in due_feeds(at=at):
        try:
            runs.append(run_feed(feed=feed))
        except Conflict:
            continue
    return runs
