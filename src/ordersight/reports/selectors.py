"""Reading the sales figures: breakdowns, the dashboard's periods, and where each figure
comes from (the All Orders filter that lists exactly its orders).

Everything reads the rollups (`models.SalesRollup`); a range is covered by month rows for
its whole months and day rows for the days at either end, so a year is a few thousand rows
whatever the number of orders.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Now
from django.utils.formats import number_format
from django.utils.timesince import timesince

from ordersight.campaigns import selectors as campaigns
from ordersight.catalog.models import Category, Offer
from ordersight.core.validation import ascii_int
from ordersight.core.zones import day_bounds
from ordersight.customers.models import Customer, CustomerExternalId
from ordersight.orders.choices import order_type_choices, source_choices
from ordersight.payments.models import PaymentSystem
from ordersight.promotions import selectors as promotions
from ordersight.reports.definitions import (
    APP_MEASURE,
    CONVERSION_GROUPS,
    COUNTED_STATUS,
    DIMENSION_OF,
    NONE_KEY,
    SYSTEM_KEY,
    Dimension,
    GroupBy,
)
from ordersight.reports.models import ANY, Grain, QueuedRecount, ReportedOrder, SalesRollup

RECURRING, ONE_OFF = "recurring", "one_off"
KINDS = (RECURRING, ONE_OFF)
ONE_DAY = timedelta(days=1)
APP_MEASURES = ("commission", "discount")
SUMMED = ("orders", "units", "gross", "refunds", "fees", "funds_credited", "new_customers")
COLUMNS = ("orders", "units", "gross", "refunds", "net", "fees", "funds_credited", "average")
# Breakdowns whose rows run along time or a short list sort by their key unless asked.
KEY_ORDERED = {GroupBy.CURRENCY, GroupBy.DAY, GroupBy.MONTH, GroupBy.SOURCE, GroupBy.ORDER_TYPE}


@dataclass(frozen=True)
class SalesQuery:
    """Which sales: placed from `start` to `end` (both included), optionally narrowed."""

    start: date
    end: date
    currency: str | None = None
    order_type: str | None = None
    source: str | None = None
    include_unconfirmed: bool = False
    # "recurring" (child orders of recurring orders) or "one_off" (every other order).
    kind: str | None = None

    @property
    def narrowed(self) -> bool:
        """Asks about some sales only (not summed over every source and type)."""
        return bool(self.currency or self.source or self.order_type or self.kind)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> SalesQuery:
        """The period of equal length just before this one."""
        end = self.start - timedelta(days=1)
        return replace(self, start=end - timedelta(days=self.days - 1), end=end)


@dataclass
class Figures:
    orders: int = 0
    units: int = 0
    gross: Decimal = Decimal(0)
    refunds: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funds_credited: Decimal = Decimal(0)
    new_customers: int = 0
    # What a breakdown read from an app adds (None elsewhere): creators' commission by
    # campaign or creator, the discount given by discount code.
    commission: Decimal | None = None
    discount: Decimal | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Figures:
        figures = cls(**{name: row.get(name) or 0 for name in SUMMED})
        for name in APP_MEASURES:
            if name in row:
                setattr(figures, name, row[name] or Decimal(0))
        return figures

    def add(self, other: Figures) -> None:
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in APP_MEASURES:
            if getattr(other, name) is not None:
                setattr(self, name, (getattr(self, name) or Decimal(0)) + getattr(other, name))

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunds

    @property
    def average(self) -> Decimal | None:
        return self.net / self.orders if self.orders else None

    def value(self, column: str) -> Any:
        return getattr(self, column)


@dataclass
class BreakdownRow:
    key: str
    label: str
    currency: str
    figures: Figures
    # Sales manager rows with unconfirmed attributions included: the two parts.
    confirmed: Figures | None = None
    unconfirmed: Figures | None = None
    previous: Figures | None = None
    # The raw key the rollups use (an id), for links.
    ref: str = ""


@dataclass
class Breakdown:
    group_by: GroupBy
    query: SalesQuery
    rows: list[BreakdownRow]
    totals: dict[str, Figures] = field(default_factory=dict)
    previous_totals: dict[str, Figures] | None = None


# Figures this close behind the orders count as current: the queue of changes is rarely empty
# on a busy store, and its oldest change is normally taken in within a second.
LAG_SHOWN_FROM_SECONDS = 2
# The waiting changes are counted up to this many (a count of a long queue is not free).
LAG_COUNTED_UP_TO = 100_000


@dataclass(frozen=True)
class FiguresLag:
    """How far the sales figures trail the orders (SALES_FIGURES = "after-commit")."""

    since: datetime  # when the oldest change not yet counted was queued
    seconds: int  # how long ago that was
    waiting: int  # changes not yet counted, up to LAG_COUNTED_UP_TO

    @property
    def behind(self) -> str:
        """How long that is, as a person reads it ("3 minutes"); from `seconds`, on the
        database's clock."""
        return timesince(self.since, now=self.since + timedelta(seconds=self.seconds))

    @property
    def waiting_shown(self) -> str:
        """The count as a person reads it: grouped, and "+" when the count stopped short."""
        shown = number_format(self.waiting, force_grouping=True)
        return f"{shown}+" if self.waiting >= LAG_COUNTED_UP_TO else shown


