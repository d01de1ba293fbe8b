"""Store sync API: connections and their feeds' statuses, refreshing a feed, a run with its
errors, the product and customer lookups, and the Shopify order webhooks (verified by their
HMAC header)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, WithJsonSchema

from ordersight.accounts.auth import can_read, can_write
from ordersight.core.errors import Invalid
from ordersight.core.money import CURRENCY_CODES
from ordersight.http.api_errors import bad_signature
from ordersight.http.schemas import StrictIn, error_responses, one_of, slug, text
from ordersight.sync import selectors, services, webhooks
from ordersight.sync.models import FeedKind
from ordersight.sync.tasks import refresh_in_worker

router = Router(tags=["store sync"])
ERRORS = error_responses()


class WebhookResultOut(Schema):
    external_id: str
    result: str
    number: int | None
    message: str
    fields: dict[str, str]


@router.post(
    "/sync/{connection}/webhooks/orders",
    response={200: WebhookResultOut, **ERRORS},
    auth=None,
)
def shopify_order_webhook(request: HttpRequest, connection: str) -> Any:
    """`orders/create` and `orders/updated` from Shopify, signed in `X-Shopify-Hmac-Sha256`
    with the connection's webhook secret; the order is imported as the orders feed does."""
    try:
        return webhooks.handle_order_webhook(
            connection_name=connection,
            topic=request.headers.get(webhooks.TOPIC_HEADER, ""),
            body=request.body,
            signature=request.headers.get(webhooks.HMAC_HEADER, ""),
        )
    except webhooks.SignatureError as exc:
        return bad_signature(webhooks.HMAC_HEADER, str(exc))


# --- Connections, feeds, runs and lookups ---------------------------------------------------


# The store's address as `transport.url_refusal` accepts it on a public network: https, a
# host name (a public address given as digits is accepted too; private, loopback and other
# refused addresses never), an optional port and path, no user, query or fragment.
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
SHOP_URL_PATTERN = (
    rf"^https://({_LABEL}\.)+(?!localhost(:|/|$))[a-z]{{2,63}}(:{_PORT})?"
    r"(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$"
)
_PREFIX = settings.SYNC_SECRET_ENV_PREFIX
_SECRET_ENV = slug(
    rf"^({_PREFIX}[A-Z0-9_]{{1,{services.MAX_ENV_NAME - len(_PREFIX)}}})?$",
    f"The name of an environment variable starting with {_PREFIX}; empty for none",
)


class ConnectionIn(StrictIn):
    name: text(services.MAX_NAME, excluding="/") = Field(..., description="No slash")
    platform: Literal["shopify", "feed"] = "shopify"
    shop_url: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "maxLength": services.MAX_SHOP_URL,
                "pattern": SHOP_URL_PATTERN,
                "examples": ["https://shop.example.com"],
            }
        ),
    ] = Field(
        ...,
        description="The store's https address on a public network (private ones and plain "
        "http only where SYNC_ALLOW_PRIVATE_NETWORKS allows); a feed may be file://… below "
        "SYNC_FILE_ROOT. No user, query or fragment.",
    )
    currency: one_of(sorted(CURRENCY_CODES)) = "EUR"
    token_env: _SECRET_ENV = Field("", description="Variable holding the access token")
    webhook_secret_env: _SECRET_ENV = Field("", description="Variable holding the webhook secret")
    customer_tag: str = "b2b"
    metafield_namespace: str = "ordersight"
    refresh_minutes: int = Field(
        10,
        json_schema_extra=dict(zip(("minimum", "maximum"), services.REFRESH_MINUTES, strict=True)),
    )


class RunOut(Schema):
    id: int
    feed: str
    full: bool
    status: str
    started_at: datetime
    finished_at: datetime | None
    expected: int | None
    received: int
    created: int
    updated: int
    skipped: int
    errors: int
    message: str


class RunDetailOut(RunOut):
    item_errors: list[dict[str, str]]


class FeedOut(Schema):
    kind: str
    status: str = Field(..., description="green or amber")
    status_text: str
    items_synced: int
    last_import_at: datetime | None
    last_run: RunOut | None
    running: bool


class ConnectionOut(Schema):
    name: str
    platform: str
    shop_url: str
    currency: str
    token_env: str = Field(..., description="The variable's name; the token is never shown")
    customer_tag: str
    metafield_namespace: str
    refresh_minutes: int
    feeds: list[FeedOut]


class RefreshIn(StrictIn):
    full: bool = False


class LookupOut(Schema):
    stored: dict[str, Any] | None
    received: dict[str, Any] | None
    received_at: datetime | None
    admin_url: str


