"""Staff pages for payments: the Payments tab, its export, and refunds with a confirmation."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ordersight.core.csv_stream import csv_response
from ordersight.core.errors import DomainError, Invalid
from ordersight.payments import selectors, services
from ordersight.payments.models import FeeRule, InvoiceStatus, PaymentSystem
from ordersight.web.access import actor_of, require_perm
from ordersight.web.lists import PRESETS, list_page, selector_filters


def _sorted(queryset: Any, sort: str | None) -> tuple[Any, tuple[str, str]]:
    return queryset, selectors.invoice_ordering(sort)


@require_perm("payments.view_invoice")
def payments(request: HttpRequest) -> HttpResponse:
    page = list_page(request, lambda f: selectors.list_invoices(filters=f), _sorted)
    return render(
        request,
        "payments/payments.html",
        {
            "section": "orders",
            "tab": "payments",
            "page": page,
            "default_sort": "-created_at",
            "statuses": InvoiceStatus.choices,
            "systems": PaymentSystem.objects.all(),
            "currencies": sorted(
                set(FeeRule.objects.values_list("currency", flat=True)) | {"EUR", "GBP", "USD"}
            ),
            "presets": PRESETS,
            "export_query": selector_filters(request.GET).urlencode(),
        },
    )


@require_perm("payments.view_invoice")
def export_payments(request: HttpRequest) -> StreamingHttpResponse | HttpResponse:
    try:
        queryset = selectors.list_invoices(filters=selector_filters(request.GET))
    except Invalid as exc:
        return HttpResponse(f"Invalid filter: {exc.fields}", status=422)
    return csv_response(
        request,
        selectors.payment_export_rows(queryset),
        selectors.PAYMENT_EXPORT_COLUMNS,
        "payments.csv",
    )


@require_perm("payments.add_refund")
@require_POST
def refund(request: HttpRequest, number: int) -> HttpResponse:
    """Refund in two steps: the first POST shows what will happen, the second does it."""
    invoice = selectors.get_invoice(number=number)
    back = reverse("web:order", kwargs={"number": invoice.order.number}) + "#payments"
    raw = request.POST.get("amount", "").strip().replace(",", ".")
    reason = request.POST.get("reason", "")[:500]
    try:
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise Invalid(
                "The amount is not a number.", fields={"amount": "not a number"}
            ) from None
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