def any_change_queued() -> bool:
    """Whether a change waits to be counted into the rollups (a look that takes no lock:
    an idle recounter makes it five times a second)."""
    return QueuedRecount.objects.exists()


def figures_lag() -> FiguresLag | None:
    """How far the rollups trail the orders, when they trail them by more than a moment
    (None when current). Measured on the database's clock, which queued the changes."""
    # By time, not id: a change set aside behind the queue keeps the time it was queued.
    oldest = (
        QueuedRecount.objects.order_by("queued_at")
        .annotate(now=Now())
        .values_list("queued_at", "now")
        .first()
    )
    if oldest is None:
        return None
    since, now = oldest
    seconds = int((now - since).total_seconds())
    if seconds < LAG_SHOWN_FROM_SECONDS:
        return None
    waiting = QueuedRecount.objects.all()[:LAG_COUNTED_UP_TO].count()
    return FiguresLag(since=since, seconds=seconds, waiting=waiting)


def month_start(*, day: date) -> date:
    return day.replace(day=1)


def month_end(*, day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def periods(*, start: date, end: date) -> Q:
    """The rollup rows that cover `start`..`end` once: whole months, then the odd days."""
    first_full = start if start.day == 1 else month_end(day=start) + timedelta(days=1)
    last_full = end if end == month_end(day=end) else month_start(day=end) - timedelta(days=1)
    if first_full > last_full:
        return Q(grain=Grain.DAY, period__gte=start, period__lte=end)
    return (
        Q(grain=Grain.MONTH, period__gte=first_full, period__lte=month_start(day=last_full))
        | Q(grain=Grain.DAY, period__gte=start, period__lt=first_full)
        | Q(grain=Grain.DAY, period__gt=last_full, period__lte=end)
    )


def _rollups(
    dimension: Dimension, query: SalesQuery, *, days_only: bool = False, exact: bool = False
) -> QuerySet:
    """The rollup rows that sum to the query's figures. Without a source or order type to
    filter or break down by (`exact`), the rows summed over all of them; else the exact ones."""
    if days_only:
        span = Q(grain=Grain.DAY, period__gte=query.start, period__lte=query.end)
    else:
        span = periods(start=query.start, end=query.end)
    qs = SalesRollup.objects.filter(span, dimension=dimension)
    if query.currency:
        qs = qs.filter(currency=query.currency)
    if exact or query.order_type or query.source or query.kind:
        qs = qs.exclude(source=ANY)
        qs = _of_kind(qs, query.kind)
        if query.order_type:
            qs = qs.filter(order_type=query.order_type)
        if query.source:
            qs = qs.filter(source=query.source)
    else:
        qs = qs.filter(source=ANY, order_type=ANY)
    if dimension == Dimension.SALES_MANAGER and not query.include_unconfirmed:
        qs = qs.filter(confirmed=True)
    return qs


def _of_kind(qs: QuerySet, kind: str | None) -> QuerySet:
    """Recurring sales are the orders of type `recurring` (billing makes them so)."""
    if kind == RECURRING:
        return qs.filter(order_type=RECURRING)
    if kind == ONE_OFF:
        return qs.exclude(order_type=RECURRING)
    return qs


def _summed(qs: QuerySet, *group: str) -> QuerySet:
    return qs.values(*group).annotate(**{name: Sum(name) for name in SUMMED}).filter(orders__gt=0)


def totals(*, query: SalesQuery) -> dict[str, Figures]:
    """Per currency: the figures of every counted sale (refunds already subtracted in net)."""
    rows = _summed(_rollups(Dimension.TOTAL, query), "currency").order_by("currency")
    return {row["currency"]: Figures.of(row) for row in rows}


# Sorts the database can do before the limit, so a year by customer reads one page of
# rows. They name the sums `_summed` annotates (which take the columns' names).
_SQL_ORDER = {
    "orders": F("orders"),
    "units": F("units"),
    "gross": F("gross"),
    "refunds": F("refunds"),
    "net": F("gross") - F("refunds"),
    "fees": F("fees"),
    "funds_credited": F("funds_credited"),
    "average": ExpressionWrapper(
        (F("gross") - F("refunds")) / F("orders"), output_field=DecimalField()
    ),
}


@dataclass(frozen=True)
class Top:
    """Only the first `limit` groups by `column` (a measure)."""

    column: str
    descending: bool
    limit: int


def _grouped(
    group_by: GroupBy,
    query: SalesQuery,
    *,
    top: Top | None = None,
    refs: set[str] | None = None,
) -> list[tuple[str, str, bool, Figures]]:
    """(rollup key, currency, confirmed, figures) per group: all of them, the `top` ones,
    or those of the given `refs`."""
    if group_by in CONVERSION_GROUPS:
        return _conversion_groups(group_by, query, refs)
    if group_by == GroupBy.DISCOUNT_CODE:
        return _discount_groups(query, refs)
    if group_by == GroupBy.CUSTOMER:
        return _customer_groups(query, top, refs)
    dimension = DIMENSION_OF[group_by]
    days_only = group_by == GroupBy.DAY
    exact = group_by in (GroupBy.SOURCE, GroupBy.ORDER_TYPE)
    qs = _rollups(dimension, query, days_only=days_only, exact=exact)
    if group_by in (GroupBy.DAY, GroupBy.MONTH):
        merged: dict[tuple[str, str], Figures] = {}
        for row in _summed(qs, "period", "currency"):
            day = row["period"]
            key = day.isoformat() if group_by == GroupBy.DAY else day.strftime("%Y-%m")
            merged.setdefault((key, row["currency"]), Figures()).add(Figures.of(row))
        return [(k, c, True, f) for (k, c), f in merged.items()]
    column = {
        GroupBy.CURRENCY: "currency",
        GroupBy.SOURCE: "source",
        GroupBy.ORDER_TYPE: "order_type",
    }.get(group_by, "key")
    group = [column, "currency"] if column != "currency" else ["currency"]
    if group_by == GroupBy.SALES_MANAGER:
        group.append("confirmed")
    if refs is not None:
        qs = qs.filter(**{f"{column}__in": refs})
    grouped = _summed(qs, *group)
    if top is not None:
        grouped = _first_of(grouped, top, column)
    return [
        (row[column], row["currency"], row.get("confirmed", False), Figures.of(row))
        for row in grouped
    ]


def _first_of(grouped: QuerySet, top: Top, key: str) -> QuerySet:
    """The `top` groups, ties by currency and then `key`."""
    grouped = grouped.annotate(sort_value=_SQL_ORDER[top.column])
    first = F("sort_value").desc() if top.descending else F("sort_value").asc()
    return grouped.order_by(first, "currency", key)[: top.limit]


def _kept_sales(query: SalesQuery) -> QuerySet:
    """The kept sales (a row a sale) the query asks about."""
    sales = ReportedOrder.objects.filter(day__gte=query.start, day__lte=query.end)
    for name in ("currency", "source", "order_type"):
        if getattr(query, name):
            sales = sales.filter(**{name: getattr(query, name)})
    return _of_kind(sales, query.kind)


def _customer_groups(
    query: SalesQuery, top: Top | None, refs: set[str] | None
) -> list[tuple[str, str, bool, Figures]]:
    """By customer, from the kept sales (a row per sale, with its figures): a rollup row per
    customer and day would hold one sale, so the sales are summed directly."""
    sales = _kept_sales(query)
    if refs is not None:
        ids = _ints(refs)
        sales = sales.filter(
            Q(customer_id__any=ids) | Q(customer_id__isnull=True)
            if NONE_KEY in refs
            else Q(customer_id__any=ids)
        )
    # The key as the rollups wrote it (text, "none" for no customer), so ties at a top's
    # edge fall as the report's own sort by (currency, key) has them.
    key = Coalesce(Cast("customer_id", CharField()), Value(NONE_KEY))
    grouped = (
        sales.annotate(key=key)
        .values("key", "currency")
        .annotate(
            orders=Count("pk"),
            units=Sum("units"),
            gross=Sum("total"),
            refunds=Sum("refunds"),
            fees=Sum("fees"),
            funds_credited=Sum("funds_credited"),
        )
    )
    if top is not None:
        grouped = _first_of(grouped, top, "key")
    return [(row["key"], row["currency"], False, Figures.of(row)) for row in grouped]


def _conversion_groups(
    group_by: GroupBy, query: SalesQuery, refs: set[str] | None
) -> list[tuple[str, str, bool, Figures]]:
    """Creators' approved sales by campaign or creator (from the campaigns' conversions)."""
    keys = None if refs is None else _ints(refs)
    rows = campaigns.conversion_figures(
        query=_conversion_query(query), by=group_by.value, keys=keys
    )
    return [(str(row["key"]), row["currency"], True, Figures.of(row)) for row in rows]


def _discount_groups(
    query: SalesQuery, refs: set[str] | None
) -> list[tuple[str, str, bool, Figures]]:
    """Sales that redeemed a discount code, by code (from the promotions' redemptions)."""
    after, before = day_bounds(query.start, query.end)
    asked = promotions.RedemptionQuery(
        after=after,
        before=before,
        currency=query.currency,
        order_type=query.order_type,
        source=query.source,
        recurring=None if query.kind is None else query.kind == RECURRING,
    )
    rows = promotions.discount_figures(query=asked, codes=refs)
    return [(row["key"], row["currency"], True, Figures.of(row)) for row in rows]


def _conversion_query(query: SalesQuery) -> campaigns.ConversionQuery:
    return campaigns.ConversionQuery(
        start=query.start,
        end=query.end,
        currency=query.currency,
        order_type=query.order_type,
        source=query.source,
        kind=query.kind,
    )


def creator_sales(*, query: SalesQuery) -> dict[str, Decimal]:
    """The dashboard's "sales by creators": per currency, the net value of the sales every
    creator generated (removed creators and rejected conversions included)."""
    generated = campaigns.sales_generated(query=_conversion_query(query))
    return {row.currency: row.net_sales for row in generated}


def _summed_rows(rows: Iterable[BreakdownRow]) -> dict[str, Figures]:
    out: dict[str, Figures] = {}
    for row in sorted(rows, key=lambda r: r.currency):
        out.setdefault(row.currency, Figures()).add(row.figures)
    return out


def sales_breakdown(
    *,
    group_by: GroupBy,
    query: SalesQuery,
    sort: str | None = None,
    limit: int | None = None,
    with_previous: bool = False,
) -> Breakdown:
    """The detailed report: one row per key and currency, sorted, with per-currency totals."""
    descending = (sort or "").startswith("-")
    column = (sort or "").lstrip("-")
    if not column:
        column, descending = ("key", False) if group_by in KEY_ORDERED else ("net", True)
    split = group_by == GroupBy.SALES_MANAGER and query.include_unconfirmed
    top = None
    if (
        limit is not None
        and column in _SQL_ORDER
        and group_by not in (GroupBy.DAY, GroupBy.MONTH)
        and group_by not in APP_MEASURE
        and not split  # a manager's two parts are one row only after merging
    ):
        top = Top(column, descending, limit)
    rows = _rows(group_by, query, top=top)
    # Ties keep the order of (currency, rollup key) in either direction, as the database's
    # ORDER BY … currency, key does for the top rows (sorts are stable, reversed ones too).
    rows.sort(key=lambda r: (r.currency, r.ref))
    rows.sort(key=lambda r: _sort_value(r, column), reverse=descending)
    # By campaign or creator the totals are the creators' sales, not every sale.
    from_app = group_by in APP_MEASURE
    summed = _summed_rows(rows) if from_app else totals(query=query)
    if limit is not None:
        rows = rows[:limit]
    result = Breakdown(group_by=group_by, query=query, rows=rows, totals=summed)
    if with_previous:
        previous = query.previous()
        # Only the rows shown (days and months shift, so those read the whole period).
        timed = group_by in (GroupBy.DAY, GroupBy.MONTH)
        refs = None if timed else {r.ref for r in rows}
        before = {(r.ref, r.currency): r.figures for r in _rows(group_by, previous, refs=refs)}
        for row in rows:
            row.previous = before.get((_shifted_ref(group_by, row.ref, query), row.currency))
        result.previous_totals = (
            _summed_rows(_rows(group_by, previous)) if from_app else totals(query=previous)
        )
    return result


def _shifted_ref(group_by: GroupBy, ref: str, query: SalesQuery) -> str:
    """For a day or month row, the matching row of the previous period (same position)."""
    if group_by == GroupBy.DAY:
        return (date.fromisoformat(ref) - timedelta(days=query.days)).isoformat()
    if group_by == GroupBy.MONTH:
        shift = query.previous().start
        months = (query.start.year - shift.year) * 12 + query.start.month - shift.month
        year, month = int(ref[:4]), int(ref[5:7]) - months
        while month < 1:
            year, month = year - 1, month + 12
        return f"{year:04d}-{month:02d}"
    return ref


def _sort_value(row: BreakdownRow, column: str) -> Any:
    if column == "key":
        number = ascii_int(row.key)
        natural = number if number is not None else row.key
        return (isinstance(natural, str), natural)
    if column == "label":
        return row.label.lower()
    if column == "currency":
        return row.currency
    if column in APP_MEASURES:
        return getattr(row.figures, column) or Decimal(0)
    value = row.figures.value(column)
    return (value is not None, value if value is not None else 0)


def _rows(
    group_by: GroupBy, query: SalesQuery, *, top: Top | None = None, refs: set[str] | None = None
) -> list[BreakdownRow]:
    grouped = _grouped(group_by, query, top=top, refs=refs)
    rows: dict[tuple[str, str], BreakdownRow] = {}
    for ref, currency, confirmed, figures in grouped:
        row = rows.setdefault(
            (ref, currency),
            BreakdownRow(key=ref, label=ref, currency=currency, figures=Figures(), ref=ref),
        )
        row.figures.add(figures)
        if group_by == GroupBy.SALES_MANAGER and query.include_unconfirmed:
            part = "confirmed" if confirmed else "unconfirmed"
            if getattr(row, part) is None:
                setattr(row, part, Figures())
            getattr(row, part).add(figures)
    out = list(rows.values())
    if group_by == GroupBy.SALES_MANAGER and query.include_unconfirmed:
        for row in out:
            row.confirmed = row.confirmed or Figures()
            row.unconfirmed = row.unconfirmed or Figures()
    _label(group_by, out)
    return out


def _label(group_by: GroupBy, rows: list[BreakdownRow]) -> None:
    """Turn the rollups' keys (ids) into the natural keys and names people know. The ids go
    as one array: a year by customer names more customers than a statement may have
    parameters."""
    refs = {r.ref for r in rows if r.ref not in (NONE_KEY, SYSTEM_KEY)}
    names: dict[str, tuple[str, str]] = {}
    if group_by == GroupBy.OFFER:
        for number, name in Offer.objects.filter(number__any=_ints(refs)).values_list(
            "number", "name"
        ):
            names[str(number)] = (str(number), name)
        names[NONE_KEY] = (NONE_KEY, "Items without an offer")
    elif group_by == GroupBy.CATEGORY:
        for number, name in Category.objects.filter(number__any=_ints(refs)).values_list(
            "number", "name"
        ):
            names[str(number)] = (str(number), name)
        names[NONE_KEY] = (NONE_KEY, "Items without a category")
    elif group_by == GroupBy.SALES_MANAGER:
        users = get_user_model().objects.filter(pk__any=_ints(refs))
        for user in users:
            names[str(user.pk)] = (user.get_username(), user.get_full_name() or user.username)
        names[SYSTEM_KEY] = (SYSTEM_KEY, "System (no manager)")
    elif group_by == GroupBy.CUSTOMER:
        ids = _ints(refs)
        first_external: dict[int, str] = {}
        for pk, external in CustomerExternalId.objects.filter(customer_id__any=ids).values_list(
            "customer_id", "external_id"
        ):
            if pk not in first_external or external < first_external[pk]:
                first_external[pk] = external
        for pk, name in Customer.objects.filter(pk__any=ids).values_list("pk", "name"):
            names[str(pk)] = (first_external.get(pk, str(pk)), name)
        names[NONE_KEY] = (NONE_KEY, "No customer")
    elif group_by == GroupBy.PAYMENT_SYSTEM:
        for pk, code, name in PaymentSystem.objects.filter(pk__any=_ints(refs)).values_list(
            "pk", "code", "name"
        ):
            names[str(pk)] = (code, name)
        names[NONE_KEY] = (NONE_KEY, "No payment captured")
    elif group_by == GroupBy.SOURCE:
        names = {v: (v, label) for v, label in source_choices()}
    elif group_by == GroupBy.ORDER_TYPE:
        names = {v: (v, label) for v, label in order_type_choices()}
    elif group_by in CONVERSION_GROUPS:
        found = campaigns.labels(by=group_by.value, keys=_ints(refs))
        names = {str(pk): pair for pk, pair in found.items()}
    elif group_by == GroupBy.DISCOUNT_CODE:
        names = {ref: (ref, ref) for ref in refs}
    for row in rows:
        row.key, row.label = names.get(row.ref, (row.ref, row.ref))


def _ints(values: Iterable[str]) -> list[int]:
    return [number for v in values if (number := ascii_int(v)) is not None]


# --- The dashboard ------------------------------------------------------------------------


@dataclass
class Comparison:
    currency: str
    current: Figures
    previous: Figures


@dataclass
class SeriesPoint:
    start: date
    end: date
    net: Decimal
    orders: int


@dataclass
class Performance:
    query: SalesQuery
    previous_query: SalesQuery
    by_currency: list[Comparison]
    customers: dict[str, tuple[int, int]]  # "new"/"returning" -> (now, before)
    # Net revenue per day (per week past 90 days) and currency, every bucket present.
    series: dict[str, list[SeriesPoint]] = field(default_factory=dict)
    previous_series: dict[str, list[SeriesPoint]] = field(default_factory=dict)


def change_percent(
    *, current: Decimal | int | None, previous: Decimal | int | None
) -> Decimal | None:
    """The change in percent, one decimal; None ("—") when there is nothing to compare to."""
    if not previous or current is None:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / abs(Decimal(previous))).quantize(
        Decimal("0.1")
    )


