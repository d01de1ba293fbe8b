"""Staff app pages that belong to no single app: home, 403, password change, live events."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

from ordersight.core import live
from ordersight.core.errors import error_body
from ordersight.core.unavailable import RETRY_AFTER_SECONDS, is_unavailable
from ordersight.core.validation import ascii_int
from ordersight.http.api_errors import unavailable_json

KEEPALIVE_SECONDS = 15


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Sales performance for those who may see it; everyone else starts at All Orders."""
    if request.user.has_perm("reports.view_sales_report"):
        from ordersight.web.reports import sales_performance

        return sales_performance(request)
    return redirect("web:orders")


@login_required
def settings_home(request: HttpRequest) -> HttpResponse:
    """The account's settings, each shown to the roles that may open it."""
    return render(request, "web/settings.html", {"section": "settings"})


def healthz(request: HttpRequest) -> HttpResponse:
    """For the proxy or orchestrator: 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page: says what permission is missing rather than just 'forbidden'."""
    reason = (
        str(exception)
        if exception and str(exception)
        else _("Your role does not allow this page or action.")
    )
    html = render_to_string("web/403.html", {"reason": reason}, request=request)
    return HttpResponseForbidden(html)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's last resort for an error no view handled, middleware's included.

    The database or the cache being away is a 503 (JSON for the API, a page of its own that
    reads nothing from the database otherwise); anything else is a 500, JSON for the API.
    """
    unavailable = is_unavailable(sys.exc_info()[1])
    if request.path.startswith("/api/"):
        if unavailable:
            return unavailable_json()
        return JsonResponse(error_body("server_error", "Something went wrong."), status=500)
    if not unavailable:
        return defaults.server_error(request)
    return unavailable_page()


def unavailable_page() -> HttpResponse:
    """The styled 503 page, with Retry-After."""
    # No request context: the menu would ask the database for the user and the messages.
    html = render_to_string("web/503.html", {"retry_after": RETRY_AFTER_SECONDS})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _wanted(message: dict[str, Any], order: str | None, customer: str | None) -> bool:
    if order and str(message.get("order")) != order and int(order) not in message.get("orders", []):
        return False
    return not (customer and str(message.get("customer")) != customer)


async def live_events(request: HttpRequest) -> HttpResponse:
    """Server-Sent Events: one `orders` event per change, for the signed-in staff.

    `?order=N` limits the stream to one order (its detail page).
    """
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=401)
    # The stream carries order numbers and statuses: only for those who may view orders.
    if not await user.ahas_perm("orders.view_order"):
        return HttpResponse("Your role may not view orders.", status=403)
    order = request.GET.get("order")
    if order is not None and ascii_int(order) is None:
        return HttpResponse("order must be a number", status=400)
    customer = request.GET.get("customer")
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(maxsize=1000)

    def listener(channel: str, message: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(_offer, queue, (channel, message))

    live.start_listening()
    unsubscribe = live.subscribe(listener)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    channel, message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if _wanted(message, order, customer):
                    yield f"event: {channel}\ndata: {json.dumps(message, default=str)}\n\n"
        finally:
            unsubscribe()

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _offer(queue: asyncio.Queue, item: Any) -> None:
    if not queue.full():  # a stalled page misses updates rather than growing without bound
        queue.put_nowait(item)
