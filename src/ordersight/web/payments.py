"""Staff pages for payments: the Payments tab, its export, refunds with a confirmation, and
the payment systems with their fee rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ordersight.core.errors import DomainError, Forbidden, Invalid
from ordersight.core.money import CURRENCY_CODES
from ordersight.payments import selectors, services
from ordersight.payments.filters import InvoiceFilterSet
from ordersight.payments.models import FeeRule, PaymentSystem, Provider
from ordersight.payments.services.systems import SECRET_MIN
from ordersight.web.access import actor_of, require_perm
from ordersight.web.display import money_text
from ordersight.web.filter_panel import Suggested
from ordersight.web.forms import parse_decimal
from ordersight.web.lists import PRESETS, export_response, list_context
from ordersight.web.suggestions import suggested


def _filter_options(request: HttpRequest) -> dict[str, list[tuple[str, str]] | Suggested]:
    currencies = set(FeeRule.objects.values_list("currency", flat=True)) | {"EUR", "GBP", "USD"}
    return {
        "currency": [(c, c) for c in sorted(currencies)],
        "payment_system": [(s.code, s.name) for s in PaymentSystem.objects.order_by("name")],
        "customer": suggested("customers", request.GET.get("customer", "")),
    }


@require_perm("payments.view_invoice")
def payments(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "payments/payments.html",
        {
            "section": "orders",
            "tab": "payments",
            **list_context(
                request, selectors.INVOICE_LIST, InvoiceFilterSet, _filter_options(request)
            ),
            "presets": PRESETS,
        },
    )


@require_perm("payments.view_invoice")
def export_payments(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.INVOICE_LIST)


@require_perm("payments.add_refund")
@require_POST
def refund(request: HttpRequest, number: int) -> HttpResponse:
    """Refund in two steps: the first POST shows what will happen, the second does it."""
    invoice = selectors.get_invoice(number=number)
    back = reverse("web:order", kwargs={"number": invoice.order.number}) + "#payments"
    reason = request.POST.get("reason", "")[:500]
    try:
        errors: dict[str, str] = {}
        amount = parse_decimal(request.POST.get("amount", ""), "amount", errors)
        if amount is None:
            raise Invalid(
                _("Give the amount to refund as a number."),
                fields=errors or {"amount": "required"},
            )
        services.check_refundable(invoice=invoice, amount=amount)
        if request.POST.get("confirmed") != "yes":
            return render(
                request,
                "payments/refund_confirm.html",
                {
                    "section": "orders",
                    "invoice": invoice,
                    "amount": amount,
                    "reason": reason,
                    "back": back,
                },
            )
        services.refund_invoice(
            invoice=invoice, amount=amount, reason=reason, actor=actor_of(request)
        )
    except DomainError as exc:
        messages.error(request, _("Refund not made: {why}").format(why=exc.message))
        # The form shows again with what was typed in it.
        typed = urlencode(
            {"refund": number, "amount": request.POST.get("amount", "")[:40], "reason": reason}
        )
        return redirect(f"{back.removesuffix('#payments')}?{typed}#payments")
    messages.success(
        request,
        _("Refunded {amount} of invoice {number}.").format(
            amount=money_text(amount, invoice.currency), number=number
        ),
    )
    return redirect(back)


# --- Payment systems and fee rules ----------------------------------------------------------


def _system_form(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "section": "settings",
            "providers": Provider.choices,
            "currencies": sorted(CURRENCY_CODES),
            "secret_help": _(
                "The secret the provider signs its webhooks with, {min} to 200 "
                "characters; empty for none. It is never shown again."
            ).format(min=SECRET_MIN),
            **context,
        },
        status=status,
    )


def _not_done(request: HttpRequest, exc: DomainError, message: str) -> dict[str, str]:
    """Show `message`, a translated sentence holding `{why}`, with the service's reason."""
    if isinstance(exc, Forbidden):
        raise PermissionDenied(exc.message) from None
    messages.error(request, message.format(why=exc.message))
    return exc.fields


@require_perm("payments.view_paymentsystem")
def payment_systems(request: HttpRequest) -> HttpResponse:
    """Every merchant account with its provider, state and fee rules."""
    return render(
        request,
        "payments/payment_systems.html",
        {"section": "settings", "systems": selectors.list_payment_systems()},
    )


