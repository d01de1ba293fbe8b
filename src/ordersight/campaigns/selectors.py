"""Reads of creator campaigns: the Performance tab's orders (also its API and export), the
totals of a campaign, a creator and all creators, the all-sales download, and the figures
the detailed report breaks down by campaign and by creator.

Campaign views show the creators who are members now; the global figures (all sales
generated, a creator's page, the reports) keep the sales of creators removed since.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from ordersight.campaigns.filters import (
    CampaignFilterSet,
    ConversionFilterSet,
    CreatorFilterSet,
    CreatorSaleFilterSet,
    PerformanceFilterSet,
    StoreSaleFilterSet,
)
from ordersight.campaigns.models import (
    SALE_STATUSES,
    Approval,
    Campaign,
    Conversion,
    ConversionEvent,
    Creator,
    CreatorCommission,
    Membership,
)
from ordersight.core.csv_stream import (
    IsoDate,
    IsoTimestamp,
    decimal_text,
    money_text,
    neutralised,
)
from ordersight.core.errors import NotFound
from ordersight.core.lists import ListSpec
from ordersight.core.validation import SEARCH_PART_MIN, is_id
from ordersight.orders.models import Order, OrderStatus, OrderType

ZERO = Decimal(0)
_NET = ExpressionWrapper(F("gross") - F("refunds"), output_field=DecimalField())


def _conversions() -> QuerySet[Conversion]:
    return Conversion.objects.select_related("order", "creator", "campaign").annotate(
        net_value=_NET
    )


_COLUMNS = (
    ("conversion_id", "id"),
    ("order_number", "order__number"),
    ("ordered_at", IsoTimestamp("ordered_at")),
    ("campaign_name", neutralised("campaign__name")),
    ("creator_handle", neutralised("creator__handle")),
    ("creator_name", neutralised("creator__name")),
    ("tracked_by", "via"),
    ("code", neutralised("code")),
    ("status", "status"),
    ("approval", "approval"),
    ("currency", "currency"),
    ("amount", money_text("gross")),
    ("refunds", money_text("refunds")),
    ("net", money_text("net_value")),
    ("commission", money_text("commission")),
)
_SORTS = {
    "ordered_at": "ordered_at",
    "amount": "gross",
    "commission": "commission",
    "order": "order__number",
}

# The Performance tab's Orders table: the campaign's conversions by its current members
# (the `campaign` filter, which the tab and its API always set, keeps to them).
PERFORMANCE_LIST = ListSpec(
    name="campaign orders",
    filterset=PerformanceFilterSet,
    base=_conversions,
    sorts=_SORTS,
    default_sort="-ordered_at",
    columns=_COLUMNS,
    filename="campaign-orders.csv",
)

# Every conversion, whoever is a member now (the API's global list, a creator's page).
CONVERSION_LIST = ListSpec(
    name="conversions",
    filterset=ConversionFilterSet,
    base=_conversions,
    sorts=_SORTS,
    default_sort="-ordered_at",
    columns=_COLUMNS,
    filename="conversions.csv",
)


def _get(queryset: QuerySet, missing: str, field: str, value: Any, **lookup: Any) -> Any:
    """The one row `lookup` finds, or NotFound with `missing` (translated, `{value}` filled
    in) naming `field`."""
    found = queryset.filter(**lookup).first() if is_id(value) or isinstance(value, str) else None
    if found is None:
        raise NotFound(missing.format(value=value), fields={field: _("not found")})
    return found


def get_campaign(*, campaign_id: int) -> Campaign:
    return _get(
        Campaign.objects.all(),
        _("No campaign {value}."),
        "campaign_id",
        campaign_id,
        pk=campaign_id,
    )


def get_creator(*, handle: str) -> Creator:
    handle = (handle or "").strip().lstrip("@").lower()
    return _get(Creator.objects.all(), _("No creator {value}."), "handle", handle, handle=handle)


def get_creator_by_id(*, creator_id: int) -> Creator:
    return _get(
        Creator.objects.all(), _("No creator {value}."), "creator_id", creator_id, pk=creator_id
    )


def get_conversion(*, conversion_id: int) -> Conversion:
    return _get(
        _conversions(),
        _("No conversion {value}."),
        "conversion_id",
        conversion_id,
        pk=conversion_id,
    )


def conversion_of_order(*, order_id: int) -> Conversion | None:
    """The creator and campaign an order came through, if any."""
    return (
        Conversion.objects.select_related("creator", "campaign").filter(order_id=order_id).first()
    )


def conversion_history(*, conversion: Conversion) -> QuerySet[ConversionEvent]:
    return conversion.events.order_by("created_at", "id")


@dataclass
class CurrencyTotals:
    currency: str
    sales: int = 0
    net_sales: Decimal = ZERO
    commission: Decimal = ZERO
    rejected: int = 0


def _sum_commissions(rows: QuerySet[CreatorCommission]) -> list[CurrencyTotals]:
    summed = (
        rows.values("currency")
        .annotate(s=Sum("sales"), n=Sum("net_sales"), c=Sum("commission"), r=Sum("rejected"))
        .order_by("currency")
    )
    return [
        CurrencyTotals(
            row["currency"], row["s"] or 0, row["n"] or ZERO, row["c"] or ZERO, row["r"] or 0
        )
        for row in summed
    ]


def campaign_totals(*, campaign: Campaign) -> list[CurrencyTotals]:
    """Per currency, over the campaign's current members: approved sales, their net value,
    commission, and how many conversions were rejected."""
    members = Membership.objects.filter(campaign=campaign, removed_at__isnull=True)
    return _sum_commissions(
        CreatorCommission.objects.filter(
            campaign=campaign, creator_id__in=members.values("creator_id")
        )
    )


def creator_totals(*, creator: Creator) -> list[CurrencyTotals]:
    """A creator's totals over every campaign they were ever in."""
    return _sum_commissions(CreatorCommission.objects.filter(creator=creator))


