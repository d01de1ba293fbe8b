"""Shopify's order webhooks (`orders/create`, `orders/updated`): verified by their
`X-Shopify-Hmac-Sha256` header (base64 HMAC-SHA256 of the raw body with the connection's
webhook secret), then imported through the same path as the orders feed. An unknown
connection, one without a usable secret and a wrong signature get the same answer, so the
webhook tells an outsider nothing about which connections exist or are configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Invalid
from ordersight.sync.imports import import_orders
from ordersight.sync.models import FeedKind, StoreConnection
from ordersight.sync.services import read_secret, record_received

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
TOPICS = ("orders/create", "orders/updated")


class SignatureError(Exception):
    pass


def signature_of(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(connection: StoreConnection | None, body: bytes, signature: str) -> StoreConnection:
    """Refuses, with one message whatever the cause, unless the body is signed with the
    connection's secret (read only from a variable the operator's prefix allows)."""
    secret = read_secret(name=connection.webhook_secret_env) if connection is not None else ""
    # Without a secret the signature is still computed, with a random key, so the answer
    # takes as long as a wrong signature's.
    expected = signature_of(secret or secrets.token_hex(32), body)
    if connection is None or not (
        secret and signature and hmac.compare_digest(expected, signature)
    ):
        raise SignatureError("the signature does not match the body")
    return connection


@retry_on_deadlock
@transaction.atomic
def handle_order_webhook(
    *, connection_name: str, topic: str, body: bytes, signature: str
) -> dict[str, Any]:
    """Verify and import one order; answers what became of it."""
    connection = verify(
        StoreConnection.objects.filter(name=connection_name).first(), body, signature
    )
    if topic not in TOPICS:
        raise Invalid(
            _("Topic {topic} is not handled.").format(topic=repr(topic)),
            fields={TOPIC_HEADER: _("one of {topics}").format(topics=", ".join(TOPICS))},
        )
    try:
        order = json.loads(body)
    except ValueError:
        raise Invalid(_("The body is not JSON."), fields={"body": _("not JSON")}) from None
    if not isinstance(order, dict) or "id" not in order:
        raise Invalid(
            _("The body is not an order."), fields={"body": _("an order object with an id")}
        )
    record_received(connection=connection, kind=FeedKind.ORDERS, items=[order])
    [result] = import_orders(connection, [order], Actor.system()).results
    return {
        "external_id": str(order["id"]),
        "result": result.result,
        "number": result.number,
        "message": result.message,
        "fields": result.fields,
    }
