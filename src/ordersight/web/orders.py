"""Staff pages for orders: All Orders, the order detail, new order, actions, export.

Thin, like the API: each view reads through the selectors and writes through the services.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from ordersight.accounts.selectors import list_sales_managers
from ordersight.campaigns.selectors import conversion_of_order
from ordersight.catalog.models import Category
from ordersight.core.actors import Actor
from ordersight.core.errors import DomainError, Forbidden, Invalid
from ordersight.core.money import CURRENCY_CODES, format_money
from ordersight.core.validation import ascii_int
from ordersight.http.downloads import csv_response
from ordersight.orders import attribution, selectors, services
from ordersight.orders.choices import order_type_choices
from ordersight.orders.filters import OrderFilterSet
from ordersight.orders.models import (
    FulfillmentStatus,
    Order,
    OrderStatus,
)
from ordersight.orders.transitions import FULFILLABLE, allowed_transitions, can_confirm
from ordersight.payments import selectors as payment_selectors
from ordersight.payments import services as payments
from ordersight.payments.models import Invoice, InvoiceStatus, PaymentSystem
from ordersight.payments.selectors import order_money
from ordersight.payments.services.settlement import OPEN_FOR_PAYMENT
from ordersight.promotions.selectors import redemptions_of_order
from ordersight.web.access import actor_of, check_perm, require_perm, run_service
from ordersight.web.activity import activity_entries
from ordersight.web.bulk import BulkResult, chosen_ids, refuse, run_bulk, tell
from ordersight.web.filter_panel import Options, Suggested
from ordersight.web.forms import parse_decimal, parse_new_order, rename_line_errors
from ordersight.web.lists import PRESETS, export_response, list_context
from ordersight.web.rows import order_rows
from ordersight.web.suggestions import chosen, sku_options, suggested


def _managers() -> list[Any]:
    return list(list_sales_managers())


def _filter_options(
    request: HttpRequest, managers: list[Any]
) -> dict[str, list[tuple[str, str]] | Suggested]:
    """Options of the filters whose values live in the database; the offer and the customer
    are picked from suggestions (a store may have tens of thousands of each)."""
    return {
        "offer": suggested("offers", request.GET.get("offer", "")),
        "customer": suggested("customers", request.GET.get("customer", "")),
        "category": [
            (str(c.number), f"{c.number} · {c.name}") for c in Category.objects.order_by("number")
        ],
        "sales_manager": [("system", _("System"))]
        + [(str(m.pk), m.get_username()) for m in managers],
    }


@require_perm("orders.view_order")
def all_orders(request: HttpRequest) -> HttpResponse:
    managers = _managers()  # the row actions and the filter panel list the same people
    names = [(m.pk, m.get_username()) for m in managers]
    context = {
        "section": "orders",
        "tab": "all",
        **list_context(
            request, selectors.ORDER_LIST, OrderFilterSet, _filter_options(request, managers)
        ),
        # Each row's Check and Add user pickers, rendered once per selected manager.
        "sale_by_options": Options(
            [("system", _("System sale"))]
            + [(pk, _("Sale by {name}").format(name=name)) for pk, name in names],
            none_selects="system",
        ),
        "manager_options": Options([("system", _("System")), *names]),
        "presets": PRESETS,
    }
    context["rows"] = order_rows(
        context["page"].items,
        request,
        can_attribute=request.user.has_perm("orders.manage_sales_attribution"),
        can_change=request.user.has_perm("orders.change_order"),
    )
    if request.htmx and request.GET.get("partial") == "rows":
        return render(request, "orders/_order_rows.html", context)
    return render(request, "orders/all_orders.html", context)


@require_perm("orders.view_order")
def export_orders(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.ORDER_LIST)


@require_perm("orders.view_order")
def order_invoices(request: HttpRequest, number: int) -> HttpResponse:
    """The invoices of one order, shown inline under its row in All Orders."""
    order = selectors.get_order(number=number, details=False)
    invoices = payment_selectors.invoices_of_order(order=order)
    return render(request, "orders/_invoices.html", {"order": order, "invoices": invoices})


def _detail_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    actor = actor_of(request)
    allowed = allowed_transitions(order, actor)
    invoices = payment_selectors.invoices_of_order(order=order)
    return {
        "section": "orders",
        "order": order,
        "invoices": invoices,
        # With their invoices at once: each refund names its invoice.
        "refunds": order.refunds.select_related("invoice"),
        "activity": activity_entries(
            selectors.list_order_events(order=order), currency=order.currency
        ),
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
        **_payment_figures(order, invoices),
        "metadata_text": json.dumps(order.metadata, indent=2, ensure_ascii=False, sort_keys=True),
        "redemptions": list(redemptions_of_order(order_id=order.pk)),
        "can_redeem": order.status in ("draft", "open") and not order.has_ever_captured_money,
        "conversion": (
            conversion_of_order(order_id=order.pk)
            if request.user.has_perm("campaigns.view_conversion")
            and (order.coupon_code or order.referral_code)
            else None
        ),
    }


def _payment_figures(order: Order, invoices: list[Invoice]) -> dict[str, Any]:
    """What the Take payment panel offers: what is left to invoice and to pay, the pending
    invoices a manual payment may settle."""
    figures = order_money(order=order)
    return {
        "left_to_invoice": order.total - figures["invoiced"],
        "left_to_pay": order.total - figures["net"],
        "pending_invoices": [i for i in invoices if i.status == InvoiceStatus.PENDING],
        "may_invoice": order.status in OPEN_FOR_PAYMENT,
        "takes_payments": order.status not in (OrderStatus.CANCELLED, OrderStatus.DECLINED),
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
ACTIONS: dict[str, tuple[Callable[..., Order], Any]] = {
    "complete": (
        partial(services.transition_order, to=OrderStatus.COMPLETED),
        gettext_lazy("Order {number} completed."),
    ),
    "decline": (
        partial(services.transition_order, to=OrderStatus.DECLINED),
        gettext_lazy("Order {number} declined."),
    ),
    "cancel": (
        partial(services.transition_order, to=OrderStatus.CANCELLED),
        gettext_lazy("Order {number} cancelled."),
    ),
    "fulfil": (services.fulfil_order, gettext_lazy("Order {number} marked fulfilled.")),
    "confirm": (services.confirm_order, gettext_lazy("Order {number} confirmed as completed.")),
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
        messages.success(request, done.format(number=number))
    return redirect(back_to(request, order_url(number)))


# Bulk actions of All Orders: (permission, what was done, by how many orders). The services
# are the row actions' own; each refuses, row by row, what depends on the order.
BULK_ACTIONS: dict[str, tuple[str, Callable[[int], str]]] = {
    "confirm": (
        "orders.change_order",
        lambda n: ngettext("%(count)s order confirmed", "%(count)s orders confirmed", n),
    ),
    "decline": (
        "orders.change_order",
        lambda n: ngettext("%(count)s order declined", "%(count)s orders declined", n),
    ),
    "cancel": (
        "orders.change_order",
        lambda n: ngettext("%(count)s order cancelled", "%(count)s orders cancelled", n),
    ),
    "fulfil": (
        "orders.change_order",
        lambda n: ngettext(
            "%(count)s order marked fulfilled", "%(count)s orders marked fulfilled", n
        ),
    ),
    "assign": (
        attribution.PERMISSION,
        lambda n: ngettext("%(count)s order attributed", "%(count)s orders attributed", n),
    ),
    "check": (
        attribution.PERMISSION,
        lambda n: ngettext("%(count)s sale checked", "%(count)s sales checked", n),
    ),
    "export": (
        "orders.view_order",
        lambda n: ngettext("%(count)s order exported", "%(count)s orders exported", n),
    ),
}


def _bulk_manager(request: HttpRequest) -> int | None:
    """The sales manager Add user names for every order, checked once for all of them."""
    choice = request.POST.get("manager", "")
    if choice == "system":
        return None
    if ascii_int(choice) is None:
        raise Invalid(
            _("Choose who made the sales."), fields={"manager": _("choose a sales manager")}
        )
    attribution.sales_manager_by_id(int(choice), field="manager")
    return int(choice)


@require_perm("orders.view_order")
@require_POST
def bulk_orders(request: HttpRequest) -> HttpResponse:
    """One action on the ticked orders, or on every order the filters match (see web/bulk.py),
    each through the single action's service, so each changed order has its one event;
    Check goes through its bulk service, which writes the same events a batch at a time."""
    back = back_to(request, reverse("web:orders"))
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, _("Unknown bulk action {action}.").format(action=repr(action)))
        return redirect(back)
    perm, done_words = BULK_ACTIONS[action]
    check_perm(request, perm)
    actor = actor_of(request)
    try:
        ids = chosen_ids(request.POST, selectors.ORDER_LIST)
        manager_id = _bulk_manager(request) if action == "assign" else None
        read_at = _read_at(request) if action == "check" else None
    except Invalid as exc:
        refuse(request, exc)
        return redirect(back)
    if action == "export":
        rows = selectors.ORDER_LIST.export({}, request.POST.get("sort")).filter(pk__in=ids)
        return csv_response(request, rows, selectors.ORDER_LIST.headers, "orders-selected.csv")
    if action == "check":
        result, already = _checked(ids, actor, read_at)
        tell(request, result, _with_already_checked(done_words, already))
        return redirect(back)
    reason = request.POST.get("reason", "")[:500]
    acts: dict[str, Callable[[Order], Any]] = {
        "confirm": lambda order: services.confirm_order(order=order, actor=actor),
        "decline": lambda order: services.transition_order(
            order=order, to=OrderStatus.DECLINED, actor=actor, reason=reason
        ),
        "cancel": lambda order: services.transition_order(
            order=order, to=OrderStatus.CANCELLED, actor=actor, reason=reason
        ),
        "fulfil": lambda order: services.fulfil_order(order=order, actor=actor),
        "assign": lambda order: attribution.assign_sales_manager(
            order=order, manager_id=manager_id, actor=actor
        ),
    }
    result = run_bulk(
        rows=Order.objects.all(),
        ids=ids,
        act=acts[action],
        name=lambda order: _("Order {number}").format(number=order.number),
    )
    tell(request, result, done_words)
    return redirect(back)


def _read_at(request: HttpRequest) -> datetime | None:
    """When the list was drawn (the bulk form's `read_at`); refused naming it if garbled."""
    text = request.POST.get("read_at", "")
    try:
        value = parse_datetime(text) if text else None
    except ValueError:
        value = None
    if text and (value is None or timezone.is_naive(value)):
        raise Invalid(
            _("Reload the list and try again."),
            fields={"read_at": _("a date and time with its offset")},
        )
    return value


def _checked(ids: list[int], actor: Actor, read_at: datetime | None) -> tuple[BulkResult, int]:
    """ "Check" on many sales at once, set-based (one transaction per thousand orders, not
    one per order as the other bulk actions take), and how many were checked already (left
    as they are); one whose manager was changed after the list was drawn (`read_at`) is
    refused."""
    done = attribution.confirm_sales_attributions(
        order_ids=ids, actor=actor, unchanged_since=read_at
    )
    numbers = dict(Order.objects.filter(pk__in=done.refused).values_list("pk", "number"))
    result = BulkResult(
        done=len(done.confirmed),
        refused=[
            (_("Order {number}").format(number=numbers[pk]), exc.message)
            for pk, exc in sorted(done.refused.items())
        ],
    )
    return result, len(done.already_confirmed)


def _with_already_checked(done: Callable[[int], str], already: int) -> Callable[[int], str]:
    """ "3 sales checked" and, when some were, "(2 were checked already)": a person who
    ticked checked sales sees why fewer were done, not a bare "0 sales checked"."""
    if not already:
        return done
    note = ngettext(
        "(%(already)s was checked already)", "(%(already)s were checked already)", already
    ) % {"already": number_format(already, force_grouping=True)}
    return lambda n: f"{done(n)} {note}"


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
        error = _("Not valid JSON: {reason} (line {line}, column {column}).").format(
            reason=exc.msg, line=exc.lineno, column=exc.colno
        )
    except RecursionError:
        error = _("The JSON nests too deeply.")
    except Invalid as exc:
        error = exc.fields.get("metadata") or exc.message
    if error is None:
        messages.success(request, _("Metadata saved."))
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
    manager_id = None if choice == "system" else ascii_int(choice) or -1
    confirm = request.POST.get("mode") == "confirm"
    service = attribution.confirm_sales_attribution if confirm else attribution.assign_sales_manager
    done = run_service(
        request, lambda: service(order=order, manager_id=manager_id, actor=actor_of(request))
    )
    if done is not None:
        who = done.sales_manager.get_username() if done.sales_manager else _("the system")
        said = (
            _("Sale {number} confirmed as made by {who}.")
            if confirm
            else _("Order {number} now names {who} as its sales manager.")
        )
        messages.success(request, said.format(number=number, who=who))
    return redirect(back_to(request, order_url(number)))


@require_perm("orders.add_order")
def new_order(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "section": "orders",
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
    context.update(_chosen(request.POST.get("customer_id", ""), [line["sku"] for line in typed]))
    if data is not None:
        try:
            order = services.create_order(data=data, actor=actor_of(request))
        except Invalid as exc:
            errors = rename_line_errors(exc.fields, rows)
        else:
            messages.success(request, _("Order {number} created.").format(number=order.number))
            return redirect("web:order", number=order.number)
    context["errors"] = errors
    return render(request, "orders/new_order.html", context, status=422)


def _chosen(customer_id: str, skus: list[str]) -> dict[str, Any]:
    """What the form's pickers show again for the values typed: the customer's and the
    SKUs' words, so a form sent back with errors still says whom and what it names."""
    customer = chosen("customers", customer_id)
    return {
        "chosen_customer": customer[0] if customer else None,
        "chosen_skus": sku_options(skus),
    }


# --- Taking payment on the order page: invoices, a manual payment, mark paid -----------------


def _payment_refused(
    request: HttpRequest, order: Order, form: str, exc: DomainError | None, errors: dict[str, str]
) -> HttpResponse:
    """The order page again with the form as typed, its errors by field, the tab open."""
    if isinstance(exc, Forbidden):
        raise PermissionDenied(exc.message) from None
    refused = {
        "invoice": _("No invoice issued: {why}"),
        "manual": _("No payment recorded: {why}"),
        "paid": _("The order was not marked paid: {why}"),
    }[form]
    errors = errors or (exc.fields if exc else {})
    if form == "invoice" and any(key.startswith("amounts[") for key in errors):
        # One field holds every amount: its error names which one.
        errors = {"amounts": "; ".join(f"{k}: {v}" for k, v in errors.items())}
    detail = "; ".join(f"{field}: {text}" for field, text in errors.items())
    messages.error(request, refused.format(why=exc.message if exc else detail + "."))
    context = _detail_context(request, order)
    context.update(
        {
            "open_tab": "payments",
            "payment_form": form,
            "payment_typed": request.POST,
            "payment_errors": errors,
        }
    )
    return render(request, "orders/order_detail.html", context, status=422)


def _manual_system(request: HttpRequest, errors: dict[str, str]) -> PaymentSystem | None:
    code = request.POST.get("payment_system", "")
    system = PaymentSystem.objects.filter(code=code, provider="manual", is_active=True).first()
    if system is None:
        errors["payment_system"] = _("choose one of the active manual payment methods")
    return system


@require_perm("payments.add_invoice")
@require_POST
def issue_invoices(request: HttpRequest, number: int) -> HttpResponse:
    """Invoice what is left: one invoice, N equal installments, or the amounts given."""
    order = selectors.get_order(number=number)
    errors: dict[str, str] = {}
    plan = request.POST.get("plan", "one")
    installments: int | None = None
    amounts: list | None = None
    if plan == "installments":
        raw = request.POST.get("installments", "").strip()
        if (count := ascii_int(raw)) is not None:
            installments = count
        else:
            errors["installments"] = _("a whole number of installments, e.g. 3")
    elif plan == "amounts":
        parts = [p for p in request.POST.get("amounts", "").replace(";", " ").split() if p]
        amounts = []
        for i, part in enumerate(parts):
            value = parse_decimal(part.strip(","), f"amounts[{i}]", errors)
            if value is not None:
                amounts.append(value)
        if not parts:
            errors["amounts"] = _("give each invoice's amount, separated by spaces")
    elif plan != "one":
        errors["plan"] = _("one invoice, installments or amounts")
    if errors:
        return _payment_refused(request, order, "invoice", None, errors)
    try:
        invoices = payments.issue_invoices(
            order=order, installments=installments, amounts=amounts, actor=actor_of(request)
        )
    except DomainError as exc:
        return _payment_refused(request, order, "invoice", exc, {})
    numbers = ", ".join(str(i.number) for i in invoices)
    issued = ngettext(
        "Order {number}: invoice {numbers} issued.",
        "Order {number}: {count} invoices ({numbers}) issued.",
        len(invoices),
    )
    messages.success(request, issued.format(number=number, count=len(invoices), numbers=numbers))
    return redirect(f"{order_url(number)}#payments")


@require_perm("payments.add_invoice")
@require_POST
def record_manual_payment(request: HttpRequest, number: int) -> HttpResponse:
    """Money received outside a gateway: a pending invoice settled, or an amount."""
    order = selectors.get_order(number=number)
    errors: dict[str, str] = {}
    system = _manual_system(request, errors)
    amount = parse_decimal(request.POST.get("amount", ""), "amount", errors)
    invoice = None
    invoice_raw = request.POST.get("invoice", "").strip()
    if invoice_raw:
        try:
            invoice = payment_selectors.get_invoice(
                number=ascii_int(invoice_raw) or -1, field="invoice"
            )
        except DomainError as exc:
            errors["invoice"] = exc.fields.get("invoice") or exc.message
    if errors or system is None:
        return _payment_refused(request, order, "manual", None, errors)
    try:
        paid = payments.record_manual_payment(
            order=order,
            payment_system=system,
            amount=amount,
            invoice=invoice,
            buyer_comment=request.POST.get("buyer_comment", "")[:2000],
            actor=actor_of(request),
        )
    except DomainError as exc:
        return _payment_refused(request, order, "manual", exc, {})
    messages.success(
        request,
        _(
            "Order {number}: payment of {amount} {currency} recorded through {system} "
            "(invoice {invoice})."
        ).format(
            number=number,
            amount=format_money(paid.amount, paid.currency),
            currency=paid.currency,
            system=system.name,
            invoice=paid.number,
        ),
    )
    return redirect(f"{order_url(number)}#payments")


@require_perm("payments.add_invoice")
@require_POST
def mark_paid(request: HttpRequest, number: int) -> HttpResponse:
    """All still due received by a manual method."""
    order = selectors.get_order(number=number)
    errors: dict[str, str] = {}
    system = _manual_system(request, errors)
    if system is None:
        return _payment_refused(request, order, "paid", None, errors)
    try:
        settled = payments.mark_order_paid(
            order=order,
            payment_system=system,
            buyer_comment=request.POST.get("buyer_comment", "")[:2000],
            actor=actor_of(request),
        )
    except DomainError as exc:
        return _payment_refused(request, order, "paid", exc, {})
    numbers = ", ".join(str(i.number) for i in settled)
    messages.success(
        request,
        ngettext(
            "Order {number} marked paid through {system}: invoice {numbers} settled.",
            "Order {number} marked paid through {system}: invoices {numbers} settled.",
            len(settled),
        ).format(number=number, system=system.name, numbers=numbers),
    )
    return redirect(f"{order_url(number)}#payments")