def run_out(run: Any) -> dict[str, Any]:
    return {
        "id": run.pk,
        "feed": run.feed.kind,
        **{
            name: getattr(run, name)
            for name in (
                "full",
                "status",
                "started_at",
                "finished_at",
                "expected",
                "received",
                "created",
                "updated",
                "skipped",
                "errors",
                "message",
            )
        },
    }


def connection_out(connection: Any) -> dict[str, Any]:
    feeds = []
    for view in selectors.feed_views(connection=connection):
        last = view.status.last_run
        feeds.append(
            {
                "kind": view.kind,
                "status": view.status.colour,
                "status_text": view.status.text,
                "items_synced": view.feed.items_synced,
                "last_import_at": view.feed.last_import_at,
                "last_run": run_out(last) if last else None,
                "running": view.running is not None,
            }
        )
    return {
        "name": connection.name,
        "platform": connection.platform,
        "shop_url": connection.shop_url,
        "currency": connection.currency,
        "token_env": connection.token_env,
        "customer_tag": connection.customer_tag,
        "metafield_namespace": connection.metafield_namespace,
        "refresh_minutes": connection.refresh_minutes,
        "feeds": feeds,
    }


@router.get(
    "/sync/connections",
    response={200: list[ConnectionOut], **ERRORS},
    auth=can_read("sync.view_storeconnection"),
)
def list_connections(request: HttpRequest):
    """Each store connection with its feeds' status (green, or amber with why)."""
    return [connection_out(c) for c in selectors.list_connections()]


@router.post(
    "/sync/connections",
    response={201: ConnectionOut, **ERRORS},
    auth=can_write("sync.add_storeconnection"),
)
def create_connection(request: HttpRequest, payload: ConnectionIn):
    actor = request.actor
    connection = services.create_connection(actor=actor, **payload.model_dump())
    return Status(201, connection_out(connection))


@router.get(
    "/sync/connections/{name}",
    response={200: ConnectionOut, **ERRORS},
    auth=can_read("sync.view_storeconnection"),
)
def get_connection(request: HttpRequest, name: str):
    return connection_out(selectors.get_connection(name=name))


@router.post(
    "/sync/connections/{name}/feeds/{kind}/refresh",
    response={202: RunOut, **ERRORS},
    auth=can_write("sync.add_syncrun"),
)
def refresh_feed(request: HttpRequest, name: str, kind: str, payload: RefreshIn):
    """Start a run now (in the worker); 409 when one is already running."""
    connection = selectors.get_connection(name=name)
    if kind not in FeedKind.values:
        raise Invalid("Unknown feed.", fields={"kind": f"one of {', '.join(FeedKind.values)}"})
    run = refresh_in_worker(services.feeds_of(connection=connection)[kind], full=payload.full)
    return Status(202, run_out(run))


@router.get(
    "/sync/runs/{int:run_id}",
    response={200: RunDetailOut, **ERRORS},
    auth=can_read("sync.view_syncrun"),
)
def get_run(request: HttpRequest, run_id: int):
    """A run with every item's error (the store's id and the reason)."""
    run = selectors.get_run(run_id=run_id)
    return {
        **run_out(run),
        "item_errors": [
            {"external_id": e.external_id, "reason": e.reason} for e in run.item_errors.all()[:1000]
        ],
    }


def _lookup_out(found: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "stored": stored,
        "received": found.received.payload if found.received else None,
        "received_at": found.received.received_at if found.received else None,
        "admin_url": found.admin_url,
    }


@router.get(
    "/sync/connections/{name}/lookup/product",
    response={200: LookupOut, **ERRORS},
    auth=can_read("sync.view_storeconnection"),
)
def lookup_product(request: HttpRequest, name: str, sku: str = "", external_id: str = ""):
    """By variant SKU or the store's product id: what the store sent beside what is stored."""
    found = selectors.lookup_product(
        connection=selectors.get_connection(name=name), sku=sku, external_id=external_id
    )
    variant = found.stored
    stored = (
        {
            "sku": variant.sku,
            "offer": variant.offer.number,
            "name": variant.offer.name,
            "unit_price": str(variant.unit_price),
        }
        if variant
        else None
    )
    return _lookup_out(found, stored)


@router.get(
    "/sync/connections/{name}/lookup/customer",
    response={200: LookupOut, **ERRORS},
    auth=can_read("sync.view_storeconnection"),
)
def lookup_customer(request: HttpRequest, name: str, id: str = "", external_id: str = ""):
    """By our customer id or the store's: what the store sent beside what is stored."""
    found = selectors.lookup_customer(
        connection=selectors.get_connection(name=name), customer_id=id, external_id=external_id
    )
    customer = found.stored
    stored = (
        {
            "id": customer.pk,
            "name": customer.name,
            "email": customer.email,
            "metadata": customer.metadata,
            "tags": sorted(t.name for t in customer.tags.all()),
        }
        if customer
        else None
    )
    return _lookup_out(found, stored)
