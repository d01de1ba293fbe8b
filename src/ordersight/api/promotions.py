"""Promotions API: segments (rules, member count, members page and CSV), discount codes
(one, generated in bulk, validated against an order payload, redeemed on an order) and
their redemptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, QueryDict, StreamingHttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, WithJsonSchema

from ordersight.accounts.auth import can_read, can_write
from ordersight.api.lists import list_export, list_page
from ordersight.api.order_schemas import OrderIn
from ordersight.api.promotion_schemas import CodeRules, SegmentRules
from ordersight.core.keyset import MAX_LIMIT
from ordersight.core.money import format_money
from ordersight.core.validation import CODE_MAX, EARLIEST, LATEST
from ordersight.http.query_schemas import CURSOR_PATTERN, query_schema
from ordersight.http.schemas import (
    AmountsByCurrency,
    PageOut,
    PositivePercent,
    StrictIn,
    error_responses,
    required_when,
    slug,
    text,
)
from ordersight.orders.selectors import get_order
from ordersight.promotions import selectors, services
from ordersight.promotions.filters import (
    DiscountCodeFilterSet,
    RedemptionFilterSet,
    SegmentFilterSet,
)
from ordersight.promotions.models import DiscountCode, Redemption, Segment

router = Router(tags=["promotions"])
ERRORS = error_responses()
CodeListQuery = query_schema(
    DiscountCodeFilterSet, "DiscountCodeListQuery", sorts=selectors.CODE_LIST.sorts
)
RedemptionListQuery = query_schema(
    RedemptionFilterSet, "RedemptionListQuery", sorts=selectors.REDEMPTION_LIST.sorts
)
SegmentListQuery = query_schema(
    SegmentFilterSet, "SegmentListQuery", sorts=selectors.SEGMENT_LIST.sorts
)


# --- Segments ------------------------------------------------------------------------------


class SegmentIn(StrictIn):
    name: text(200)
    rules: SegmentRules


class SegmentUpdateIn(StrictIn):
    name: text(200) = None
    rules: SegmentRules = None


class RulesIn(StrictIn):
    rules: SegmentRules


class SegmentOut(Schema):
    id: int
    name: str
    rules: Any
    member_count: int
    created_at: datetime
    updated_at: datetime


class CountOut(Schema):
    member_count: int


class SegmentMemberOut(Schema):
    id: int
    name: str
    email: str
    orders: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    last_order_amount: str | None
    last_order_currency: str | None


class MembersQuery(Schema):
    cursor: str | None = Field(None, pattern=CURSOR_PATTERN, description="next_cursor of a page")
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}, default 50")
    sort: Literal["id", "-id"] | None = Field(None, description="newest first (-id) unless id")


def _of_segment(request: HttpRequest, segment: Segment) -> QueryDict:
    """The member list's filters: this segment's, whatever the query string says of it."""
    params = request.GET.copy()
    params["segment"] = str(segment.pk)
    return params


def segment_out(segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "name": segment.name,
        "rules": segment.rules,
        "member_count": selectors.member_count(rules=segment.rules),
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def member_out(customer: Any) -> dict[str, Any]:
    figures = getattr(customer, "figures", None)
    last = figures.last_order_amount if figures else None
    currency = figures.last_order_currency if figures else None
    return {
        "id": customer.pk,
        "name": customer.name,
        "email": customer.email,
        "orders": figures.orders if figures else 0,
        "first_order_at": figures.first_order_at if figures else None,
        "last_order_at": figures.last_order_at if figures else None,
        "last_order_amount": format_money(last, currency) if last is not None else None,
        "last_order_currency": currency or None,
    }


@router.get(
    "/segments",
    response={200: PageOut[SegmentOut], **ERRORS},
    auth=can_read("promotions.view_segment"),
)
def list_segments(request: HttpRequest, params: Query[SegmentListQuery]):
    """Segments by name (or `sort`), by keyset, each with its member count now."""
    return list_page(request, selectors.SEGMENT_LIST, params, segment_out)


@router.get(
    "/segments/export.csv",
    response={200: None, **ERRORS},
    auth=can_read("promotions.view_segment"),
)
def export_segments(request: HttpRequest, params: Query[SegmentListQuery]) -> StreamingHttpResponse:
    """The segments the filters select, as CSV (their members: `/segments/{id}/members.csv`)."""
    return list_export(request, selectors.SEGMENT_LIST, params)


@router.post(
    "/segments", response={201: SegmentOut, **ERRORS}, auth=can_write("promotions.add_segment")
)
def create_segment(request: HttpRequest, payload: SegmentIn):
    """A bad rule is a 422 naming its path, e.g. `rules.all[1].value`."""
    actor = request.actor
    segment = services.create_segment(name=payload.name, rules=payload.rules, actor=actor)
    return Status(201, segment_out(segment))


@router.post(
    "/segments/count", response={200: CountOut, **ERRORS}, auth=can_read("promotions.view_segment")
)
def count_members(request: HttpRequest, payload: RulesIn):
    """How many customers these rules select now (the editor's live count)."""
    return {"member_count": selectors.member_count(rules=payload.rules)}


@router.get(
    "/segments/{int:segment_id}",
    response={200: SegmentOut, **ERRORS},
    auth=can_read("promotions.view_segment"),
)
def get_segment(request: HttpRequest, segment_id: int):
    return segment_out(selectors.get_segment(segment_id=segment_id))


@router.patch(
    "/segments/{int:segment_id}",
    response={200: SegmentOut, **ERRORS},
    auth=can_write("promotions.change_segment"),
)
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentUpdateIn):
    actor = request.actor
    segment = services.update_segment(
        segment=selectors.get_segment(segment_id=segment_id),
        changes=payload.model_dump(exclude_unset=True),
        actor=actor,
    )
    return segment_out(segment)