def _buyers(query: SalesQuery) -> int:
    """Customers with a counted order in the period, from the kept sales: COUNT over a
    DISTINCT subquery, which PostgreSQL hashes (count(DISTINCT) would sort)."""
    sales = _kept_sales(query).filter(customer_id__isnull=False)
    return sales.values("customer_id").distinct().count()


def _returning(query: SalesQuery, new_now: int, new_before: int) -> tuple[int, int]:
    """Customers who bought in the period and had bought before it, in the period and in
    the one before it.

    Unfiltered, that is the period's sales whose customer's previous sale (`prev_day`)
    came before it: exactly one per such customer, counted without a DISTINCT, both
    periods in one pass over the index on (day, prev_day). A filter (currency, source,
    type) asks about some sales only, so then: buyers among those sales less the new
    customers among them.
    """
    previous = query.previous()
    if query.narrowed:
        return _buyers(query) - new_now, _buyers(previous) - new_before
    counts = ReportedOrder.objects.filter(
        day__gte=previous.start, day__lte=query.end, prev_day__lt=query.start
    ).aggregate(
        # Of a column in the index (never null), so the index alone answers.
        now=Count("day", filter=Q(day__gte=query.start)),
        before=Count("day", filter=Q(day__lte=previous.end, prev_day__lt=previous.start)),
    )
    return counts["now"], counts["before"]


