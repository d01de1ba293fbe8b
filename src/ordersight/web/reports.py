"""Staff pages for sales: the performance dashboard (home), the detailed report ("More
details") with its CSV, and the sales history. Every figure links to All Orders filtered to
the orders behind it."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ordersight.core.errors import Invalid
from ordersight.core.keyset import paginate
from ordersight.core.validation import ascii_int
from ordersight.orders import selectors as order_selectors
from ordersight.orders.choices import order_type_choices, source_choices
from ordersight.orders.models import Order, OrderType
from ordersight.reports import selectors
from ordersight.reports.definitions import APP_MEASURE, GroupBy
from ordersight.reports.exports import breakdown_csv
from ordersight.reports.params import (
    CSV_COLUMNS,
    DEFAULT_PRESET,
    EXTRA_COLUMNS,
    PRESETS,
    read_report_params,
)
from ordersight.web.access import require_perm
from ordersight.web.lists import PAGE_SIZE, period_fields

PERMISSION = "reports.view_sales_report"
GROUP_LABELS = {
    GroupBy.CURRENCY: gettext_lazy("Currency"),
    GroupBy.PAYMENT_SYSTEM: gettext_lazy("Payment system"),
    GroupBy.OFFER: gettext_lazy("Offer"),
    GroupBy.CATEGORY: gettext_lazy("Offer category"),
    GroupBy.SALES_MANAGER: gettext_lazy("Sales manager"),
    GroupBy.SOURCE: gettext_lazy("Source"),
    GroupBy.ORDER_TYPE: gettext_lazy("Order type"),
    GroupBy.CUSTOMER: gettext_lazy("Customer"),
    GroupBy.DAY: gettext_lazy("Day"),
    GroupBy.MONTH: gettext_lazy("Month"),
    GroupBy.CAMPAIGN: gettext_lazy("Campaign"),
    GroupBy.CREATOR: gettext_lazy("Creator"),
    GroupBy.DISCOUNT_CODE: gettext_lazy("Discount code"),
}
# Their rows open the campaign's or the creator's page (the orders are listed there).
CONVERSION_PAGES = {GroupBy.CAMPAIGN: "web:campaign", GroupBy.CREATOR: "web:creator"}
MEASURE_LABELS = {
    "commission": gettext_lazy("Commission"),
    "discount": gettext_lazy("Discount given"),
}
COLUMN_LABELS = {
    "orders": gettext_lazy("Orders"),
    "units": gettext_lazy("Units"),
    "gross": gettext_lazy("Gross"),
    "refunds": gettext_lazy("Refunds"),
    "net": gettext_lazy("Net"),
    "fees": gettext_lazy("Fees"),
    "funds_credited": gettext_lazy("Funds credited"),
    "average": gettext_lazy("Average"),
}
# Parameters of the page itself (live refresh, paging), not of the report.
PAGE_PARAMS = ("partial", "cursor")
RANGE_PARAMS = frozenset({"range", "from", "to"})
FILTER_PARAMS = ("range", "from", "to", "currency", "order_type", "source", "include_unconfirmed")


def orders_url(params: dict[str, str] | None, path: str | None = None) -> str | None:
    """All Orders filtered by `params` (`path`: All Orders' own, when already reversed)."""
    if params is None:
        return None
    return (path or reverse("web:orders")) + "?" + urlencode(params, quote_via=_quoted)


@functools.lru_cache(maxsize=2048)
def _quoted(
    text: str, safe: str = "", encoding: str | None = None, errors: str | None = None
) -> str:
    # A dashboard links each point of its chart to its orders (almost two hundred links),
    # all made of the same few names and values: each is quoted once.
    return quote_plus(text, safe, encoding, errors)


def _filters_only(params: QueryDict) -> QueryDict:
    kept = QueryDict(mutable=True)
    for name in FILTER_PARAMS:
        if params.get(name):
            kept[name] = params[name]
    return kept


def _read(request: HttpRequest, *, need_group: bool = False) -> tuple[dict[str, Any], dict]:
    """The cleaned parameters, or the defaults with the errors to show beside the form."""
    params = request.GET.copy()
    for name in PAGE_PARAMS:
        params.pop(name, None)
    try:
        return read_report_params(params, need_group=need_group), {}
    except Invalid as exc:
        errors = exc.fields
    # The figures then show what the other parameters ask for, over the default range when
    # the range was refused; the form keeps what was typed (see `period_fields`).
    kept = params.copy()
    for name in errors:
        kept.pop(name, None)
    if errors.keys() & RANGE_PARAMS:
        for name in RANGE_PARAMS:
            kept.pop(name, None)
    try:
        return read_report_params(kept, need_group=False), errors
    except Invalid:
        return read_report_params(QueryDict(), need_group=False), errors


def _form_context(request: HttpRequest, params: dict[str, Any], errors: dict) -> dict[str, Any]:
    query = params["query"]
    preset = request.GET.get("range", "")
    if (not request.GET.get("from") and not preset) or (preset and preset not in PRESETS):
        preset = DEFAULT_PRESET  # what applies when none, or an unknown one, is asked for
    return {
        "query": query,
        "previous": query.previous(),
        "presets": PRESETS,
        "period": period_fields(
            request.GET, start=query.start, end=query.end, preset=preset, errors=errors
        ),
        "order_types": order_type_choices(),
        "sources": source_choices(),
        "currencies": sorted(
            {*order_selectors.order_currencies(), *([query.currency] if query.currency else [])}
        ),
        "errors": errors,
        "filters_query": _filters_only(request.GET).urlencode(),
        # The breakdown's own choices survive a change of range or filters.
        "keep": [
            (name, request.GET[name])
            for name in ("group_by", "sort", "compare", "include_unconfirmed")
            if request.GET.get(name)
        ],
        "time_zone": settings.TIME_ZONE,
    }


@dataclass
class Card:
    label: str
    current: Any
    previous: Any
    change: Any
    url: str | None
    previous_url: str | None
    money: bool
    # Whether a rise is good news; every card says so, as it sets the colour of its change.
    rise_is_good: bool


def _cards(result: selectors.Performance) -> list[tuple[str, list[Card]]]:
    query = result.query
    by_creators = selectors.creator_sales(query=query)
    by_creators_before = selectors.creator_sales(query=result.previous_query)
    creators_url = reverse("web:campaigns") + f"?from={query.start}&to={query.end}"
    creators_before = (
        reverse("web:campaigns")
        + f"?from={result.previous_query.start}&to={result.previous_query.end}"
    )
    out = []
    for c in result.by_currency:
        url = orders_url(selectors.orders_filter(query=query, currency=c.currency))
        before = orders_url(
            selectors.orders_filter(query=result.previous_query, currency=c.currency)
        )
        cards = []
        for label, name, money, rise_is_good in (
            (_("Sales"), "orders", False, True),
            (_("Revenue (net)"), "net", True, True),
            (_("Average order value"), "average", True, True),
            (_("Refunds"), "refunds", True, False),
            (_("Units"), "units", False, True),
        ):
            now, then = c.current.value(name), c.previous.value(name)
            change = selectors.change_percent(current=now, previous=then)
            cards.append(Card(label, now, then, change, url, before, money, rise_is_good))
        now = by_creators.get(c.currency, Decimal(0))
        then = by_creators_before.get(c.currency, Decimal(0))
        change = selectors.change_percent(current=now, previous=then)
        cards.append(
            Card(
                _("Sales by creators (net)"),
                now,
                then,
                change,
                creators_url,
                creators_before,
                money=True,
                rise_is_good=True,
            )
        )
        out.append((c.currency, cards))
    return out


def _chart(result: selectors.Performance) -> dict[str, Any]:
    """The revenue chart as Plotly JSON: one line per currency, the previous period dotted
    on the same days, each point carrying the link to its orders.

    Written as the JSON Plotly's figure objects produce (with their default template):
    building those objects validated every value and cost more than the rest of the page.
    """
    query, previous = result.query, result.previous_query
    path = reverse("web:orders")
    traces: list[dict[str, Any]] = []
    now, before = result.series, result.previous_series
    offset = timedelta(days=query.days)
    for currency in sorted(set(now) | set(before)):
        points = now.get(currency, [])
        traces.append(
            {
                "customdata": [
                    orders_url(
                        selectors.orders_filter(
                            query=query, currency=currency, start=p.start, end=p.end
                        ),
                        path,
                    )
                    for p in points
                ],
                "hovertemplate": "%{x}: %{y:,.2f} " + currency + "<extra></extra>",
                "mode": "lines+markers",
                "name": f"{currency}",
                "x": [p.start.isoformat() for p in points],
                "y": [float(p.net) for p in points],
                "type": "scatter",
            }
        )
        earlier = before.get(currency, [])
        if earlier:
            traces.append(
                {
                    "customdata": [
                        orders_url(
                            selectors.orders_filter(
                                query=previous, currency=currency, start=p.start, end=p.end
                            ),
                            path,
                        )
                        for p in earlier
                    ],
                    "hovertemplate": "%{text}: %{y:,.2f} " + currency + "<extra></extra>",
                    "line": {"dash": "dot"},
                    "mode": "lines",
                    "name": _("{currency}, previous period").format(currency=currency),
                    "text": [p.start.isoformat() for p in earlier],
                    "x": [(p.start + offset).isoformat() for p in earlier],
                    "y": [float(p.net) for p in earlier],
                    "type": "scatter",
                }
            )
    title = _("Net revenue per day") if query.days <= 90 else _("Net revenue per week")
    # The axis spans the whole period, half a day beyond each end: left to itself Plotly
    # zooms a one-day range down to milliseconds. Short ranges get one tick per day.
    half_day = timedelta(hours=12)
    xaxis: dict[str, Any] = {
        "type": "date",
        "range": [
            (datetime.combine(query.start, time()) - half_day).isoformat(),
            (datetime.combine(query.end, time()) + half_day).isoformat(),
        ],
    }
    if query.days <= 14:
        xaxis.update(dtick=timedelta(days=1).total_seconds() * 1000, tickformat="%-d %b")
    return {
        "data": traces,
        "layout": {
            "template": _plotly_template(),
            "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
            "title": {"text": title, "font": {"size": 14}},
            "legend": {"orientation": "h", "y": -0.2},
            "xaxis": xaxis,
            "height": 320,
            "hovermode": "x unified",
        },
    }


@functools.cache
def _plotly_template() -> dict[str, Any]:
    """Plotly's default template, as every figure it builds carries it (read once)."""
    import plotly.graph_objects as go

    return json.loads(go.Figure().to_json())["layout"]["template"]


@require_perm(PERMISSION)
def sales_performance(request: HttpRequest) -> HttpResponse:
    params, errors = _read(request)
    result = selectors.sales_performance(query=params["query"])
    query = result.query
    customers = {
        name: {
            "current": now,
            "previous": then,
            "change": selectors.change_percent(current=now, previous=then),
            "url": orders_url(selectors.first_sale_filter(query=query, new=name == "new")),
        }
        for name, (now, then) in result.customers.items()
    }
    context = {
        "section": "sales",
        **_form_context(request, params, errors),
        "cards": _cards(result),
        "customers": customers,
        "chart": _chart(result),
        "lag": selectors.figures_lag(),
    }
    if request.htmx and request.GET.get("partial") == "figures":
        return render(request, "reports/_performance_figures.html", context)
    return render(request, "reports/performance.html", context)


def _row_url(
    breakdown: selectors.Breakdown, row: selectors.BreakdownRow, page: str | None
) -> str | None:
    """Where a row's orders are: All Orders filtered, or the campaign's, creator's or
    discount code's own page."""
    if page and ascii_int(row.ref) is not None:
        return reverse(page, args=[row.ref])
    if breakdown.group_by == GroupBy.DISCOUNT_CODE:
        return reverse("web:redemptions") + "?" + urlencode({"code": row.key})
    return orders_url(selectors.row_filter(breakdown=breakdown, row=row))


def _breakdown_context(request: HttpRequest) -> dict[str, Any]:
    params, errors = _read(request)
    group_by = GroupBy(params.get("group_by") or GroupBy.CURRENCY)
    breakdown = selectors.sales_breakdown(
        group_by=group_by,
        query=params["query"],
        sort=params["sort"] or None,
        limit=params["limit"] or 1000,
        with_previous=params["compare"],
    )
    split = group_by == GroupBy.SALES_MANAGER and params["query"].include_unconfirmed
    page = CONVERSION_PAGES.get(group_by)
    measure = APP_MEASURE.get(group_by)
    rows = [
        {
            "row": row,
            "url": _row_url(breakdown, row, page),
            "measure": getattr(row.figures, measure) if measure else None,
            "confirmed_url": split
            and orders_url(selectors.row_filter(breakdown=breakdown, row=row, confirmed=True)),
            "unconfirmed_url": split
            and orders_url(selectors.row_filter(breakdown=breakdown, row=row, confirmed=False)),
            "change": selectors.change_percent(
                current=row.figures.net, previous=row.previous.net if row.previous else None
            ),
        }
        for row in breakdown.rows
    ]
    totals = [
        {
            "currency": currency,
            "figures": figures,
            "url": (
                reverse("web:campaigns")
                if page
                else None
                if measure
                else orders_url(selectors.orders_filter(query=params["query"], currency=currency))
            ),
            "measure": getattr(figures, measure) if measure else None,
            "previous": (breakdown.previous_totals or {}).get(currency),
        }
        for currency, figures in breakdown.totals.items()
    ]
    return {
        "section": "sales",
        **_form_context(request, params, errors),
        "group_by": group_by,
        "groups": GROUP_LABELS.items(),
        "group_label": GROUP_LABELS[group_by],
        "columns": COLUMN_LABELS.items(),
        "measure": measure,
        "measure_label": MEASURE_LABELS.get(measure or "", ""),
        "csv_columns": [*CSV_COLUMNS, *EXTRA_COLUMNS],
        "default_sort": "key" if group_by in selectors.KEY_ORDERED else "-net",
        "compare": params["compare"],
        "split": split,
        "rows": rows,
        "totals": totals,
        "truncated": len(breakdown.rows) >= (params["limit"] or 1000),
        "lag": selectors.figures_lag(),
    }


@require_perm(PERMISSION)
def sales_report(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/detailed.html", _breakdown_context(request))


@require_perm(PERMISSION)
def export_sales_report(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    # The page's checkboxes send one `columns` per ticked box; the reader takes a list.
    if len(params.getlist("columns")) > 1:
        params["columns"] = ",".join(params.getlist("columns"))
    try:
        cleaned = read_report_params(params, need_group=True)
    except Invalid as exc:
        lines = [f"{name}: {message}" for name, message in sorted(exc.fields.items())]
        return HttpResponse(
            "\n".join([_("Invalid report parameters."), *lines]),
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    breakdown = selectors.sales_breakdown(
        group_by=GroupBy(cleaned["group_by"]),
        query=cleaned["query"],
        sort=cleaned["sort"] or None,
        limit=cleaned["limit"],
        with_previous=True,
    )
    response = StreamingHttpResponse(
        breakdown_csv(breakdown, cleaned["columns"]), content_type="text/csv; charset=utf-8"
    )
    query = breakdown.query
    name = f"sales-by-{breakdown.group_by.value}-{query.start}-{query.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def quote_url(order: Order) -> str | None:
    """Where the customer sees a quote on the storefront (STOREFRONT_QUOTE_URL pattern)."""
    pattern = settings.STOREFRONT_QUOTE_URL
    if not pattern or order.order_type != OrderType.QUOTE:
        return None
    if "{external_id}" in pattern and not order.external_id:
        return None
    return pattern.format(external_id=order.external_id or "", number=order.number)


@require_perm("orders.view_order")
def sales_history(request: HttpRequest) -> HttpResponse:
    """Every completed order with its type and source, newest first."""
    params, errors = _read(request)
    query = params["query"]
    filters = selectors.orders_filter(query=query) or {}
    spec = order_selectors.ORDER_LIST
    queryset, ordering = spec.sort(spec.rows(filters), request.GET.get("sort"))
    page = paginate(
        queryset, ordering=ordering, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
    )
    context = {
        "section": "sales",
        **_form_context(request, params, errors),
        "orders": [(order, quote_url(order)) for order in page.items],
        "next_cursor": page.next_cursor,
        "all_orders_url": orders_url(filters),
    }
    return render(request, "reports/history.html", context)