@router.get(
    "/segments/{int:segment_id}/members",
    response={200: PageOut[SegmentMemberOut], **ERRORS},
    auth=can_read("promotions.view_segment"),
)
def segment_members(request: HttpRequest, segment_id: int, params: Query[MembersQuery]):
    """The members, newest customer first, by keyset (`cursor` from `next_cursor`)."""
    segment = selectors.get_segment(segment_id=segment_id)
    return list_page(
        request, selectors.MEMBER_LIST, params, member_out, _of_segment(request, segment)
    )


@router.get(
    "/segments/{int:segment_id}/members.csv",
    response={200: None, **ERRORS},
    auth=can_read("promotions.view_segment"),
)
def export_segment_members(
    request: HttpRequest, segment_id: int, params: Query[MembersQuery]
) -> StreamingHttpResponse:
    """Every member, as CSV, in the list's sort."""
    segment = selectors.get_segment(segment_id=segment_id)
    return list_export(
        request,
        selectors.MEMBER_LIST,
        params,
        _of_segment(request, segment),
        filename=f"segment-{segment.pk}-members.csv",
    )


# --- Discount codes ------------------------------------------------------------------------


_LIMIT = {"minimum": 1, "maximum": services.MAX_LIMIT}
# A code's start or end is kept in UTC within EARLIEST and LATEST (as an order's time). The
# pattern admits the years 1971 to 2098, inside those bounds whatever the time's offset.
STORED_YEARS = r"^(197[1-9]|19[89][0-9]|20[0-8][0-9]|209[0-8])-"
_StoredTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": STORED_YEARS,
            "description": f"An ISO 8601 time from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} "
            "(UTC); one without an offset is in UTC",
        }
    ),
]
# What a setting needs with it: a kind its percent or amounts, a lines target its SKUs or
# categories (a non-empty list of either).
_SETTINGS_NEED = {
    "allOf": [
        required_when("kind", "percent", "percent"),
        required_when("kind", "fixed", "amounts"),
        {
            "if": {"properties": {"target": {"const": "lines"}}, "required": ["target"]},
            "then": {
                "anyOf": [
                    {"required": [name], "properties": {name: {"type": "array", "minItems": 1}}}
                    for name in ("target_skus", "target_categories")
                ]
            },
        },
    ]
}
_CODE = slug(
    rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{CODE_MAX - 1}}}$",
    f"Up to {CODE_MAX} letters, digits, '.', '-' or '_', starting with a letter or digit; "
    "matched without regard to case",
)


