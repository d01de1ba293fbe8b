"""Staff pages for store sync: Data Sync (each feed's status, items synchronised, last
import, errors one click away, Refresh, a run's progress live), the lookups, and the store
connections themselves (create, edit, test)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ordersight.core.errors import DomainError, Forbidden
from ordersight.core.money import CURRENCY_CODES
from ordersight.core.validation import ascii_int
from ordersight.sync import selectors, services
from ordersight.sync.models import FeedKind, Platform
from ordersight.sync.tasks import refresh_in_worker
from ordersight.web.access import actor_of, require_perm, run_service


@require_perm("sync.view_storeconnection")
def data_sync(request: HttpRequest) -> HttpResponse:
    connections = [(c, selectors.feed_views(connection=c)) for c in selectors.list_connections()]
    context = {"section": "sync", "connections": connections}
    if request.htmx and request.GET.get("partial") == "feeds":
        return render(request, "sync/_feeds.html", context)
    return render(request, "sync/data_sync.html", context)


@require_perm("sync.add_syncrun")
@require_POST
def refresh(request: HttpRequest, name: str, kind: str) -> HttpResponse:
    connection = selectors.get_connection(name=name)
    # Back to the page the button was on: Data Sync or the connection's own page.
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:sync")
    if kind not in FeedKind.values:
        messages.error(request, _("Unknown feed {kind}.").format(kind=repr(kind)))
        return redirect(back)
    feed = services.feeds_of(connection=connection)[kind]
    full = request.POST.get("full") == "1"
    started = run_service(
        request, lambda: refresh_in_worker(feed, full=full), failed=f"{connection.name}: {{why}}"
    )
    if started is not None:
        if full:
            started_text = _("{name}: the {kind} full resync has started.")
        else:
            started_text = _("{name}: the {kind} refresh has started.")
        messages.success(request, started_text.format(name=connection.name, kind=kind))
    return redirect(back)


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
                connection=connection,
                sku=request.GET.get("sku", "").strip(),
                external_id=request.GET.get("external_id", "").strip(),
            )
        elif kind == "customer":
            context["found"] = selectors.lookup_customer(
                connection=connection,
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


# --- Store connections: create, edit, test ---------------------------------------------------

# The form's fields in the order the page shows them; name and platform only when creating.
CONNECTION_FIELDS = (
    "shop_url",
    "currency",
    "token_env",
    "webhook_secret_env",
    "customer_tag",
    "metafield_namespace",
    "refresh_minutes",
)


def _connection_input(post: QueryDict, errors: dict[str, str]) -> dict[str, Any]:
    """The form as the service takes it; the refresh interval read as a whole number."""
    data: dict[str, Any] = {field: post.get(field, "").strip() for field in CONNECTION_FIELDS}
    minutes = data["refresh_minutes"]
    if (number := ascii_int(minutes)) is not None:
        data["refresh_minutes"] = number
    else:
        low, high = services.REFRESH_MINUTES
        errors["refresh_minutes"] = _("a whole number of minutes from {low} to {high}").format(
            low=low, high=high
        )
    data["is_active"] = post.get("is_active") == "on"
    return data


def _connection_form(
    request: HttpRequest,
    *,
    connection: Any | None,
    form: Any,
    errors: dict[str, str],
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "sync/connection_form.html",
        {
            "section": "sync",
            "connection": connection,
            "form": form,
            "errors": errors,
            "platforms": Platform.choices,
            "currencies": sorted(CURRENCY_CODES),
            "env_prefix": settings.SYNC_SECRET_ENV_PREFIX,
        },
        status=status,
    )


def _refused(request: HttpRequest, exc: DomainError, message: str) -> dict[str, str]:
    """Say why the form was refused: `message` is translated and holds `{reason}`."""
    messages.error(request, message.format(reason=exc.message))
    return exc.fields or {"name": exc.message}


@require_perm("sync.add_storeconnection")
def new_connection(request: HttpRequest) -> HttpResponse:
    """Connect a store: a Shopify shop or a generic feed."""
    if request.method != "POST":
        initial = {
            "platform": "shopify",
            "currency": "EUR",
            "customer_tag": "b2b",
            "metafield_namespace": "ordersight",
            "refresh_minutes": "10",
            "is_active": "on",
        }
        return _connection_form(request, connection=None, form=initial, errors={})
    errors: dict[str, str] = {}
    data = _connection_input(request.POST, errors)
    data.pop("is_active")
    name = request.POST.get("name", "").strip()
    if not errors:
        try:
            connection = services.create_connection(
                actor=actor_of(request),
                name=name,
                platform=request.POST.get("platform", ""),
                **data,
            )
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except DomainError as exc:
            errors = _refused(
                request,
                exc,
                _("The store connection was not created: {reason} Check the fields marked below."),
            )
        else:
            messages.success(
                request,
                _(
                    "Store connection {name} created with its products, customers and orders "
                    "feeds. Test the connection, then refresh a feed."
                ).format(name=connection.name),
            )
            return redirect("web:sync_connection", name=connection.name)
    else:
        messages.error(request, _("The store connection was not created: check the fields below."))
    return _connection_form(request, connection=None, form=request.POST, errors=errors, status=422)


@require_perm("sync.view_storeconnection")
def connection_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One connection: its settings (secrets by variable name only), feeds and latest runs."""
    connection = selectors.get_connection(name=name)
    return render(
        request,
        "sync/connection.html",
        {
            "section": "sync",
            "connection": connection,
            "feeds": selectors.feed_views(connection=connection),
            "runs": selectors.recent_runs(connection=connection),
            # Whether the named variables are set on the server; their values never leave it.
            "token_set": bool(services.read_secret(name=connection.token_env)),
            "webhook_secret_set": bool(services.read_secret(name=connection.webhook_secret_env)),
        },
    )


@require_perm("sync.change_storeconnection")
def edit_connection(request: HttpRequest, name: str) -> HttpResponse:
    connection = selectors.get_connection(name=name)
    if request.method != "POST":
        form = {field: getattr(connection, field) for field in CONNECTION_FIELDS}
        form["is_active"] = "on" if connection.is_active else ""
        return _connection_form(request, connection=connection, form=form, errors={})
    errors: dict[str, str] = {}
    changes = _connection_input(request.POST, errors)
    if not errors:
        try:
            services.update_connection(
                connection=connection, changes=changes, actor=actor_of(request)
            )
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except DomainError as exc:
            errors = _refused(
                request,
                exc,
                _("The changes were not saved: {reason} Check the fields marked below."),
            )
        else:
            messages.success(
                request, _("Store connection {name} saved.").format(name=connection.name)
            )
            return redirect("web:sync_connection", name=connection.name)
    else:
        messages.error(request, _("The changes were not saved: check the fields below."))
    return _connection_form(
        request, connection=connection, form=request.POST, errors=errors, status=422
    )


@require_perm("sync.change_storeconnection")
@require_POST
def test_connection(request: HttpRequest, name: str) -> HttpResponse:
    """Ask the store once, now, and say what it answered."""
    connection = selectors.get_connection(name=name)
    result = services.check_connection(connection=connection)
    if result.ok:
        messages.success(
            request,
            _("{name}: connected; {answer}.").format(name=connection.name, answer=result.message),
        )
    else:
        messages.error(
            request,
            _("{name}: the connection failed; {answer}.").format(
                name=connection.name, answer=result.message
            ),
        )
    return redirect("web:sync_connection", name=connection.name)
