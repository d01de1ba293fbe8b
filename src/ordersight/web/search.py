"""The global search: one box in the header (Ctrl/⌘-K) finding orders, customers, invoices,
discount codes, creators and SKUs, each kind through its own app's selector, and only the
kinds the user's role may see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ordersight.campaigns.selectors import find_creators
from ordersight.catalog.selectors import find_variants
from ordersight.customers.selectors import find_customers
from ordersight.orders.selectors import find_orders
from ordersight.payments.selectors import find_invoices
from ordersight.promotions.selectors import find_discount_codes

MAX_TERM = 100  # characters: longer than any number, code, SKU or e-mail looked for
PER_KIND = 5


@dataclass(frozen=True)
class Hit:
    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class Group:
    kind: str
    label: str
    hits: list[Hit]
    more_url: str = ""  # the kind's own list, filtered by the same text


@dataclass(frozen=True)
class Kind:
    name: str
    perms: tuple[str, ...]  # all of these, or the kind is not searched at all
    noun: str  # as a sentence names the kind: "Nothing matches … in orders, SKUs"
    find: Callable[[HttpRequest, str], Group]


def _orders(request: HttpRequest, term: str) -> Group:
    hits = [
        Hit(
            _("Order %(number)s") % {"number": order.number},
            " · ".join(
                filter(
                    None,
                    [
                        order.customer.name if order.customer else "",
                        order.badge,
                        _("external id %(id)s") % {"id": order.external_id}
                        if order.external_id
                        else "",
                    ],
                )
            ),
            reverse("web:order", args=[order.number]),
        )
        for order in find_orders(term=term, limit=PER_KIND)
    ]
    return Group("orders", _("Orders"), hits)


def _customers(request: HttpRequest, term: str) -> Group:
    hits = [
        Hit(customer.name, customer.email, reverse("web:customer", args=[customer.pk]))
        for customer in find_customers(term=term, limit=PER_KIND)
    ]
    more = f"{reverse('web:customers')}?{urlencode({'q': term})}" if len(hits) == PER_KIND else ""
    return Group("customers", _("Customers"), hits, more)


def _invoices(request: HttpRequest, term: str) -> Group:
    may_open_orders = request.user.has_perm("orders.view_order")
    hits = []
    for invoice in find_invoices(term=term, limit=PER_KIND):
        number = invoice.order.number
        url = (
            reverse("web:order", args=[number]) + "#invoices"
            if may_open_orders
            else f"{reverse('web:payments')}?{urlencode({'order': number})}"
        )
        detail = _("%(status)s · order %(order)s") % {
            "status": invoice.get_status_display(),
            "order": number,
        }
        hits.append(Hit(_("Invoice %(number)s") % {"number": invoice.number}, detail, url))
    return Group("invoices", _("Invoices"), hits)


def _discount_codes(request: HttpRequest, term: str) -> Group:
    hits = [
        Hit(
            code.code,
            _("active") if code.is_active else _("inactive"),
            reverse("web:discount_code", args=[code.code]),
        )
        for code in find_discount_codes(term=term, limit=PER_KIND)
    ]
    return Group("discount-codes", _("Discount codes"), hits)


def _creators(request: HttpRequest, term: str) -> Group:
    hits = [
        Hit(f"@{creator.handle}", creator.name, reverse("web:creator", args=[creator.pk]))
        for creator in find_creators(term=term, limit=PER_KIND)
    ]
    return Group("creators", _("Creators"), hits)


def _skus(request: HttpRequest, term: str) -> Group:
    # A SKU has no page of its own: it opens the orders of its offer.
    hits = [
        Hit(
            variant.sku,
            _("Orders of offer %(number)s · %(name)s")
            % {"number": variant.offer.number, "name": variant.name or variant.offer.name},
            f"{reverse('web:orders')}?{urlencode({'offer': variant.offer.number})}",
        )
        for variant in find_variants(term=term, limit=PER_KIND)
    ]
    return Group("skus", _("SKUs"), hits)


KINDS = (
    Kind("orders", ("orders.view_order",), gettext_lazy("orders"), _orders),
    Kind("customers", ("customers.view_customer",), gettext_lazy("customers"), _customers),
    Kind("invoices", ("payments.view_invoice",), gettext_lazy("invoices"), _invoices),
    Kind(
        "discount-codes",
        ("promotions.view_discountcode",),
        gettext_lazy("discount codes"),
        _discount_codes,
    ),
    Kind("creators", ("campaigns.view_creator",), gettext_lazy("creators"), _creators),
    Kind("skus", ("catalog.view_variant", "orders.view_order"), gettext_lazy("SKUs"), _skus),
)


@dataclass
class Results:
    term: str
    groups: list[Group] = field(default_factory=list)
    error: str = ""
    searched: list[str] = field(default_factory=list)  # the kinds' labels, for "nothing found"

    @property
    def found(self) -> bool:
        return any(group.hits for group in self.groups)


def search_all(request: HttpRequest, term: str) -> Results:
    """Every kind the user may see, each with its hits; kinds with none are left out."""
    term = term.strip()
    results = Results(term)
    if len(term) > MAX_TERM:
        results.error = _("q: at most %(count)s characters.") % {"count": MAX_TERM}
        return results
    kinds = [kind for kind in KINDS if request.user.has_perms(kind.perms)]
    results.searched = [str(kind.noun) for kind in kinds]
    if not term:
        return results
    for kind in kinds:
        group = kind.find(request, term)
        if group.hits:
            results.groups.append(group)
    return results


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """The header box's results as a fragment (htmx), or a page of their own (Enter)."""
    results = search_all(request, request.GET.get("q", ""))
    context = {"results": results}
    if request.htmx:
        return render(request, "web/_search_results.html", context)
    return render(request, "web/search.html", context, status=400 if results.error else 200)
