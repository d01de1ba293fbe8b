"""Staff pages for promotions: discount codes (list, editor with a rule builder, a validate
panel), the redemption history, segments (list, editor with a live member count, members),
and redeeming a code on an order."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ordersight.core.errors import Invalid
from ordersight.core.validation import ascii_int
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.selectors import get_order
from ordersight.promotions import selectors, services
from ordersight.promotions.filters import (
    DiscountCodeFilterSet,
    RedemptionFilterSet,
    SegmentFilterSet,
)
from ordersight.promotions.models import DiscountCode, DiscountKind, DiscountTarget
from ordersight.promotions.wording import (
    describe_code_rules,
    describe_segment_rules,
    vocabulary,
)
from ordersight.web.access import actor_of, check_perm, keep_typed, require_perm, run_service
from ordersight.web.bulk import chosen_ids, refuse, run_bulk, tell
from ordersight.web.display import money_text
from ordersight.web.lists import export_response, list_context, list_page


def _json(text: str, field: str) -> Any:
    if not (text or "").strip():
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Invalid(
            _("Not JSON."), fields={field: _("not valid JSON ({error})").format(error=exc.msg)}
        ) from None


def _amounts(data: QueryDict) -> dict[str, str]:
    """The editor's amount rows, one per currency; a row whose amount is cleared drops its
    currency, a blank row (the one for adding a currency) is skipped."""
    amounts: dict[str, str] = {}
    rows = zip(data.getlist("amount"), data.getlist("currency"), strict=False)
    for index, (raw_amount, raw_currency) in enumerate(rows):
        amount, currency = raw_amount.strip(), raw_currency.strip().upper()
        if not amount:
            continue
        if not currency:
            raise Invalid(
                _("Name the currency."), fields={f"amounts[{index}]": _("name its currency")}
            )
        if currency in amounts:
            raise Invalid(
                _("{currency} is given twice.").format(currency=currency),
                fields={f"amounts.{currency}": _("given twice")},
            )
        amounts[currency] = amount
    return amounts


def _time(data: QueryDict, name: str, current: datetime | None) -> datetime | None:
    """A datetime-local field, read in the time zone it was shown in. The field shows whole
    seconds: sent back unchanged, it keeps the stored time to the microsecond."""
    value = (data.get(name) or "").strip()
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise Invalid(_("Not a time."), fields={name: _("use YYYY-MM-DDTHH:MM")})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if current is not None and parsed == current.replace(microsecond=0):
        return current
    return parsed


def _code_settings(data: QueryDict, current: DiscountCode | None = None) -> dict[str, Any]:
    """The editor's fields as the service takes them (empty fields mean "none"). Every
    field the editor shows is read back, so saving a code as shown changes nothing."""
    kind = data.get("kind", DiscountKind.PERCENT)
    settings: dict[str, Any] = {
        "kind": kind,
        "target": data.get("target", DiscountTarget.ORDER),
        "target_skus": [s.strip() for s in data.get("target_skus", "").split(",") if s.strip()],
        "target_categories": [
            number
            for c in data.get("target_categories", "").split(",")
            if (number := ascii_int(c.strip())) is not None
        ],
        "is_active": data.get("is_active") == "on",
        "rules": _json(data.get("rules", ""), "rules"),
    }
    if kind == DiscountKind.PERCENT:
        settings["percent"] = data.get("percent") or None
    else:
        settings["amounts"] = _amounts(data)
    for name in ("usage_limit", "per_customer_limit"):
        value = (data.get(name) or "").strip()
        number = ascii_int(value) if value else None
        if value and number is None:
            raise Invalid(_("Not a whole number."), fields={name: _("a whole number, or empty")})
        settings[name] = number
    for name in ("starts_at", "ends_at"):
        settings[name] = _time(data, name, getattr(current, name) if current else None)
    return settings


def _editor_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "section": "promotions",
        "kinds": DiscountKind.choices,
        "targets": DiscountTarget.choices,
        "rule_vocabulary": vocabulary(),
        "rule_segments": [[s.pk, s.name] for s in selectors.list_segments()],
    }


@require_perm("promotions.view_discountcode")
def discount_codes(request: HttpRequest) -> HttpResponse:
    context = {
        **_editor_context(request),
        "tab": "codes",
        **list_context(request, selectors.CODE_LIST, DiscountCodeFilterSet),
    }
    return render(request, "promotions/codes.html", context)


@require_perm("promotions.view_discountcode")
def export_discount_codes(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.CODE_LIST)


@require_perm("promotions.view_discountcode")
@require_POST
def bulk_discount_codes(request: HttpRequest) -> HttpResponse:
    """Activate or deactivate the ticked codes, or every code the filters match, each
    through the editor's own service."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:discount_codes")
    action = request.POST.get("action", "")
    if action not in ("activate", "deactivate"):
        messages.error(request, _("Unknown bulk action {action!r}.").format(action=action))
        return redirect(back)
    check_perm(request, "promotions.change_discountcode")
    try:
        ids = chosen_ids(request.POST, selectors.CODE_LIST)
    except Invalid as exc:
        refuse(request, exc)
        return redirect(back)
    actor = actor_of(request)
    active = action == "activate"
    result = run_bulk(
        rows=DiscountCode.objects.all(),
        ids=ids,
        act=lambda code: services.update_discount_code(
            code=code, changes={"is_active": active}, actor=actor
        ),
        name=lambda code: f"Code {code.code}",
    )
    tell(request, result, ("code", "codes"), "activated" if active else "deactivated")
    return redirect(back)