class CodeSettingsIn(StrictIn):
    """A code's settings; in a change, those to change. A kind comes with its percent or
    amounts, a lines target with its SKUs or categories. A start or end that does not fit
    the one the code keeps, or a usage limit below the uses so far, is a conflict (409)."""

    model_config = ConfigDict(json_schema_extra=_SETTINGS_NEED)

    kind: Literal["percent", "fixed", "free_item"] = None
    percent: PositivePercent = Field(None, description="For percent: greater than 0, up to 100")
    amounts: AmountsByCurrency = Field(None, description='For fixed: {"EUR": "5.00"}')
    target: Literal["order", "lines"] = None
    target_skus: list[str] | None = Field(None, max_length=500)
    target_categories: list[int] | None = Field(None, max_length=500)
    starts_at: _StoredTime | None = None
    ends_at: _StoredTime | None = Field(None, description="After starts_at")
    usage_limit: int | None = Field(None, json_schema_extra=_LIMIT)
    per_customer_limit: int | None = Field(None, json_schema_extra=_LIMIT)
    is_active: bool | None = None
    rules: CodeRules = None


class CodeIn(CodeSettingsIn):
    code: _CODE
    kind: Literal["percent", "fixed", "free_item"]


class GenerateIn(CodeSettingsIn):
    kind: Literal["percent", "fixed", "free_item"]
    count: int = Field(
        ...,
        description="How many codes, at most 10,000",
        json_schema_extra={"minimum": 1, "maximum": services.MAX_GENERATED},
    )
    prefix: slug(
        rf"^([A-Za-z0-9][A-Za-z0-9._-]{{0,{services.MAX_PREFIX - 1}}})?$",
        f"Up to {services.MAX_PREFIX} letters, digits, '.', '-' or '_' before the random part",
    ) = ""
    length: int = Field(
        8,
        description="Random characters after the prefix",
        json_schema_extra=dict(zip(("minimum", "maximum"), services.GENERATED_LENGTH, strict=True)),
    )


class CodeOut(Schema):
    code: str
    kind: str
    percent: str | None
    amounts: dict[str, str]
    target: str
    target_skus: list[str]
    target_categories: list[int]
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    per_customer_limit: int | None
    redeemed: int
    is_active: bool
    rules: Any
    batch: str
    created_at: datetime


class GeneratedOut(Schema):
    batch: str
    codes: list[str]


class ValidateIn(StrictIn):
    order: OrderIn


class LineDiscountOut(Schema):
    position: int
    discount: str


class ValidationOut(Schema):
    code: str
    valid: bool
    currency: str
    discount: str = Field(..., description="What the code takes off (0 when not valid)")
    total_before: str
    total_after: str
    lines: list[LineDiscountOut]
    reasons: list[str] = Field(..., description="Every rule the order fails, readable")


class RedeemIn(StrictIn):
    code: str


class RedemptionOut(Schema):
    id: int
    code: str
    order: int
    customer_id: int | None
    amount: str
    currency: str
    status: str
    redeemed_at: datetime
    rolled_back_at: datetime | None
    actor: str


def code_out(code: DiscountCode) -> dict[str, Any]:
    return {
        **{name: getattr(code, name) for name in services.CODE_FIELDS},
        "code": code.code,
        "percent": None if code.percent is None else f"{code.percent.normalize():f}",
        "redeemed": code.redeemed,
        "batch": code.batch,
        "created_at": code.created_at,
    }


def redemption_out(redemption: Redemption) -> dict[str, Any]:
    return {
        "id": redemption.pk,
        "code": redemption.code.code,
        "order": redemption.order.number,
        "customer_id": redemption.customer_id,
        "amount": format_money(redemption.amount, redemption.currency),
        "currency": redemption.currency,
        "status": redemption.status,
        "redeemed_at": redemption.redeemed_at,
        "rolled_back_at": redemption.rolled_back_at,
        "actor": redemption.actor_label,
    }


def _settings(payload: CodeSettingsIn, *exclude: str) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True, exclude=set(exclude))


@router.get(
    "/discount-codes",
    response={200: PageOut[CodeOut], **ERRORS},
    auth=can_read("promotions.view_discountcode"),
)
def list_codes(request: HttpRequest, params: Query[CodeListQuery]):
    return list_page(request, selectors.CODE_LIST, params, code_out)


