"""Staff pages for recurring orders: the Recurring Orders tab, a row's child orders, the
status actions (by permission), replacing the payment method, the export, and the retry
settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from ordersight.core.errors import DomainError, Forbidden
from ordersight.core.validation import ascii_int
from ordersight.payments.gateways import gateway_for
from ordersight.payments.models import PaymentSystem
from ordersight.subscriptions import selectors, services
from ordersight.subscriptions.filters import RecurringOrderFilterSet
from ordersight.subscriptions.models import RecurringStatus
from ordersight.web.access import actor_of, require_perm, run_service
from ordersight.web.filter_panel import Suggested
from ordersight.web.lists import export_response, list_context
from ordersight.web.suggestions import suggested

ACTIONS = {
    "pause": (services.pause_recurring_order, gettext_lazy("Recurring order {number} paused.")),
    "activate": (
        services.activate_recurring_order,
        gettext_lazy("Recurring order {number} activated."),
    ),
    "complete": (
        services.complete_recurring_order,
        gettext_lazy("Recurring order {number} completed."),
    ),
}


def _filter_options(request: HttpRequest) -> dict[str, Suggested]:
    return {
        "offer": suggested("offers", request.GET.get("offer", "")),
        "customer": suggested("customers", request.GET.get("customer", "")),
    }


@require_perm("subscriptions.view_recurringorder")
def recurring_orders(request: HttpRequest) -> HttpResponse:
    context = {
        "section": "orders",
        "tab": "recurring",
        **list_context(
            request, selectors.RECURRING_LIST, RecurringOrderFilterSet, _filter_options(request)
        ),
        "retry_intervals": services.describe_intervals(seconds=services.retry_intervals()),
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
        {"recurring": recurring, "children": selectors.child_orders(recurring=recurring)},
    )


@require_perm("subscriptions.manage_recurring_status")
@require_POST
def recurring_action(request: HttpRequest, number: int, action: str) -> HttpResponse:
    recurring = selectors.get_recurring_order(number=number)
    back = request.POST.get("next") or reverse("web:recurring")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:recurring")
    if action not in ACTIONS:
        messages.error(request, _("Unknown action {action!r}.").format(action=action))
        return redirect(back)
    change, done = ACTIONS[action]
    changed = run_service(
        request,
        lambda: change(recurring=recurring, actor=actor_of(request)),
        failed=_("Recurring order {number}: {why}").format(number=number, why="{why}"),
    )
    if changed is not None:
        messages.success(request, done.format(number=number))
    return redirect(back)


_UNITS = {
    "m": lambda n: ngettext("{count} minute", "{count} minutes", n),
    "h": lambda n: ngettext("{count} hour", "{count} hours", n),
    "d": lambda n: ngettext("{count} day", "{count} days", n),
    "s": lambda n: ngettext("{count} second", "{count} seconds", n),
}


def _in_words(interval: str) -> str:
    """ "12h" as people say it: "12 hours"."""
    count, unit = interval[:-1], _UNITS.get(interval[-1:])
    number = ascii_int(count)
    if number is None or not unit:
        return interval
    return unit(number).format(count=count)


def _settings_page(
    request: HttpRequest, *, typed: list[str] | None = None, errors: dict[str, str] | None = None
) -> HttpResponse:
    current = services.describe_intervals(seconds=services.retry_intervals())
    shown = list(typed if typed is not None else current)
    shown += [""] * (services.RETRIES - len(shown))
    errors = errors or {}
    # A count error ("exactly 2 intervals") shows under the first field.
    whole = errors.get("retry_intervals")
    rows = [
        (value, errors.get(f"retry_intervals[{i}]") or (whole if i == 0 else None))
        for i, value in enumerate(shown)
    ]
    return render(
        request,
        "subscriptions/retry_settings.html",
        {
            "section": "settings",
            "current": [_in_words(i) for i in current],
            "rows": rows,
            "retries": services.RETRIES,
        },
        status=422 if errors else 200,
    )


@require_perm("subscriptions.view_recurringpaymentsettings")
def retry_settings(request: HttpRequest) -> HttpResponse:
    """When a failed recurring payment is tried again: the account's two retry intervals."""
    return _settings_page(request)


@require_perm("subscriptions.change_recurringpaymentsettings")
@require_POST
def recurring_settings(request: HttpRequest) -> HttpResponse:
    """Save the retry intervals, e.g. "1d" then "3d", or "30m" then "2h"."""
    if "retry_interval" in request.POST:
        intervals = [part.strip() for part in request.POST.getlist("retry_interval")]
    else:  # one field, "1d, 3d"
        intervals = [part.strip() for part in request.POST.get("retry_intervals", "").split(",")]
    try:
        changed = services.set_retry_intervals(intervals=intervals, actor=actor_of(request))
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except DomainError as exc:
        messages.error(request, _("Retry intervals not saved: {why}").format(why=exc.message))
        return _settings_page(request, typed=intervals, errors=exc.fields)
    # The service keeps exactly services.RETRIES (two) intervals.
    first, second = (
        _in_words(i) for i in services.describe_intervals(seconds=changed.retry_intervals)
    )
    messages.success(
        request,
        _(
            "Saved: a failed recurring payment is now tried again after {first} and then {second}."
        ).format(first=first, second=second),
    )
    return redirect(reverse("web:retry_settings"))


def _card_systems() -> list[PaymentSystem]:
    """Active payment systems that can charge a stored card."""
    return [
        system
        for system in PaymentSystem.objects.filter(is_active=True).order_by("name")
        if gateway_for(system.provider) is not None
    ]


@require_perm("subscriptions.manage_recurring_status")
def replace_payment_method(request: HttpRequest, number: int) -> HttpResponse:
    """A new card for a recurring order's next charges; the old and new tokens are never
    shown in full."""
    recurring = selectors.get_recurring_order(number=number)
    context: dict = {
        "section": "orders",
        "recurring": recurring,
        "systems": _card_systems(),
        "form": {"payment_system": recurring.payment_system.code},
        "errors": {},
    }
    if request.method != "POST":
        return render(request, "subscriptions/payment_method.html", context)
    code = request.POST.get("payment_system", "")
    system = next((s for s in context["systems"] if s.code == code), None)
    errors: dict[str, str] = {}
    if system is None:
        errors["payment_system"] = _("choose an active payment system that charges cards")
    else:
        try:
            services.replace_payment_method(
                recurring=recurring,
                payment_token=request.POST.get("payment_token", ""),
                payment_system=system,
                actor=actor_of(request),
            )
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except DomainError as exc:
            messages.error(request, _("Payment method not replaced: {why}").format(why=exc.message))
            errors = exc.fields or {"payment_token": exc.message}
    if errors:
        # The token typed is kept out of the page, as a stored one is.
        context.update(
            {"form": {"payment_system": code}, "errors": errors},
        )
        return render(request, "subscriptions/payment_method.html", context, status=422)
    recurring.refresh_from_db()
    if recurring.status == RecurringStatus.FAILED:
        done = _(
            "Recurring order {number} will be charged to the card ending {hint} through "
            "{system}. It can be activated again."
        )
    else:
        done = _(
            "Recurring order {number} will be charged to the card ending {hint} through {system}."
        )
    messages.success(
        request, done.format(number=number, hint=recurring.token_hint, system=system.name)
    )
    return redirect(reverse("web:recurring"))
