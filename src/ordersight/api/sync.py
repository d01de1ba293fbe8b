"""Store sync API: the Shopify order webhooks, verified by their HMAC header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from ordersight.core.schemas import error_responses
from ordersight.sync import webhooks

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
        return Status(
            401,
            {
                "error": {
                    "code": "bad_signature",
                    "message": str(exc),
                    "fields": {webhooks.HMAC_HEADER: str(exc)},
                }
            },
        )
