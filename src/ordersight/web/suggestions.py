"""Suggestions for the pickers of customers, offers and SKUs.

A form that listed the whole catalog or every customer in a select grew with the store: a
catalog of 60,000 SKUs put 60,000 options on every New order page, and the customer select
stopped at the first 500 names, so a later customer could not be chosen at all. The pickers
are inputs with a datalist that app.js fills from here as the person types: a few matches,
read through the search indexes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ordersight.catalog.models import Offer, Variant
from ordersight.catalog.selectors import (
    find_offers,
    find_variants,
    offer_numbered,
    variants_by_sku,
)
from ordersight.core.errors import NotFound
from ordersight.core.validation import ascii_int, is_id
from ordersight.customers.models import Customer
from ordersight.customers.selectors import find_customers, get_customer
from ordersight.web.filter_panel import Suggested
from ordersight.web.search import MAX_TERM
from ordersight.web.templatetags.web import money

LIMIT = 20

# (value, label): the value is what the form sends, the label what the person reads.
Option = tuple[str, str]


def customer_option(customer: Customer) -> Option:
    return str(customer.pk), f"{customer.name} · {customer.email}"


def offer_option(offer: Offer) -> Option:
    return str(offer.number), f"{offer.number} · {offer.name} ({offer.currency})"


def sku_option(variant: Variant) -> Option:
    return variant.sku, f"{variant.display_name} · {money(variant.price, variant.offer.currency)}"


def _customers(term: str) -> list[Option]:
    return [customer_option(c) for c in find_customers(term=term, limit=LIMIT)]


def _customer_chosen(value: str) -> list[Option]:
    customer_id = ascii_int(value.strip())
    if not is_id(customer_id):
        return []
    try:
        return [customer_option(get_customer(customer_id=customer_id))]
    except NotFound:
        return []


def _offers(term: str) -> list[Option]:
    return [offer_option(o) for o in find_offers(term=term, limit=LIMIT)]


def _offer_chosen(value: str) -> list[Option]:
    offer = offer_numbered(text=value)
    return [offer_option(offer)] if offer is not None else []


def _skus(term: str) -> list[Option]:
    return [sku_option(v) for v in find_variants(term=term, limit=LIMIT, for_sale=True)]


def _skus_chosen(value: str) -> list[Option]:
    return sku_options([value])


def sku_options(skus: list[str]) -> list[Option]:
    """The options of these SKUs (those that exist), in one query."""
    found = variants_by_sku(skus={sku for sku in skus if sku})
    return [sku_option(found[sku]) for sku in dict.fromkeys(skus) if sku in found]


@dataclass(frozen=True)
class Kind:
    # Any one of these lets a person see the suggestions: the pages that use them.
    perms: tuple[str, ...]
    find: Callable[[str], list[Option]]
    # The option of a value already in the form or the URL (none when it names nothing).
    chosen: Callable[[str], list[Option]]
    placeholder: str  # what the picker asks for


KINDS = {
    "customers": Kind(
        ("customers.view_customer", "orders.add_order"),
        _customers,
        _customer_chosen,
        gettext_lazy("Name or e-mail"),
    ),
    "offers": Kind(
        ("catalog.view_offer", "orders.view_order", "orders.add_salesplanentry"),
        _offers,
        _offer_chosen,
        gettext_lazy("Number or name"),
    ),
    "skus": Kind(
        ("catalog.view_variant", "orders.add_order"),
        _skus,
        _skus_chosen,
        gettext_lazy("SKU or offer name"),
    ),
}


def chosen(kind: str, value: str) -> list[Option]:
    """The option of `value` in a picker of `kind`, for its words beside it."""
    return KINDS[kind].chosen(value) if value.strip() else []


def suggested(kind: str, value: str) -> Suggested:
    """A filter panel's picker of `kind`, with the value the URL gives it."""
    return Suggested(
        reverse("web:suggestions", args=[kind]), chosen(kind, value), str(KINDS[kind].placeholder)
    )


@login_required
@require_GET
def suggestions(request: HttpRequest, kind: str) -> HttpResponse:
    """`{"options": [{"value", "label"}]}` for the text in `q`: at most twenty matches."""
    found = KINDS.get(kind)
    if found is None:
        return JsonResponse({"errors": {"kind": _("not a kind of suggestion")}}, status=404)
    if not any(request.user.has_perm(perm) for perm in found.perms):
        return JsonResponse({"errors": {"kind": _("not allowed")}}, status=403)
    term = request.GET.get("q", "")
    if len(term) > MAX_TERM:
        message = _("at most %(count)s characters") % {"count": MAX_TERM}
        return JsonResponse({"errors": {"q": message}}, status=400)
    options = found.find(term) if term.strip() else []
    return JsonResponse({"options": [{"value": v, "label": label} for v, label in options]})
