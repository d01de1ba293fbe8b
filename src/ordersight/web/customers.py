"""Staff pages for customers: the list and the customer card with its sales plan."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ordersight.accounts.selectors import list_sales_managers
from ordersight.catalog.selectors import offer_numbered
from ordersight.core.validation import ascii_int
from ordersight.customers import selectors
from ordersight.customers.filters import CustomerFilterSet
from ordersight.orders import attribution
from ordersight.orders.selectors import list_orders, list_sales_plan
from ordersight.payments.selectors import list_invoices
from ordersight.subscriptions.selectors import recurring_orders_of
from ordersight.web.access import actor_of, keep_typed, require_perm, run_service
from ordersight.web.lists import PRESETS, export_response, list_context

CARD_ROWS = 100


@require_perm("customers.view_customer")
def customers(request: HttpRequest) -> HttpResponse:
    context = {
        "section": "customers",
        **list_context(request, selectors.CUSTOMER_LIST, CustomerFilterSet),
        "presets": PRESETS,
    }
    return render(request, "customers/customers.html", context)


@require_perm("customers.view_customer")
def export_customers(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.CUSTOMER_LIST)


@require_perm("customers.view_customer")
def customer_card(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.get_customer(customer_id=customer_id)
    context = {
        "section": "customers",
        "customer": customer,
        "orders": list_orders(filters={"customer": customer.pk}).order_by("-created_at")[
            :CARD_ROWS
        ],
        "invoices": list_invoices(filters={"customer": customer.pk}).order_by("-created_at")[
            :CARD_ROWS
        ],
        "sales_plan": list_sales_plan(customer=customer),
        "recurring_orders": (
            list(recurring_orders_of(customer_id=customer.pk)[:CARD_ROWS])
            if request.user.has_perm("subscriptions.view_recurringorder")
            else None
        ),
        "managers": list(list_sales_managers()),
    }
    return render(request, "customers/customer_card.html", context)


@require_perm("orders.add_salesplanentry")
@require_POST
def add_sales_plan_entry(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A sales manager records that the customer paid for an offer (through them)."""
    customer = selectors.get_customer(customer_id=customer_id)
    back = reverse("web:customer", kwargs={"customer_id": customer_id}) + "#sales-plan"
    chosen = request.POST.get("manager", "")
    offer = offer_numbered(text=request.POST.get("offer", ""))
    if offer is None:
        messages.error(request, _("Choose the offer the customer paid for."))
        keep_typed(request, "sales-plan")
        return redirect(back)
    entry = run_service(
        request,
        lambda: attribution.record_sales_plan_entry(
            customer=customer,
            offer=offer,
            manager_id=ascii_int(chosen),
            note=request.POST.get("note", ""),
            actor=actor_of(request),
        ),
    )
    if entry is None:
        keep_typed(request, "sales-plan")
    else:
        messages.success(
            request,
            _("Recorded: {customer} paid for {offer} through {manager}.").format(
                customer=customer.name, offer=offer.name, manager=entry.manager.get_username()
            ),
        )
    return redirect(back)
