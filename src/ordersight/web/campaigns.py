"""Staff pages for creator campaigns: the campaigns home (total sales generated, the
all-sales download), a campaign's Performance tab and members, creators and their page,
and the approval actions (Reject, Undo)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ordersight.campaigns import selectors, services
from ordersight.campaigns.filters import CampaignFilterSet, CreatorFilterSet
from ordersight.campaigns.models import Approval, ConversionStatus
from ordersight.core.errors import Invalid
from ordersight.http.downloads import csv_response, list_csv
from ordersight.reports.params import PRESETS, day_range
from ordersight.web.access import actor_of, check_perm, keep_typed, require_perm, run_service
from ordersight.web.bulk import chosen_ids, refuse, run_bulk, tell
from ordersight.web.filter_panel import Options, filter_chips, panel_fields
from ordersight.web.lists import PRESETS as DATE_PRESETS
from ordersight.web.lists import (
    UI_PARAMS,
    export_response,
    list_context,
    list_page,
    period_fields,
)
from ordersight.web.rows import CONVERSION_ROW_FIELDS, commission_rows, conversion_rows

VIEW = "campaigns.view_conversion"
DIFFERENCE_NOTE = gettext_lazy(
    "Total sales generated counts every creator's sales, including creators removed from a "
    "campaign since. A campaign's Performance tab shows only its current members, so the "
    "sum of the campaigns can be lower than this total."
)


def _date(params: QueryDict, name: str) -> date | None:
    value = params.get(name)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise Invalid(_("Not a date."), fields={name: _("use YYYY-MM-DD")}) from None


def _range(params: QueryDict) -> tuple[date, date, str, dict[str, str]]:
    """The page's period (preset or from/to), or the default with the errors to show."""
    preset = params.get("range", "") if not params.get("from") else ""
    try:
        start, end = day_range(preset, _date(params, "from"), _date(params, "to"))
    except Invalid as exc:
        start, end = day_range(None, None, None)
        return start, end, "30d", exc.fields
    return start, end, preset, {}


# The sales card's period; the campaigns list below it keeps them, never filters by them.
PERIOD_PARAMS = ("range", "from", "to")


def _list_params(request: HttpRequest) -> QueryDict:
    """The campaigns list's parameters: the query string without the sales card's period."""
    params = request.GET.copy()
    for name in PERIOD_PARAMS:
        params.pop(name, None)
    return params


def _back(request: HttpRequest, default: str) -> str:
    back = request.POST.get("next") or default
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return default
    return back


@require_perm("campaigns.view_campaign")
def campaigns_home(request: HttpRequest) -> HttpResponse:
    start, end, preset, errors = _range(request.GET)
    can_see_sales = request.user.has_perm(VIEW)
    context = {
        "section": "campaigns",
        "start": start,
        "end": end,
        "period": period_fields(request.GET, start=start, end=end, preset=preset, errors=errors),
        "presets": PRESETS,
        "errors": errors,
        "generated": (
            selectors.sales_generated(query=selectors.ConversionQuery(start, end))
            if can_see_sales
            else []
        ),
        "can_see_sales": can_see_sales,
        "note": DIFFERENCE_NOTE,
        **list_context(
            request, selectors.CAMPAIGN_LIST, CampaignFilterSet, params=_list_params(request)
        ),
        "list_params": [
            (name, request.GET[name])
            for name in (*CampaignFilterSet.base_filters, "sort")
            if request.GET.get(name)
        ],
        "download_query": f"from={start.isoformat()}&to={end.isoformat()}",
    }
    return render(request, "campaigns/home.html", context)


@require_perm(VIEW)
def download_sales(request: HttpRequest) -> HttpResponse:
    """All sales of the period with a Campaign Name column (creators' sales, or the store's)."""
    scope = request.GET.get("scope") or "campaigns"
    if scope not in selectors.SCOPES:
        return HttpResponse("scope: campaigns or store", status=422, content_type="text/plain")
    if scope == "store":
        check_perm(request, "orders.view_order")
    start, end, _, errors = _range(request.GET)
    if errors:
        lines = [f"{name}: {message}" for name, message in sorted(errors.items())]
        return HttpResponse("\n".join(lines), status=422, content_type="text/plain")
    spec = selectors.SALES_DOWNLOADS[scope]
    filters = selectors.sales_in(start=start, end=end)
    return list_csv(request, spec, filters, None, filename=f"sales-{start}-{end}.csv")