def _series(query: SalesQuery, per_day: dict[tuple[date, str], Figures]) -> dict:
    step = 1 if query.days <= 90 else 7
    buckets = [
        (
            query.start + timedelta(days=i),
            min(query.start + timedelta(days=i + step - 1), query.end),
        )
        for i in range(0, query.days, step)
    ]
    currencies = sorted({c for d, c in per_day if query.start <= d <= query.end})
    series: dict[str, list[SeriesPoint]] = {}
    for currency in currencies:
        points = []
        for first, last in buckets:
            # A point needs the net and the count alone: summed directly, not as whole Figures.
            net, orders = Decimal(0), 0
            day = first
            while day <= last:
                figures = per_day.get((day, currency))
                if figures is not None:
                    net += figures.net
                    orders += figures.orders
                day += ONE_DAY
            points.append(SeriesPoint(first, last, net, orders))
        series[currency] = points
    return series


def sales_performance(*, query: SalesQuery, series: bool = True) -> Performance:
    """The dashboard: the period and the one of equal length before it, per currency, with
    the customers and (unless `series` is False) the daily series; two queries whatever
    the range."""
    previous = query.previous()
    both = replace(query, start=previous.start)
    rollups = _rollups(Dimension.TOTAL, both, days_only=True)
    per_day: dict[tuple[date, str], Figures] = {}
    now: dict[str, Figures] = {}
    before: dict[str, Figures] = {}
    if series:
        for row in _summed(rollups, "period", "currency"):
            per_day[(row["period"], row["currency"])] = Figures.of(row)
        for (day, currency), figures in per_day.items():
            side = now if day >= query.start else before
            side.setdefault(currency, Figures()).add(figures)
    else:
        # Without the series, each period's sums come from the database: a row per
        # currency and period rather than one per day (the figures are the same).
        current = ExpressionWrapper(Q(period__gte=query.start), output_field=BooleanField())
        for row in _summed(rollups.annotate(current=current), "currency", "current"):
            (now if row["current"] else before)[row["currency"]] = Figures.of(row)
    currencies = sorted(set(now) | set(before))
    by_currency = [
        Comparison(c, now.get(c, Figures()), before.get(c, Figures())) for c in currencies
    ]
    new_now = sum(f.new_customers for f in now.values())
    new_before = sum(f.new_customers for f in before.values())
    return Performance(
        query=query,
        previous_query=previous,
        by_currency=by_currency,
        customers={
            "new": (new_now, new_before),
            "returning": _returning(query, new_now, new_before),
        },
        series=_series(query, per_day) if series else {},
        previous_series=_series(previous, per_day) if series else {},
    )