@require_perm("promotions.add_discountcode")
@require_POST
def new_discount_code(request: HttpRequest) -> HttpResponse:
    def create() -> Any:
        settings = _code_settings(request.POST)
        return services.create_discount_code(
            code=request.POST.get("code", ""), actor=actor_of(request), **settings
        )

    found = run_service(request, create, failed=_("Code not created: {why}"))
    if found is None:
        keep_typed(request, "new-code")
        return redirect("web:discount_codes")
    messages.success(request, _("Discount code {code} created.").format(code=found.code))
    return redirect("web:discount_code", found.code)


def _cart_from_form(data: QueryDict) -> OrderInput:
    """The validate panel's order: "SKU x quantity" lines, a customer id, metadata JSON."""
    lines = []
    for part in data.get("lines", "").split(","):
        sku, _, quantity = part.strip().partition("x")
        if sku.strip():
            count = quantity.strip()
            lines.append(LineInput(sku=sku.strip(), quantity=ascii_int(count) or 1))
    customer = (data.get("customer_id") or "").strip()
    return OrderInput(
        lines=lines,
        customer_id=ascii_int(customer),
        metadata=_json(data.get("metadata", ""), "metadata"),
    )


@require_perm("promotions.view_discountcode")
def discount_code(request: HttpRequest, code: str) -> HttpResponse:
    """A code: its settings (editable by permission), a validate panel, its redemptions."""
    found = selectors.get_code(code=code)
    context = {
        **_editor_context(request),
        "code": found,
        "rules_text": json.dumps(found.rules, indent=2) if found.rules else "",
        "rules_sentence": describe_code_rules(
            found.rules, {s.pk: s.name for s in selectors.list_segments()}
        ),
        "redemptions": selectors.REDEMPTION_LIST.rows({"code": found.code}).order_by(
            "-redeemed_at", "-id"
        )[:50],
    }
    if request.GET.get("lines"):
        try:
            cart = services.cart_of_input(data=_cart_from_form(request.GET))
            result = services.validate_code(code=found, cart=cart)
            context["validation"] = result
            context["cart_total"] = cart.total
            context["total_after"] = cart.total - result.discount
        except Invalid as exc:
            context["validation_errors"] = exc.fields
    return render(request, "promotions/code.html", context)


