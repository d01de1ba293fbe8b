"""Staff pages for payments: the Payments tab, its export, and refunds with a confirmation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ordersight.core.errors import DomainError, Invalid
from ordersight.payments import selectors, services
from ordersight.payments.filters import InvoiceFilterSet
from ordersight.payments.models import FeeRule, PaymentSystem
from ordersight.web.access import actor_of, require_perm
from ordersight.web.forms import parse_decimal
from ordersight.web.lists import PRESETS, export_response, list_context


def _filter_options() -> dict[str, list[tuple[str, str]]]:
    currencies = set(FeeRule.objects.values_list("currency", flat=True)) | {"EUR", "GBP", "USD"}
    return {
        "currency": [(c, c) for c in sorted(currencies)],
        "payment_system": [(s.code, s.name) for s in PaymentSystem.objects.order_by("name")],
    }


@require_perm("payments.view_invoice")
def payments(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "payments/payments.html",
        {
            "section": "orders",
            "tab": "payments",
            **list_context(request, selectors.INVOICE_LIST, InvoiceFilterSet, _filter_options()),
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
                "Give the amount to refund as a number.", fields=errors or {"amount": "required"}
            )
        services.check_refundable(invoice, amount)
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
        messages.error(request, f"Refund not made: {exc.message}")
        return redirect(back)
    messages.success(request, f"Refunded {amount} {invoice.currency} of invoice {number}.")
    return redirect(back)