@dataclass
class MemberRow:
    membership: Membership
    codes: list[Any]
    totals: list[CreatorCommission] = field(default_factory=list)


def members(*, campaign: Campaign, current: bool = True) -> list[MemberRow]:
    """The campaign's members (now, or removed ones), with their codes and totals."""
    memberships = (
        Membership.objects.filter(campaign=campaign, removed_at__isnull=current)
        .select_related("creator")
        .prefetch_related("codes")
        .order_by("creator__name", "pk")
    )
    totals: dict[int, list[CreatorCommission]] = {}
    if current:  # a removed member's commission is not shown with the campaign
        for row in CreatorCommission.objects.filter(campaign=campaign).order_by("currency"):
            totals.setdefault(row.creator_id, []).append(row)
    return [MemberRow(m, list(m.codes.all()), totals.get(m.creator_id, [])) for m in memberships]


class CommissionTotals(NamedTuple):
    currency: str
    sales: int
    net_sales: Decimal
    commission: Decimal


@dataclass(frozen=True)
class MemberCommissions:
    """A current member as the Performance tab shows them: who, and their approved sales
    and commission per currency."""

    creator_id: int
    handle: str
    name: str
    totals: list[CommissionTotals]


def member_commissions(*, campaign: Campaign) -> list[MemberCommissions]:
    """The campaign's current members by name, each with their totals per currency: two
    queries of plain rows (`members` builds every membership, creator, code and total as
    objects, which was a fifth of the tab)."""
    totals: dict[int, list[CommissionTotals]] = {}
    commissions = CreatorCommission.objects.filter(campaign=campaign).order_by("currency")
    for creator_id, *row in commissions.values_list("creator_id", *CommissionTotals._fields):
        totals.setdefault(creator_id, []).append(CommissionTotals(*row))
    memberships = (
        Membership.objects.filter(campaign=campaign, removed_at__isnull=True)
        .order_by("creator__name", "pk")
        .values_list("creator_id", "creator__handle", "creator__name")
    )
    return [
        MemberCommissions(creator_id, handle, name, totals.get(creator_id, []))
        for creator_id, handle, name in memberships
    ]


@dataclass
class CreatorCampaignRow:
    campaign: Campaign
    is_member: bool
    totals: list[CreatorCommission]