@require_perm("campaigns.add_campaign")
@require_POST
def new_campaign(request: HttpRequest) -> HttpResponse:
    data = request.POST
    kind = data.get("commission_kind", "percent")
    currency = (data.get("fixed_currency") or "").strip().upper()
    campaign = run_service(
        request,
        lambda: services.create_campaign(
            name=data.get("name", ""),
            starts_on=_date(data, "starts_on"),
            ends_on=_date(data, "ends_on"),
            commission_kind=kind,
            commission_percent=data.get("commission_percent") or None,
            fixed_commissions={currency: data.get("fixed_amount", "")} if currency else None,
            actor=actor_of(request),
        ),
        failed=_("Campaign not created: {why}"),
    )
    if campaign is None:
        keep_typed(request, "new-campaign")
        return redirect("web:campaigns")
    messages.success(request, _("Campaign {name} created.").format(name=campaign.name))
    return redirect("web:campaign", campaign.pk)


def _performance_context(request: HttpRequest, campaign: Any) -> dict[str, Any]:
    members = selectors.member_commissions(campaign=campaign)
    filters = request.GET.copy()
    filters.pop("tab", None)
    filters["campaign"] = str(campaign.pk)
    # The Orders table's own filters as chips (the campaign is the page, not a filter).
    shown = request.GET.copy()
    shown.pop("tab", None)
    creators = [(m.handle, m.name) for m in members]
    panel = panel_fields(selectors.PERFORMANCE_LIST.filterset, shown, {"creator": creators})
    page = list_page(request, selectors.PERFORMANCE_LIST, filters, CONVERSION_ROW_FIELDS)
    return {
        "chips": filter_chips(shown, panel, DATE_PRESETS, UI_PARAMS),
        "page": page,
        "rows": conversion_rows(
            page.items, request, can_approve=request.user.has_perm("campaigns.approve_conversion")
        ),
        "totals": selectors.campaign_totals(campaign=campaign),
        "commission_rows": commission_rows(members),
        # The creator filter's <option>s, made once rather than by a loop of nodes per member.
        "creator_options": Options(creators).html(request.GET.get("creator")),
        "statuses": ConversionStatus.choices,
        "approvals": Approval.choices,
        "default_sort": "-ordered_at",
    }


@require_perm("campaigns.view_campaign")
def campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """A campaign: its Performance tab (totals, members' commission, the Orders table)."""
    found = selectors.get_campaign(campaign_id=campaign_id)
    context: dict[str, Any] = {"section": "campaigns", "campaign": found}
    if request.user.has_perm(VIEW):
        context.update(_performance_context(request, found))
    partial = request.GET.get("partial") if request.htmx else None
    if partial == "performance":
        return render(request, "campaigns/_performance.html", context)
    # The Creators tab is read when it is opened (or linked to), not with every view of
    # the Performance tab: its lists of removed members and of every creator cost a third
    # of the page.
    if partial == "members" or request.GET.get("tab") == "members":
        context["members"] = selectors.members(campaign=found)
        context["removed"] = selectors.members(campaign=found, current=False)
        context["creators"] = selectors.list_creators()
    if partial == "members":
        return render(request, "campaigns/_members.html", context)
    return render(request, "campaigns/campaign.html", context)


