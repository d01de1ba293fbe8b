"""Reads of promotions: codes and redemptions (lists, API, exports), segments and their
members (count, keyset pages, CSV), and what the detailed report reads by discount code."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, F, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from ordersight.core.csv_stream import IsoTimestamp, as_text, money_text, neutralised
from ordersight.core.errors import NotFound
from ordersight.core.lists import ListSpec
from ordersight.core.validation import SEARCH_PART_MIN, is_id, normal_code
from ordersight.customers.models import Customer
from ordersight.orders.models import OrderLine, OrderStatus
from ordersight.payments.models import CAPTURED, Invoice
from ordersight.promotions.filters import (
    DiscountCodeFilterSet,
    RedemptionFilterSet,
    SegmentFilterSet,
    SegmentMemberFilterSet,
)
from ordersight.promotions.models import DiscountCode, Redemption, RedemptionStatus, Segment
from ordersight.promotions.segments import count_members

CODE_LIST = ListSpec(
    name="discount codes",
    filterset=DiscountCodeFilterSet,
    base=lambda: DiscountCode.objects.all(),
    sorts={"created_at": "created_at", "code": "code", "redeemed": "redeemed"},
    default_sort="-created_at",
    columns=(
        ("code", "code"),
        ("kind", "kind"),
        ("percent", "percent"),
        ("target", "target"),
        ("usage_limit", "usage_limit"),
        ("per_customer_limit", "per_customer_limit"),
        ("redeemed", "redeemed"),
        ("is_active", "is_active"),
        ("starts_at", IsoTimestamp("starts_at")),
        ("ends_at", IsoTimestamp("ends_at")),
        ("batch", neutralised("batch")),
    ),
    filename="discount-codes.csv",
)

REDEMPTION_LIST = ListSpec(
    name="redemptions",
    filterset=RedemptionFilterSet,
    base=lambda: Redemption.objects.select_related("code", "order", "customer"),
    sorts={"redeemed_at": "redeemed_at", "amount": "amount"},
    default_sort="-redeemed_at",
    columns=(
        ("code", "code__code"),
        ("order_number", "order__number"),
        ("customer_id", "customer_id"),
        ("customer_name", neutralised("customer__name")),
        ("amount", money_text("amount")),
        ("currency", "currency"),
        ("status", "status"),
        ("redeemed_at", IsoTimestamp("redeemed_at")),
        ("rolled_back_at", IsoTimestamp("rolled_back_at")),
        ("actor", neutralised("actor_label")),
    ),
    filename="redemptions.csv",
)


def get_code(*, code: str) -> DiscountCode:
    found = DiscountCode.objects.filter(code=normal_code(code)).first()
    if found is None:
        raise NotFound(
            _("No discount code {code}.").format(code=repr(code)), fields={"code": _("not found")}
        )
    return found


def get_segment(*, segment_id: int) -> Segment:
    found = Segment.objects.filter(pk=segment_id).first() if is_id(segment_id) else None
    if found is None:
        raise NotFound(
            _("No segment {id}.").format(id=segment_id), fields={"segment_id": _("not found")}
        )
    return found


def list_segments() -> QuerySet[Segment]:
    """Every segment by name: what a rule naming another segment offers."""
    return Segment.objects.order_by("name")


# The Segments tab, `GET /api/v1/segments` and its export. A page counts the members of
# its own segments only (`member_count`, one count a segment).
SEGMENT_LIST = ListSpec(
    name="segments",
    filterset=SegmentFilterSet,
    base=lambda: Segment.objects.all(),
    sorts={"name": "name", "created_at": "created_at", "updated_at": "updated_at"},
    default_sort="name",
    columns=(
        ("id", "id"),
        ("name", neutralised("name")),
        ("created_at", IsoTimestamp("created_at")),
        ("updated_at", IsoTimestamp("updated_at")),
    ),
    filename="segments.csv",
)


def member_count(*, rules: Any) -> int:
    return count_members(rules)


# A segment's members (its page, the API's pages and the CSV), newest customer first; the
# views give the segment as the `segment` filter.
MEMBER_LIST = ListSpec(
    name="segment members",
    filterset=SegmentMemberFilterSet,
    base=lambda: Customer.objects.select_related("figures"),
    sorts={"id": "id"},
    default_sort="-id",
    columns=(
        ("id", "id"),
        ("name", neutralised("name")),
        ("email", neutralised("email")),
        # A customer who never bought has no figures: blank cells, the same on every
        # database (SQLite's printf would write a missing amount as 0.00).
        ("orders", Coalesce(as_text("figures__orders"), Value(""))),
        ("first_order_at", Coalesce(IsoTimestamp("figures__first_order_at"), Value(""))),
        ("last_order_at", Coalesce(IsoTimestamp("figures__last_order_at"), Value(""))),
        (
            "last_order_amount",
            Case(
                When(figures__last_order_amount__isnull=True, then=Value("")),
                default=money_text("figures__last_order_amount", "figures__last_order_currency"),
                output_field=CharField(),
            ),
        ),
        ("last_order_currency", Coalesce(F("figures__last_order_currency"), Value(""))),
    ),
    filename="segment-members.csv",
)


def redemptions_of_order(*, order_id: int) -> QuerySet[Redemption]:
    return Redemption.objects.filter(order_id=order_id).select_related("code")


# --- What the detailed report reads --------------------------------------------------------


@dataclass(frozen=True)
class RedemptionQuery:
    """Sales placed in [after, before) that redeemed a code, narrowed as the report says."""

    after: datetime
    before: datetime
    currency: str | None = None
    order_type: str | None = None
    source: str | None = None
    recurring: bool | None = None


def discount_figures(
    *, query: RedemptionQuery, codes: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Per code and currency: the sales that redeemed it (completed orders, active
    redemption), with the report's measures and the discount given."""
    rows = Redemption.objects.filter(
        status=RedemptionStatus.ACTIVE,
        order__status=OrderStatus.COMPLETED,
        order__created_at__gte=query.after,
        order__created_at__lt=query.before,
    )
    if query.currency:
        rows = rows.filter(currency=query.currency)
    if query.order_type:
        rows = rows.filter(order__order_type=query.order_type)
    if query.source:
        rows = rows.filter(order__source=query.source)
    if query.recurring is not None:
        recurring = {"order__order_type": "recurring"}
        rows = rows.filter(**recurring) if query.recurring else rows.exclude(**recurring)
    if codes is not None:
        rows = rows.filter(code__code__in=codes)
    found = list(rows.values_list("code__code", "currency", "order_id", "order__total", "amount"))
    ids = [r[2] for r in found]
    money = {
        row["order_id"]: row
        for row in Invoice.objects.filter(order_id__in=ids, status__in=CAPTURED)
        .values("order_id")
        .annotate(refunds=Sum("refunded_amount"), fees=Sum("fee"), funds=Sum("funds_credited"))
    }
    units = dict(
        OrderLine.objects.filter(order_id__in=ids)
        .values("order_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_id", "units")
    )
    out: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "orders": 0,
            "units": 0,
            "gross": Decimal(0),
            "refunds": Decimal(0),
            "fees": Decimal(0),
            "funds_credited": Decimal(0),
            "discount": Decimal(0),
        }
    )
    for code, currency, order_id, total, discount in found:
        row = out[(code, currency)]
        row["orders"] += 1
        row["units"] += units.get(order_id) or 0
        row["gross"] += total
        paid = money.get(order_id, {})
        row["refunds"] += paid.get("refunds") or 0
        row["fees"] += paid.get("fees") or 0
        row["funds_credited"] += paid.get("funds") or 0
        row["discount"] += discount
    return [{"key": code, "currency": currency, **row} for (code, currency), row in out.items()]


def find_discount_codes(*, term: str, limit: int) -> list[DiscountCode]:
    """Discount codes holding the search text (the whole code when it is shorter than three
    characters), the exact code first."""
    code = normal_code(term)
    if not code:
        return []
    if len(code) < SEARCH_PART_MIN:
        return list(DiscountCode.objects.filter(code=code)[:limit])
    rows = DiscountCode.objects.filter(code__icontains=code)
    exact = Case(When(code=code, then=Value(0)), default=Value(1))
    return list(rows.order_by(exact, "code")[:limit])