def creator_campaigns(*, creator: Creator) -> list[CreatorCampaignRow]:
    """Each campaign the creator was in, whether they still are, and their commission there."""
    current = set(
        Membership.objects.filter(creator=creator, removed_at__isnull=True).values_list(
            "campaign_id", flat=True
        )
    )
    campaign_ids = set(
        Membership.objects.filter(creator=creator).values_list("campaign_id", flat=True)
    )
    totals: dict[int, list[CreatorCommission]] = {}
    for row in CreatorCommission.objects.filter(creator=creator).order_by("currency"):
        totals.setdefault(row.campaign_id, []).append(row)
    return [
        CreatorCampaignRow(c, c.pk in current, totals.get(c.pk, []))
        for c in Campaign.objects.filter(pk__in=campaign_ids).order_by("-starts_on", "name")
    ]


def _campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.annotate(
        member_count=Count("memberships", filter=Q(memberships__removed_at__isnull=True))
    )


# The Campaigns tab, `GET /api/v1/campaigns` and its export: the latest to start first.
CAMPAIGN_LIST = ListSpec(
    name="campaigns",
    filterset=CampaignFilterSet,
    base=_campaigns,
    sorts={"starts_on": "starts_on", "name": "name", "member_count": "member_count"},
    default_sort="-starts_on",
    columns=(
        ("id", "id"),
        ("name", neutralised("name")),
        ("starts_on", IsoDate("starts_on")),
        ("ends_on", Coalesce(IsoDate("ends_on"), Value(""))),
        ("commission_kind", "commission_kind"),
        ("commission_percent", decimal_text("commission_percent", 4)),
        ("members", "member_count"),
    ),
    filename="campaigns.csv",
)


def list_creators() -> QuerySet[Creator]:
    """Every creator by name: what a campaign's member picker offers."""
    return Creator.objects.order_by("name", "pk")


# The Creators tab, `GET /api/v1/creators` and its export. The CSV leaves payout details
# out: a file travels further than the people who pay creators.
CREATOR_LIST = ListSpec(
    name="creators",
    filterset=CreatorFilterSet,
    base=lambda: Creator.objects.all(),
    sorts={"name": "name", "handle": "handle", "created_at": "created_at"},
    default_sort="name",
    columns=(
        ("id", "id"),
        ("name", neutralised("name")),
        ("handle", "handle"),
        ("email", neutralised("email")),
        ("created_at", IsoTimestamp("created_at")),
    ),
    filename="creators.csv",
)


# --- Sales generated by creators, and the all-sales download -------------------------------


@dataclass(frozen=True)
class ConversionQuery:
    """Which sales the report counts (as its SalesQuery says), by campaign or creator."""

    start: date
    end: date
    currency: str | None = None
    order_type: str | None = None
    source: str | None = None
    kind: str | None = None  # "recurring" or "one_off"


def _narrowed(rows: QuerySet[Conversion], query: ConversionQuery) -> QuerySet[Conversion]:
    rows = rows.filter(day__gte=query.start, day__lte=query.end)
    if query.currency:
        rows = rows.filter(currency=query.currency)
    if query.order_type:
        rows = rows.filter(order_type=query.order_type)
    if query.source:
        rows = rows.filter(source=query.source)
    if query.kind == "recurring":
        rows = rows.filter(order_type=OrderType.RECURRING)
    elif query.kind == "one_off":
        rows = rows.exclude(order_type=OrderType.RECURRING)
    return rows


def sales_generated(*, query: ConversionQuery) -> list[CurrencyTotals]:
    """Every creator's sales placed in the range, members now or not, approved or not: per
    currency, the number and net value of the conversions that are sales, and the approved
    commission."""
    rows = (
        _narrowed(Conversion.objects.filter(status__in=SALE_STATUSES), query)
        .values("currency")
        .annotate(
            sales=Count("pk"),
            net_sales=Sum(_NET),
            commission=Sum("commission", filter=Q(approval=Approval.APPROVED)),
        )
        .order_by("currency")
    )
    return [
        CurrencyTotals(r["currency"], r["sales"], r["net_sales"] or ZERO, r["commission"] or ZERO)
        for r in rows
    ]