@require_perm(VIEW)
def export_campaign_orders(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The Export button: the ticked rows (`ids`), as CSV."""
    found = selectors.get_campaign(campaign_id=campaign_id)
    params = request.GET.copy()
    params["campaign"] = str(found.pk)
    return export_response(request, selectors.PERFORMANCE_LIST, params)


@require_perm("campaigns.change_campaign")
@require_POST
def campaign_members(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Add a creator with their codes, or (`remove`) take one out."""
    found = selectors.get_campaign(campaign_id=campaign_id)
    handle = request.POST.get("creator", "")
    back = reverse("web:campaign", args=[found.pk]) + "?tab=members"

    def codes(name: str) -> list[str]:
        return [c.strip() for c in request.POST.get(name, "").split(",") if c.strip()]

    def change() -> Any:
        creator = selectors.get_creator(handle=handle)
        if request.POST.get("remove"):
            return services.remove_member(campaign=found, creator=creator, actor=actor_of(request))
        return services.add_member(
            campaign=found,
            creator=creator,
            coupon_codes=codes("coupon_codes"),
            link_codes=codes("link_codes"),
            actor=actor_of(request),
        )

    if run_service(request, change, failed=f"@{handle}: {{why}}") is None:
        if not request.POST.get("remove"):
            keep_typed(request, "add-member")
    else:
        said = (
            _("@{handle} removed from {campaign}.")
            if request.POST.get("remove")
            else _("@{handle} is in {campaign}.")
        )
        messages.success(request, said.format(handle=handle.lstrip("@"), campaign=found.name))
    return redirect(back)


@require_perm(services.APPROVE)
@require_POST
def conversion_approval(request: HttpRequest, conversion_id: int, action: str) -> HttpResponse:
    """Reject a conversion, or Undo a rejection (the Conversion Approval column)."""
    conversion = selectors.get_conversion(conversion_id=conversion_id)
    back = _back(request, reverse("web:campaign", args=[conversion.campaign_id]))
    if action not in ("reject", "undo"):
        messages.error(request, _("Unknown action {action!r}.").format(action=action))
        return redirect(back)
    if action == "reject":
        reason = request.POST.get("reason", "")[:500]
        change = partial(services.reject_conversion, reason=reason)
    else:
        change = services.undo_rejection
    done = run_service(
        request,
        lambda: change(conversion=conversion, actor=actor_of(request)),
        failed=_("Order {number}: {why}").format(number=conversion.order.number, why="{why}"),
    )
    if done is not None:
        said = (
            _("The conversion of order {number} is rejected.")
            if action == "reject"
            else _("The conversion of order {number} is approved again.")
        )
        messages.success(request, said.format(number=conversion.order.number))
    return redirect(back)


# Bulk actions on a campaign's orders: (permission, words of the result).
BULK_ACTIONS = {
    "reject": (services.APPROVE, "rejected"),
    "undo": (services.APPROVE, "approved again"),
    "export": (VIEW, "exported"),
}


@require_perm(VIEW)
@require_POST
def bulk_conversions(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Reject or Undo the ticked conversions, or every one the filters match, each through
    the service of the row's own buttons; or export the ticked rows."""
    found = selectors.get_campaign(campaign_id=campaign_id)
    back = _back(request, reverse("web:campaign", args=[found.pk]))
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, _("Unknown bulk action {action!r}.").format(action=action))
        return redirect(back)
    perm, done_words = BULK_ACTIONS[action]
    check_perm(request, perm)
    fixed = {"campaign": str(found.pk)}
    try:
        ids = chosen_ids(request.POST, selectors.PERFORMANCE_LIST, fixed)
    except Invalid as exc:
        refuse(request, exc)
        return redirect(back)
    if action == "export":
        spec = selectors.PERFORMANCE_LIST
        rows = spec.export(fixed, request.POST.get("sort")).filter(pk__in=ids)
        return csv_response(request, rows, spec.headers, spec.filename)
    change = services.reject_conversion if action == "reject" else services.undo_rejection
    actor = actor_of(request)
    result = run_bulk(
        rows=selectors.PERFORMANCE_LIST.rows(fixed),
        ids=ids,
        act=lambda conversion: change(conversion=conversion, actor=actor),
        name=lambda conversion: f"Order {conversion.order.number}",
    )
    tell(request, result, ("conversion", "conversions"), done_words)
    return redirect(back)


@require_perm("campaigns.view_creator")
def creators(request: HttpRequest) -> HttpResponse:
    context = {
        "section": "campaigns",
        **list_context(request, selectors.CREATOR_LIST, CreatorFilterSet),
    }
    return render(request, "campaigns/creators.html", context)


@require_perm("campaigns.view_campaign")
def export_campaigns(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.CAMPAIGN_LIST)


@require_perm("campaigns.view_creator")
def export_creators(request: HttpRequest) -> HttpResponse:
    return export_response(request, selectors.CREATOR_LIST)


@require_perm("campaigns.add_creator")
@require_POST
def new_creator(request: HttpRequest) -> HttpResponse:
    data = request.POST
    creator = run_service(
        request,
        lambda: services.create_creator(
            name=data.get("name", ""),
            handle=data.get("handle", ""),
            email=data.get("email", ""),
            actor=actor_of(request),
        ),
        failed=_("Creator not added: {why}"),
    )
    if creator is None:
        keep_typed(request, "new-creator")
        return redirect("web:creators")
    messages.success(request, _("@{handle} added.").format(handle=creator.handle))
    return redirect("web:creator", creator.pk)


@require_perm("campaigns.view_creator")
def creator(request: HttpRequest, creator_id: int) -> HttpResponse:
    """A creator: commission per campaign and overall, and their conversions."""
    found = selectors.get_creator_by_id(creator_id=creator_id)
    context: dict[str, Any] = {
        "section": "campaigns",
        "creator": found,
        "totals": selectors.creator_totals(creator=found),
        "campaigns": selectors.creator_campaigns(creator=found),
    }
    if request.user.has_perm(VIEW):
        conversions = selectors.CONVERSION_LIST.rows({"creator": found.handle})
        context["conversions"] = conversions.order_by("-ordered_at", "-id")[:200]
    return render(request, "campaigns/creator.html", context)
