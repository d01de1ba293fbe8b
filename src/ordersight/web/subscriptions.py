"""Staff pages for recurring orders: the Recurring Orders tab, a row's child orders, the
status actions (by permission) and the export."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ordersight.catalog.models import Offer
from ordersight.subscriptions import selectors, services
from ordersight.subscriptions.filters import RecurringOrderFilterSet
from ordersight.web.access import actor_of, require_perm, run_service
from ordersight.web.lists import export_response, list_context

ACTIONS = {
    "pause": (services.pause_recurring_order, "paused"),
    "activate": (services.activate_recurring_order, "activated"),
    "complete": (services.complete_recurring_order, "completed"),
}


def _filter_options() -> dict[str, list[tuple[str, str]]]:
    offers = Offer.objects.filter(recurring_orders__isnull=False).distinct().order_by("number")
    return {"offer": [(str(o.number), f"{o.number} · {o.name}") for o in offers]}


@require_perm("subscriptions.view_recurringorder")
def recurring_orders(request: HttpRequest) -> HttpResponse:
    context = {
        "section": "orders",
        "tab": "recurring",
        **list_context(
            request, selectors.RECURRING_LIST, RecurringOrderFilterSet, _filter_options()
        ),
        "retry_intervals": services.describe_intervals(services.retry_intervals()),
    }
    if request.htmx and request.GET.get("partial") == "rows":
        return render(request, "subscriptions/_recurring_rows.html", context)
    return render(request, "subscriptions/recurring.html", context)


@require_perm("subscriptions.view_recurringorder")
def export_recurring_orders(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.RECURRING_LIST)


@require_perm("subscriptions.view_recurringorder")
def recurring_children(request: HttpRequest, number: int) -> HttpResponse:
    """The orders of one recurring order, the initial one first (shown under its row)."""
    recurring = selectors.get_recurring_order(number=number)
    return render(
        request,
        "subscriptions/_children.html",
        {"recurring": recurring, "children": selectors.child_orders(recurring)},
    )


@require_perm("subscriptions.manage_recurring_status")
@require_POST
def recurring_action(request: HttpRequest, number: int, action: str) -> HttpResponse:
    recurring = selectors.get_recurring_order(number=number)
    back = request.POST.get("next") or reverse("web:recurring")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:recurring")
    if action not in ACTIONS:
        messages.error(request, f"Unknown action {action!r}.")
        return redirect(back)
    change, done = ACTIONS[action]
    changed = run_service(
        request,
        lambda: change(recurring=recurring, actor=actor_of(request)),
        failed=f"Recurring order {number}: ",
    )
    if changed is not None:
        messages.success(request, f"Recurring order {number} {done}.")
    return redirect(back)


@require_perm("subscriptions.change_recurringpaymentsettings")
@require_POST
def recurring_settings(request: HttpRequest) -> HttpResponse:
    """The account's retry intervals, e.g. "1d, 3d" or "30m, 2h"."""
    intervals = [part.strip() for part in request.POST.get("retry_intervals", "").split(",")]
    changed = run_service(
        request,
        lambda: services.set_retry_intervals(intervals=intervals, actor=actor_of(request)),
        failed="Retry intervals: ",
    )
    if changed is not None:
        shown = ", ".join(services.describe_intervals(changed.retry_intervals))
        messages.success(request, f"Failed payments are now retried after {shown}.")
    return redirect(reverse("web:recurring"))
