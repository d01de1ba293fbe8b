"""Reports API: the detailed sales report (JSON and CSV) and the dashboard's comparison.

Parameters are read by `reports.params` (the pages use the same reader): a `range` preset or
`from`/`to` (YYYY-MM-DD, `to` included), `currency`, `order_type`, `source`,
`include_unconfirmed`; the breakdown takes `group_by`, `sort` (any column, `-` for
descending), `limit`, `compare=true` for the previous period beside each row, and the CSV
`columns`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from ordersight.accounts.auth import can_read
from ordersight.core.money import CURRENCY_CODES
from ordersight.http.schemas import error_responses, one_of
from ordersight.orders import choices
from ordersight.orders.models import ChoiceKind
from ordersight.reports import params as report_params
from ordersight.reports import selectors
from ordersight.reports.definitions import GroupBy
from ordersight.reports.exports import (
    breakdown_csv,
    change_out,
    figures_out,
    row_out,
    totals_out,
)
from ordersight.reports.params import read_report_params

router = Router(tags=["reports"])
ERRORS = error_responses()
PERMISSION = "reports.view_sales_report"
DEFAULT_LIMIT = 1000


class FiguresOut(Schema):
    orders: int
    units: int
    gross: str
    refunds: str
    net: str
    fees: str | None = None
    funds_credited: str | None = None
    average: str | None = Field(None, description="net ÷ orders; null without orders")
    commission: str | None = Field(
        None, description="By campaign or creator: the approved conversions' commission"
    )
    discount: str | None = Field(None, description="By discount code: the discount given")


class ReportRowOut(FiguresOut):
    key: str = Field(..., description="The dimension's natural key (see the docs)")
    label: str
    currency: str
    confirmed: FiguresOut | None = None
    unconfirmed: FiguresOut | None = None
    previous: FiguresOut | None = None
    change: dict[str, str | None] | None = None


class ReportTotalOut(FiguresOut):
    currency: str
    previous: FiguresOut | None = None
    change: dict[str, str | None] | None = None


class FiguresLagOut(Schema):
    since: datetime = Field(..., description="When the oldest change not yet counted was made")
    seconds: int = Field(..., description="How long ago that was")
    waiting: int = Field(
        ...,
        description=f"Changes not yet counted; counted up to {selectors.LAG_COUNTED_UP_TO:,}, "
        "so that many means at least that many",
    )


_LAG = Field(
    None,
    description="How far the figures trail the orders (SALES_FIGURES=after-commit), when "
    "by 2 s or more; null when they are current",
)


class SalesReportOut(Schema):
    group_by: str
    from_: str = Field(..., alias="from")
    to: str
    rows: list[ReportRowOut]
    totals: list[ReportTotalOut]
    figures_lag: FiguresLagOut | None = _LAG


class PerformanceCurrencyOut(Schema):
    currency: str
    current: FiguresOut
    previous: FiguresOut
    change: dict[str, str | None]


class CustomerCountOut(Schema):
    current: int
    previous: int
    change: str | None


class PerformanceOut(Schema):
    from_: str = Field(..., alias="from")
    to: str
    previous_from: str
    previous_to: str
    currencies: list[PerformanceCurrencyOut]
    new_customers: CustomerCountOut
    returning_customers: CustomerCountOut
    figures_lag: FiguresLagOut | None = _LAG


_SORTS = tuple(report_params.SORTABLE) + tuple(f"-{name}" for name in report_params.SORTABLE)
_COLUMNS = "|".join(report_params.CSV_COLUMNS + report_params.EXTRA_COLUMNS)
_BUILT_IN = {kind: choices.BUILT_IN[kind].values for kind in ChoiceKind}
_DAY = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


_GROUP_BY = one_of(g.value for g in GroupBy)


class ReportQuery(Schema):
    """Documents the parameters as precisely as `reports.params` reads them; that reader
    (which the pages share) validates them and names a bad one. `from` and `to` come
    together, `to` on or after `from` and at most MAX_DAYS after it: rules between two
    parameters, which OpenAPI cannot state of query parameters, so their descriptions do."""

    group_by: _GROUP_BY | None = Field(None, description="Not used by the performance figures")
    range: (
        one_of(report_params.PRESETS, "today, 7d, 30d, 90d, this_month, last_month, this_year")
        | None
    ) = None
    from_: _DAY | None = Field(
        None, alias="from", description="YYYY-MM-DD, included; give `to` with it"
    )
    to: _DAY | None = Field(
        None,
        description=f"YYYY-MM-DD, included; on or after `from`, at most {report_params.MAX_DAYS} "
        "days from it",
    )
    currency: one_of(sorted(CURRENCY_CODES)) | None = None
    order_type: (
        one_of(
            _BUILT_IN[ChoiceKind.ORDER_TYPE], "a built-in order type or one of the account's own"
        )
        | None
    ) = None
    source: (
        one_of(_BUILT_IN[ChoiceKind.SOURCE], "a built-in source or one of the account's own") | None
    ) = None
    include_unconfirmed: bool | None = Field(
        None, description="sales manager rows: count unconfirmed attributions too"
    )
    kind: (
        one_of(
            ("recurring", "one_off"),
            "recurring (recurring orders' payments) or one_off (all others)",
        )
        | None
    ) = None
    sort: one_of(_SORTS, "a column, - for descending") | None = None
    limit: (
        Annotated[
            int,
            WithJsonSchema({"type": "integer", "minimum": 1, "maximum": report_params.MAX_LIMIT}),
        ]
        | None
    ) = Field(None, description="1 to 100000 rows; JSON answers default to 1000, the CSV has all")
    compare: bool | None = Field(None, description="the previous period beside each row")
    columns: (
        Annotated[
            str, WithJsonSchema({"type": "string", "pattern": f"^({_COLUMNS})(,({_COLUMNS}))*$"})
        ]
        | None
    ) = Field(None, description="CSV: comma-separated columns")


class BreakdownQuery(ReportQuery):
    group_by: _GROUP_BY = Field(..., description="What to break the sales down by")


def _breakdown(
    request: HttpRequest, *, csv: bool = False
) -> tuple[selectors.Breakdown, dict[str, Any]]:
    params = read_report_params(request.GET, need_group=True)
    breakdown = selectors.sales_breakdown(
        group_by=GroupBy(params["group_by"]),
        query=params["query"],
        sort=params["sort"] or None,
        limit=params["limit"] or (None if csv else DEFAULT_LIMIT),
        with_previous=params["compare"],
    )
    return breakdown, params


def _lag_out() -> dict[str, Any] | None:
    lag = selectors.figures_lag()
    return (
        None
        if lag is None
        else {"since": lag.since, "seconds": lag.seconds, "waiting": lag.waiting}
    )


@router.get(
    "/reports/sales",
    response={200: SalesReportOut, **ERRORS},
    auth=can_read(PERMISSION),
    by_alias=True,
)
def sales_report(request: HttpRequest, params: Query[BreakdownQuery]) -> dict[str, Any]:
    """Completed sales broken down by `group_by`: currency, payment_system, offer, category,
    sales_manager, source, order_type, customer, day or month; or campaign or creator (the
    creators' approved sales, with their `commission` beside the net; totals are theirs); or
    discount_code (sales that redeemed each code, with the `discount` given)."""
    breakdown, cleaned = _breakdown(request)
    query = breakdown.query
    return {
        "group_by": breakdown.group_by.value,
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "rows": [row_out(row, compare=cleaned["compare"]) for row in breakdown.rows],
        "totals": totals_out(breakdown.totals, breakdown.previous_totals),
        "figures_lag": _lag_out(),
    }


@router.get("/reports/sales.csv", response={200: None, **ERRORS}, auth=can_read(PERMISSION))
def sales_report_csv(request: HttpRequest, params: Query[BreakdownQuery]) -> StreamingHttpResponse:
    """The same report as CSV with the chosen `columns`; per-currency totals at the end."""
    breakdown, cleaned = _breakdown(request, csv=True)
    response = StreamingHttpResponse(
        breakdown_csv(breakdown, cleaned["columns"]), content_type="text/csv; charset=utf-8"
    )
    query = breakdown.query
    name = f"sales-by-{breakdown.group_by.value}-{query.start}-{query.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/reports/performance",
    response={200: PerformanceOut, **ERRORS},
    auth=can_read(PERMISSION),
    by_alias=True,
)
def performance(request: HttpRequest, params: Query[ReportQuery]) -> dict[str, Any]:
    """The dashboard's figures per currency for the period and the one of equal length
    before it, with the change in percent (null when the previous figure is zero)."""
    query = read_report_params(request.GET)["query"]
    result = selectors.sales_performance(query=query, series=False)

    def count(name: str) -> dict[str, Any]:
        now, before = result.customers[name]
        change = selectors.change_percent(current=now, previous=before)
        return {
            "current": now,
            "previous": before,
            "change": None if change is None else str(change),
        }

    return {
        "from": result.query.start.isoformat(),
        "to": result.query.end.isoformat(),
        "previous_from": result.previous_query.start.isoformat(),
        "previous_to": result.previous_query.end.isoformat(),
        "currencies": [
            {
                "currency": c.currency,
                "current": figures_out(c.current, c.currency),
                "previous": figures_out(c.previous, c.currency),
                "change": change_out(c.current, c.previous),
            }
            for c in result.by_currency
        ],
        "new_customers": count("new"),
        "returning_customers": count("returning"),
        "figures_lag": _lag_out(),
    }