SCOPES = {
    "campaigns": "Sales generated by creators",
    "store": "Every sale of the store",
}


# The all-sales download, by scope: `campaigns`, the sales creators generated in every
# campaign (removed creators too); `store`, every sale (completed order), with the campaign
# and creator it came through, blank when none. Filtered by `sales_in`'s days.
SALES_DOWNLOADS = {
    "campaigns": ListSpec(
        name="creators' sales",
        filterset=CreatorSaleFilterSet,
        # The conversions' own columns, as the Performance tab exports them.
        base=lambda: _conversions().filter(status__in=SALE_STATUSES),
        sorts={"ordered_at": "ordered_at"},
        default_sort="ordered_at",
        columns=_COLUMNS,
        filename="sales.csv",
    ),
    "store": ListSpec(
        name="sales",
        filterset=StoreSaleFilterSet,
        base=lambda: Order.objects.filter(status=OrderStatus.COMPLETED),
        sorts={"ordered_at": "created_at"},
        default_sort="ordered_at",
        columns=(
            ("order_number", "number"),
            ("ordered_at", IsoTimestamp("created_at")),
            ("source", "source"),
            ("order_type", "order_type"),
            ("currency", "currency"),
            ("total", money_text("total")),
            ("refund_status", "refund_status"),
            ("campaign_name", Coalesce(neutralised("conversion__campaign__name"), Value(""))),
            ("creator_handle", Coalesce(neutralised("conversion__creator__handle"), Value(""))),
            ("code", Coalesce(neutralised("conversion__code"), Value(""))),
            ("approval", Coalesce(F("conversion__approval"), Value(""))),
        ),
        filename="sales.csv",
    ),
}


def sales_in(*, start: date, end: date) -> dict[str, str]:
    """The all-sales download's filters for the days from `start` to `end`, both included."""
    return {"placed_from": start.isoformat(), "placed_to": end.isoformat()}


# --- What the detailed report reads --------------------------------------------------------


REPORT_MEASURES = ("orders", "units", "gross", "refunds", "fees", "funds_credited", "commission")


def conversion_figures(
    *, query: ConversionQuery, by: str, keys: Collection[int] | None = None
) -> list[dict[str, Any]]:
    """Per campaign or creator (`by`) and currency: the approved conversions that are sales,
    with the report's measures and their commission. Removed creators count here."""
    column = {"campaign": "campaign_id", "creator": "creator_id"}[by]
    approved = Conversion.objects.filter(status__in=SALE_STATUSES, approval=Approval.APPROVED)
    rows = _narrowed(approved, query)
    if keys is not None:
        rows = rows.filter(**{f"{column}__in": keys})
    summed = rows.values(column, "currency").annotate(
        orders=Count("pk"),
        units=Sum("units"),
        gross=Sum("gross"),
        refunds=Sum("refunds"),
        fees=Sum("fees"),
        funds_credited=Sum("funds_credited"),
        commission=Sum("commission"),
    )
    return [{"key": row.pop(column), **row} for row in summed]


def labels(*, by: str, keys: Collection[int]) -> dict[int, tuple[str, str]]:
    """(natural key, name) of campaigns (their id) or creators (their handle)."""
    if by == "campaign":
        return {
            pk: (str(pk), name)
            for pk, name in Campaign.objects.filter(pk__in=keys).values_list("pk", "name")
        }
    return {
        pk: (handle, name)
        for pk, handle, name in Creator.objects.filter(pk__in=keys).values_list(
            "pk", "handle", "name"
        )
    }


def find_creators(*, term: str, limit: int) -> list[Creator]:
    """Creators whose handle holds the search text (a leading @ allowed; the whole handle
    when it is shorter than three characters), the exact handle first."""
    handle = term.strip().removeprefix("@")
    if not handle:
        return []
    if len(handle) < SEARCH_PART_MIN:
        return list(Creator.objects.filter(handle__iexact=handle)[:limit])
    exact = Case(When(handle__iexact=handle, then=Value(0)), default=Value(1))
    rows = Creator.objects.filter(handle__icontains=handle)
    return list(rows.order_by(exact, "handle")[:limit])