# --- Where a figure comes from ------------------------------------------------------------


def orders_filter(
    *,
    query: SalesQuery,
    group_by: GroupBy | None = None,
    ref: str | None = None,
    currency: str | None = None,
    start: date | None = None,
    end: date | None = None,
    confirmed: bool | None = None,
) -> dict[str, str] | None:
    """The All Orders filter listing exactly the orders behind a figure, or None when the
    orders cannot be singled out by a filter (items without an offer or category)."""
    start = start or query.start
    end = end or query.end
    params = {
        "status": COUNTED_STATUS,
        "created_after": start.isoformat(),
        "created_before": (end + timedelta(days=1)).isoformat(),
    }
    for name in ("currency", "order_type", "source"):
        value = getattr(query, name)
        if value:
            params[name] = value
    if query.kind:
        params["recurring"] = "true" if query.kind == RECURRING else "false"
    if currency:
        params["currency"] = currency
    if group_by is None or ref is None:
        return params
    if group_by in APP_MEASURE:
        return None  # their orders are listed on the campaign's, creator's or code's page
    if group_by == GroupBy.DAY:
        day = date.fromisoformat(ref)
        params["created_after"], params["created_before"] = (
            day.isoformat(),
            (day + timedelta(days=1)).isoformat(),
        )
    elif group_by == GroupBy.MONTH:
        first = date(int(ref[:4]), int(ref[5:7]), 1)
        params["created_after"] = max(first, start).isoformat()
        params["created_before"] = (min(month_end(day=first), end) + timedelta(days=1)).isoformat()
    elif group_by in (GroupBy.SOURCE, GroupBy.ORDER_TYPE):
        params[group_by.value] = ref
    elif group_by in (GroupBy.OFFER, GroupBy.CATEGORY):
        if ref == NONE_KEY:
            return None
        params[group_by.value] = ref
    elif group_by == GroupBy.CUSTOMER:
        if ref == NONE_KEY:
            return None
        params["customer"] = ref
    elif group_by == GroupBy.SALES_MANAGER:
        params["sales_manager"] = ref
        if confirmed is not None:
            params["sales_confirmed"] = "true" if confirmed else "false"
        elif not query.include_unconfirmed:
            params["sales_confirmed"] = "true"
    elif group_by == GroupBy.PAYMENT_SYSTEM:
        if ref == NONE_KEY:
            return None
        params["payment_system"] = ref  # the code
    return params


def row_filter(
    *, breakdown: Breakdown, row: BreakdownRow, confirmed: bool | None = None
) -> dict[str, str] | None:
    """The All Orders filter behind one row of a breakdown (or a part of it)."""
    # Payment systems are filtered by code (the row's key); the rest by the rollup's ref.
    ref = row.key if breakdown.group_by == GroupBy.PAYMENT_SYSTEM else row.ref
    return orders_filter(
        query=breakdown.query,
        group_by=breakdown.group_by,
        ref=ref,
        currency=row.currency,
        confirmed=confirmed,
    )


def first_sale_filter(*, query: SalesQuery, new: bool) -> dict[str, str]:
    """The orders behind "new customers" (their first sales) or "returning customers"."""
    params = orders_filter(query=query) or {}
    if new:
        params["first_sale"] = "true"
    else:
        params["customer_bought_before"] = query.start.isoformat()
    return params
