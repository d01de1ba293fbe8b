"""Staff pages for store sync: Data Sync (each feed's status, items synchronised, last
import, errors one click away, Refresh, a run's progress live) and the lookups."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ordersight.core.errors import DomainError
from ordersight.sync import selectors, services
from ordersight.sync.models import FeedKind
from ordersight.sync.tasks import refresh_in_worker
from ordersight.web.access import require_perm, run_service


@require_perm("sync.view_storeconnection")
def data_sync(request: HttpRequest) -> HttpResponse:
    connections = [(c, selectors.feed_views(c)) for c in selectors.list_connections()]
    context = {"section": "sync", "connections": connections}
    if request.htmx and request.GET.get("partial") == "feeds":
        return render(request, "sync/_feeds.html", context)
    return render(request, "sync/data_sync.html", context)


@require_perm("sync.add_syncrun")
@require_POST
def refresh(request: HttpRequest, name: str, kind: str) -> HttpResponse:
    connection = selectors.get_connection(name=name)
    if kind not in FeedKind.values:
        messages.error(request, f"Unknown feed {kind!r}.")
        return redirect("web:sync")
    feed = services.feeds_of(connection)[kind]
    full = request.POST.get("full") == "1"
    started = run_service(
        request, lambda: refresh_in_worker(feed, full=full), failed=f"{connection.name}: "
    )
    if started is not None:
        what = "full resync" if full else "refresh"
        messages.success(request, f"{connection.name}: the {kind} {what} has started.")
    return redirect("web:sync")


@require_perm("sync.view_syncrun")
def sync_run(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.get_run(run_id=run_id)
    return render(
        request,
        "sync/run.html",
        {"section": "sync", "run": run, "item_errors": run.item_errors.all()[:1000]},
    )


@require_perm("sync.view_storeconnection")
def lookup(request: HttpRequest, name: str) -> HttpResponse:
    """Product by variant SKU or store id; customer by our id or the store's."""
    connection = selectors.get_connection(name=name)
    context: dict = {"section": "sync", "connection": connection}
    kind = request.GET.get("kind")
    try:
        if kind == "product":
            context["found"] = selectors.lookup_product(
                connection,
                sku=request.GET.get("sku", "").strip(),
                external_id=request.GET.get("external_id", "").strip(),
            )
        elif kind == "customer":
            context["found"] = selectors.lookup_customer(
                connection,
                customer_id=request.GET.get("id", "").strip(),
                external_id=request.GET.get("external_id", "").strip(),
            )
    except DomainError as exc:
        context["lookup_error"] = exc.message
    found = context.get("found")
    if found is not None and found.received is not None:
        context["received_json"] = json.dumps(found.received.payload, indent=2, ensure_ascii=False)
    context["kind"] = kind
    return render(request, "sync/lookup.html", context)