@require_perm("payments.add_paymentsystem")
def new_payment_system(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _system_form(
            request,
            "payments/payment_system_new.html",
            {"form": {"provider": Provider.MANUAL, "is_active": "on"}, "errors": {}},
        )
    post = request.POST
    try:
        system = services.create_payment_system(
            code=post.get("code", "").strip(),
            name=post.get("name", ""),
            provider=post.get("provider", ""),
            supports_one_click=post.get("supports_one_click") == "on",
            webhook_secret=post.get("webhook_secret", ""),
            is_active=post.get("is_active") == "on",
        )
    except DomainError as exc:
        errors = _not_done(
            request,
            exc,
            _("The payment system was not created: {why} Check the fields marked below."),
        )
        # The secret is not sent back into the page, even as typed.
        form = {k: v for k, v in post.items() if k != "webhook_secret"}
        return _system_form(
            request,
            "payments/payment_system_new.html",
            {"form": form, "errors": errors},
            status=422,
        )
    messages.success(
        request,
        _("Payment system {name} created. Add a fee rule for each currency it takes.").format(
            name=system.name
        ),
    )
    return redirect("web:payment_system", code=system.code)


def _system_page(
    request: HttpRequest,
    system: PaymentSystem,
    *,
    form: Any = None,
    errors: dict[str, str] | None = None,
    fee_form: Any = None,
    fee_errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return _system_form(
        request,
        "payments/payment_system.html",
        {
            "system": system,
            "fee_rules": system.fee_rules.order_by("currency"),
            "form": form
            or {
                "name": system.name,
                "supports_one_click": "on" if system.supports_one_click else "",
                "is_active": "on" if system.is_active else "",
            },
            "errors": errors or {},
            "fee_form": fee_form or {},
            "fee_errors": fee_errors or {},
            "webhook_url": request.build_absolute_uri(f"/api/v1/payments/webhooks/{system.code}"),
        },
        status=status,
    )


@require_perm("payments.view_paymentsystem")
def payment_system(request: HttpRequest, code: str) -> HttpResponse:
    return _system_page(request, selectors.get_payment_system(code=code, missing=True))


@require_perm("payments.change_paymentsystem")
@require_POST
def edit_payment_system(request: HttpRequest, code: str) -> HttpResponse:
    system = selectors.get_payment_system(code=code, missing=True)
    post = request.POST
    changes: dict[str, Any] = {
        "name": post.get("name", ""),
        "supports_one_click": post.get("supports_one_click") == "on",
        "is_active": post.get("is_active") == "on",
    }
    # The secret is write-only: empty keeps the one set, the box removes it.
    if post.get("remove_webhook_secret") == "on":
        changes["webhook_secret"] = ""
    elif post.get("webhook_secret"):
        changes["webhook_secret"] = post["webhook_secret"]
    try:
        services.update_payment_system(system=system, changes=changes)
    except DomainError as exc:
        errors = _not_done(
            request, exc, _("The changes were not saved: {why} Check the fields marked below.")
        )
        form = {k: v for k, v in post.items() if k != "webhook_secret"}
        return _system_page(request, system, form=form, errors=errors, status=422)
    messages.success(
        request, _("Payment system {name} saved.").format(name=post.get("name", "").strip())
    )
    return redirect("web:payment_system", code=system.code)


@require_perm("payments.change_paymentsystem")
@require_POST
def set_fee_rule(request: HttpRequest, code: str) -> HttpResponse:
    """Add or replace the fee rule of one currency."""
    system = selectors.get_payment_system(code=code, missing=True)
    post = request.POST
    errors: dict[str, str] = {}
    currency = post.get("currency", "").strip().upper()
    percent = parse_decimal(post.get("percent", ""), "percent", errors)
    fixed = parse_decimal(post.get("fixed", ""), "fixed", errors)
    if not currency:
        errors["currency"] = _("choose the currency the rule is for")
    if not errors:
        try:
            services.set_fee_rule(
                system=system,
                currency=currency,
                percent=percent if percent is not None else Decimal(0),
                fixed=fixed if fixed is not None else Decimal(0),
            )
        except DomainError as exc:
            errors = _not_done(
                request, exc, _("The fee rule was not saved: {why} Check the fields marked below.")
            )
        else:
            messages.success(
                request,
                _(
                    "{system} now keeps {percent}% + {fixed} {currency} of each payment in "
                    "{currency}."
                ).format(
                    system=system.name,
                    percent=(percent or Decimal(0)).normalize(),
                    fixed=fixed or 0,
                    currency=currency,
                ),
            )
            return redirect(f"{reverse('web:payment_system', kwargs={'code': code})}#fees")
    else:
        messages.error(request, _("The fee rule was not saved: check the fields marked below."))
    return _system_page(request, system, fee_form=post, fee_errors=errors, status=422)


@require_perm("payments.change_paymentsystem")
@require_POST
def remove_fee_rule(request: HttpRequest, code: str, currency: str) -> HttpResponse:
    system = selectors.get_payment_system(code=code, missing=True)
    try:
        services.remove_fee_rule(system=system, currency=currency)
    except DomainError as exc:
        messages.error(request, _("No fee rule removed: {why}").format(why=exc.message))
    else:
        messages.success(
            request,
            _("{system} no longer has a fee rule for {currency}.").format(
                system=system.name, currency=currency.upper()
            ),
        )
    return redirect(f"{reverse('web:payment_system', kwargs={'code': code})}#fees")