@require_perm("promotions.change_discountcode")
@require_POST
def edit_discount_code(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.get_code(code=code)
    changed = run_service(
        request,
        lambda: services.update_discount_code(
            code=found, changes=_code_settings(request.POST, found), actor=actor_of(request)
        ),
        failed=_("{code} not changed: {why}").format(code=found.code, why="{why}"),
    )
    if changed is not None:
        messages.success(request, _("Discount code {code} saved.").format(code=found.code))
    return redirect("web:discount_code", found.code)


@require_perm("promotions.view_redemption")
def redemptions(request: HttpRequest) -> HttpResponse:
    context = {
        "section": "promotions",
        "tab": "redemptions",
        **list_context(request, selectors.REDEMPTION_LIST, RedemptionFilterSet),
    }
    return render(request, "promotions/redemptions.html", context)


@require_perm("promotions.view_redemption")
def export_redemptions(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.REDEMPTION_LIST)


@require_perm("promotions.add_redemption")
@require_POST
def redeem_on_order(request: HttpRequest, number: int) -> HttpResponse:
    order = get_order(number=number)
    done = run_service(
        request,
        lambda: services.redeem_code(
            order=order, code=request.POST.get("code", ""), actor=actor_of(request)
        ),
        failed=_("Discount not applied: {why}"),
    )
    if done is None:
        keep_typed(request, "redeem")
    else:
        messages.success(
            request,
            _("{code} took {amount} off the order.").format(
                code=done.code.code, amount=money_text(done.amount, done.currency)
            ),
        )
    return redirect("web:order", number)


# --- Segments ------------------------------------------------------------------------------


def _of_segment(request: HttpRequest, segment: Any) -> QueryDict:
    """The member list's parameters: the page's sort and cursor, for this segment only
    (whatever the query string says of it)."""
    params = request.GET.copy()
    params["segment"] = str(segment.pk)
    return params


def _segment_context() -> dict[str, Any]:
    return {"section": "promotions", "rule_vocabulary": vocabulary()}


@require_perm("promotions.view_segment")
def segments(request: HttpRequest) -> HttpResponse:
    listed = list_context(request, selectors.SEGMENT_LIST, SegmentFilterSet)
    rows = [
        (s, selectors.member_count(rules=s.rules), describe_segment_rules(s.rules))
        for s in listed["page"].items
    ]
    context = {**_segment_context(), **listed, "tab": "segments", "rows": rows}
    return render(request, "promotions/segments.html", context)


@require_perm("promotions.view_segment")
def export_segments(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.SEGMENT_LIST)


@require_perm("promotions.view_segment")
@require_POST
def count_segment(request: HttpRequest) -> HttpResponse:
    """The editor's live member count for the rules as they stand (a fragment)."""
    try:
        rules = _json(request.POST.get("rules", ""), "rules")
        count = selectors.member_count(rules=rules) if rules is not None else None
        return render(request, "promotions/_count.html", {"count": count})
    except Invalid as exc:
        return render(request, "promotions/_count.html", {"errors": exc.fields})


@require_perm("promotions.add_segment")
@require_POST
def new_segment(request: HttpRequest) -> HttpResponse:
    found = run_service(
        request,
        lambda: services.create_segment(
            name=request.POST.get("name", ""),
            rules=_json(request.POST.get("rules", ""), "rules"),
            actor=actor_of(request),
        ),
        failed=_("Segment not created: {why}"),
    )
    if found is None:
        keep_typed(request, "new-segment")
        return redirect("web:segments")
    messages.success(request, _("Segment {name} created.").format(name=found.name))
    return redirect("web:segment", found.pk)


@require_perm("promotions.view_segment")
def segment(request: HttpRequest, segment_id: int) -> HttpResponse:
    found = selectors.get_segment(segment_id=segment_id)
    page = list_page(request, selectors.MEMBER_LIST, _of_segment(request, found))
    context = {
        **_segment_context(),
        "segment": found,
        "rules_text": json.dumps(found.rules, indent=2),
        "rules_sentence": describe_segment_rules(found.rules),
        "count": selectors.member_count(rules=found.rules),
        "page": page,
    }
    return render(request, "promotions/segment.html", context)


@require_perm("promotions.change_segment")
@require_POST
def edit_segment(request: HttpRequest, segment_id: int) -> HttpResponse:
    found = selectors.get_segment(segment_id=segment_id)
    changed = run_service(
        request,
        lambda: services.update_segment(
            segment=found,
            changes={
                "name": request.POST.get("name", found.name),
                "rules": _json(request.POST.get("rules", ""), "rules"),
            },
            actor=actor_of(request),
        ),
        failed=_("Segment not saved: {why}"),
    )
    if changed is not None:
        messages.success(request, _("Segment {name} saved.").format(name=found.name))
    return redirect(reverse("web:segment", args=[found.pk]))


@require_perm("promotions.view_segment")
def export_segment(request: HttpRequest, segment_id: int) -> HttpResponse:
    found = selectors.get_segment(segment_id=segment_id)
    return export_response(
        request,
        selectors.MEMBER_LIST,
        _of_segment(request, found),
        filename=f"segment-{found.pk}-members.csv",
    )
