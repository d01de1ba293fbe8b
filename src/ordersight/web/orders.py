"""Staff pages for orders: All Orders, the order detail, new order, actions, export.

Thin, like the API: each view reads through the selectors and writes through the services.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ordersight.accounts.selectors import list_sales_managers
from ordersight.campaigns.selectors import conversion_of_order
from ordersight.catalog.models import Category, Offer, Variant
from ordersight.core.errors import Invalid
from ordersight.core.money import CURRENCY_CODES
from ordersight.customers.models import Customer
from ordersight.orders import attribution, selectors, services
from ordersight.orders.choices import order_type_choices
from ordersight.orders.filters import OrderFilterSet
from ordersight.orders.models import (
    FulfillmentStatus,
    Order,
    OrderStatus,
)
from ordersight.orders.transitions import FULFILLABLE, allowed_transitions, can_confirm
from ordersight.payments.models import PaymentSystem
from ordersight.promotions.selectors import redemptions_of_order
from ordersight.web.access import actor_of, require_perm, run_service
from ordersight.web.filter_panel import Options
from ordersight.web.forms import parse_new_order, rename_line_errors
from ordersight.web.lists import PRESETS, export_response, list_context


def _managers() -> list[Any]:
    return list(list_sales_managers())


def _filter_options(managers: list[Any]) -> dict[str, list[tuple[str, str]]]:
    """Options of the filters whose values live in the database."""
    offers = list(Offer.objects.order_by("number").values_list("number", "name", "currency"))
    currencies = {currency for _, _, currency in offers} | {"EUR", "USD", "GBP"}
    return {
        "currency": [(c, c) for c in sorted(currencies)],
        "offer": [(str(number), f"{number} · {name}") for number, name, _ in offers],
        "category": [
            (str(c.number), f"{c.number} · {c.name}") for c in Category.objects.order_by("number")
        ],
        "sales_manager": [("system", "System")] + [(str(m.pk), m.get_username()) for m in managers],
    }


@require_perm("orders.view_order")
def all_orders(request: HttpRequest) -> HttpResponse:
    managers = _managers()  # the row actions and the filter panel list the same people
    names = [(m.pk, m.get_username()) for m in managers]
    context = {
        "section": "orders",
        "tab": "all",
        **list_context(request, selectors.ORDER_LIST, OrderFilterSet, _filter_options(managers)),
        # Each row's Check and Add user pickers, rendered once per selected manager.
        "sale_by_options": Options(
            [("system", "System sale")] + [(pk, f"Sale by {name}") for pk, name in names],
            none_selects="system",
        ),
        "manager_options": Options([("system", "System"), *names]),
        "presets": PRESETS,
    }
    if request.htmx and request.GET.get("partial") == "rows":
        return render(request, "orders/_order_rows.html", context)
    return render(request, "orders/all_orders.html", context)


@require_perm("orders.view_order")
def export_orders(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.ORDER_LIST)


@require_perm("orders.view_order")
def order_invoices(request: HttpRequest, number: int) -> HttpResponse:
    """The invoices of one order, shown inline under its row in All Orders."""
    order = selectors.get_order(number=number)
    return render(
        request, "orders/_invoices.html", {"order": order, "invoices": order.invoices.all()}
    )


def _detail_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    actor = actor_of(request)
    allowed = allowed_transitions(order, actor)
    return {
        "section": "orders",
        "order": order,
        "invoices": order.invoices.all(),
        # With their invoices at once: each refund names its invoice.
        "refunds": order.refunds.select_related("invoice"),
        "events": selectors.list_order_events(order=order),
        "can_complete": OrderStatus.COMPLETED in allowed,
        "can_decline": OrderStatus.DECLINED in allowed,
        "can_cancel": OrderStatus.CANCELLED in allowed,
        "can_fulfil": (
            order.fulfillment_status == FulfillmentStatus.UNFULFILLED
            and order.status in FULFILLABLE
        ),
        "can_confirm": can_confirm(order, actor),
        "managers": _managers(),
        "manual_systems": PaymentSystem.objects.filter(provider="manual", is_active=True),
        "metadata_text": json.dumps(order.metadata, indent=2, ensure_ascii=False, sort_keys=True),
        "redemptions": list(redemptions_of_order(order.pk)),
        "can_redeem": order.status in ("draft", "open") and not order.has_ever_captured_money,
        "conversion": (
            conversion_of_order(order.pk)
            if request.user.has_perm("campaigns.view_conversion")
            and (order.coupon_code or order.referral_code)
            else None
        ),
    }


@require_perm("orders.view_order")
def order_detail(request: HttpRequest, number: int) -> HttpResponse:
    order = selectors.get_order(number=number)
    return render(request, "orders/order_detail.html", _detail_context(request, order))


@require_perm("orders.view_order")
def order_live_part(request: HttpRequest, number: int, part: str) -> HttpResponse:
    """Parts of the detail page that refresh when the order changes (summary, activity)."""
    order = selectors.get_order(number=number)
    template = {
        "summary": "orders/_summary.html",
        "activity": "orders/_activity.html",
        "money": "orders/_money.html",
    }.get(part)
    if template is None:
        return HttpResponse(status=404)
    return render(request, template, _detail_context(request, order))


# Each row action: the service call and the words of its success message. The page only
# checks the coarse permission; the services refuse what depends on the order itself.
ACTIONS: dict[str, tuple[Callable[..., Order], str]] = {
    "complete": (partial(services.transition_order, to=OrderStatus.COMPLETED), "completed"),
    "decline": (partial(services.transition_order, to=OrderStatus.DECLINED), "declined"),
    "cancel": (partial(services.transition_order, to=OrderStatus.CANCELLED), "cancelled"),
    "fulfil": (services.fulfil_order, "fulfilled"),
    "confirm": (services.confirm_order, "confirmed as completed"),
}
TAKES_REASON = ("decline", "cancel")


@require_perm("orders.change_order")
@require_POST
def order_action(request: HttpRequest, number: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        return HttpResponse(status=404)
    service, done = ACTIONS[action]
    order = selectors.get_order(number=number)
    extra = {"reason": request.POST.get("reason", "")[:500]} if action in TAKES_REASON else {}
    if run_service(request, lambda: service(order=order, actor=actor_of(request), **extra)):
        messages.success(request, f"Order {number} {done}.")
    return redirect(back_to(request, order_url(number)))


@require_perm("orders.change_order")
@require_POST
def order_metadata(request: HttpRequest, number: int) -> HttpResponse:
    order = selectors.get_order(number=number)
    text = request.POST.get("metadata", "")
    error = None
    try:
        value = json.loads(text) if text.strip() else {}
        services.update_order(order=order, changes={"metadata": value}, actor=actor_of(request))
    except json.JSONDecodeError as exc:
        error = f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
    except RecursionError:
        error = "The JSON nests too deeply."
    except Invalid as exc:
        error = exc.fields.get("metadata") or exc.message
    if error is None:
        messages.success(request, "Metadata saved.")
        return redirect(f"{order_url(number)}#metadata")
    context = _detail_context(request, order)
    context.update({"metadata_text": text, "metadata_error": error, "open_tab": "metadata"})
    return render(request, "orders/order_detail.html", context, status=422)


def order_url(number: int) -> str:
    return reverse("web:order", kwargs={"number": number})


def back_to(request: HttpRequest, default: str) -> str:
    """Where a POST returns to: the page it came from (on this site), or `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_perm(attribution.PERMISSION)
@require_POST
def order_attribution(request: HttpRequest, number: int) -> HttpResponse:
    """Check (confirm) or Add user (name) the sales manager of an order."""
    order = selectors.get_order(number=number)
    choice = request.POST.get("manager", "system")
    manager_id = None if choice == "system" else int(choice) if choice.isdigit() else -1
    confirm = request.POST.get("mode") == "confirm"
    service = attribution.confirm_sales_attribution if confirm else attribution.assign_sales_manager
    done = run_service(
        request, lambda: service(order=order, manager_id=manager_id, actor=actor_of(request))
    )
    if done is not None:
        who = done.sales_manager.get_username() if done.sales_manager else "the system"
        messages.success(
            request,
            f"Sale {number} confirmed as made by {who}."
            if confirm
            else f"Order {number} now names {who}.",
        )
    return redirect(back_to(request, order_url(number)))


@require_perm("orders.add_order")
def new_order(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "section": "orders",
        "customers": Customer.objects.order_by("name")[:500],
        "variants": Variant.objects.select_related("offer").filter(
            is_active=True, offer__is_active=True
        ),
        "currencies": sorted(CURRENCY_CODES),
        "order_types": order_type_choices(),
        "errors": {},
        "form": request.POST if request.method == "POST" else {},
        "lines": [
            {"sku": "", "name": "", "unit_price": "", "quantity": "1", "discount": ""}
            for _ in range(3)
        ],
    }
    if request.method != "POST":
        return render(request, "orders/new_order.html", context)
    data, errors, typed, rows = parse_new_order(request.POST)
    context["lines"] = typed or context["lines"]
    if data is not None:
        try:
            order = services.create_order(data=data, actor=actor_of(request))
        except Invalid as exc:
            errors = rename_line_errors(exc.fields, rows)
        else:
            messages.success(request, f"Order {order.number} created.")
            return redirect("web:order", number=order.number)
    context["errors"] = errors
    return render(request, "orders/new_order.html", context, status=422)