@router.get(
    "/discount-codes/export.csv",
    response={200: None, **ERRORS},
    auth=can_read("promotions.view_discountcode"),
)
def export_codes(request: HttpRequest, params: Query[CodeListQuery]) -> StreamingHttpResponse:
    return list_export(request, selectors.CODE_LIST, params)


@router.post(
    "/discount-codes",
    response={201: CodeOut, **ERRORS},
    auth=can_write("promotions.add_discountcode"),
)
def create_code(request: HttpRequest, payload: CodeIn):
    actor = request.actor
    found = services.create_discount_code(
        code=payload.code, actor=actor, **_settings(payload, "code")
    )
    return Status(201, code_out(found))


@router.post(
    "/discount-codes/bulk",
    response={201: GeneratedOut, **ERRORS},
    auth=can_write("promotions.add_discountcode"),
)
def generate_codes(request: HttpRequest, payload: GenerateIn):
    """Generate `count` unique codes with the same settings (one batch)."""
    actor = request.actor
    codes = services.generate_discount_codes(
        count=payload.count,
        prefix=payload.prefix,
        length=payload.length,
        actor=actor,
        **_settings(payload, "count", "prefix", "length"),
    )
    return Status(201, {"batch": codes[0].batch, "codes": [c.code for c in codes]})


@router.get(
    "/discount-codes/{code}",
    response={200: CodeOut, **ERRORS},
    auth=can_read("promotions.view_discountcode"),
)
def get_code(request: HttpRequest, code: str):
    return code_out(selectors.get_code(code=code))


@router.patch(
    "/discount-codes/{code}",
    response={200: CodeOut, **ERRORS},
    auth=can_write("promotions.change_discountcode"),
)
def update_code(request: HttpRequest, code: str, payload: CodeSettingsIn):
    actor = request.actor
    found = services.update_discount_code(
        code=selectors.get_code(code=code), changes=_settings(payload), actor=actor
    )
    return code_out(found)


@router.post(
    "/discount-codes/{code}/validate",
    response={200: ValidationOut, **ERRORS},
    auth=can_read("promotions.view_discountcode"),
)
def validate_code(request: HttpRequest, code: str, payload: ValidateIn):
    """Whether the code applies to this order payload, the discount per line, or every rule
    that fails with a readable reason. Nothing is stored."""
    found = selectors.get_code(code=code)
    cart = services.cart_of_input(data=payload.order.to_input())
    result = services.validate_code(code=found, cart=cart)
    c = cart.currency
    return {
        "code": found.code,
        "valid": result.valid,
        "currency": c,
        "discount": format_money(result.discount, c),
        "total_before": format_money(cart.total, c),
        "total_after": format_money(cart.total - result.discount, c),
        "lines": [
            {"position": pos, "discount": format_money(amount, c)}
            for pos, amount in sorted(result.lines.items())
        ],
        "reasons": result.reasons,
    }


@router.get(
    "/redemptions",
    response={200: PageOut[RedemptionOut], **ERRORS},
    auth=can_read("promotions.view_redemption"),
)
def list_redemptions(request: HttpRequest, params: Query[RedemptionListQuery]):
    """The redemption history, filterable by code, status, customer and time."""
    return list_page(request, selectors.REDEMPTION_LIST, params, redemption_out)


@router.get(
    "/redemptions/export.csv",
    response={200: None, **ERRORS},
    auth=can_read("promotions.view_redemption"),
)
def export_redemptions(
    request: HttpRequest, params: Query[RedemptionListQuery]
) -> StreamingHttpResponse:
    return list_export(request, selectors.REDEMPTION_LIST, params)


@router.post(
    "/orders/{int:number}/discount-code",
    response={201: RedemptionOut, **ERRORS},
    auth=can_write("promotions.add_redemption"),
)
def redeem_code(request: HttpRequest, number: int, payload: RedeemIn):
    """Redeem a code on an order that has taken no money yet: the discount goes onto its
    lines. A code that does not apply is a 422 whose `code` field gives every reason."""
    actor = request.actor
    redemption = services.redeem_code(
        order=get_order(number=number), code=payload.code, actor=actor
    )
    return Status(201, redemption_out(redemption))
