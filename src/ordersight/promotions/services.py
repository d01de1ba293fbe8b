"""Every write of promotions: segments, discount codes (one or generated in bulk), validating
a code against a cart, redeeming it on an order, and rolling a redemption back.

A redemption locks the code's row first, so its usage limits hold however many checkouts
redeem it at once; the order's lines get the discount through the orders service.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ordersight.core.actors import Actor
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid, NotFound
from ordersight.core.money import allocate, format_money, quantum, round_money
from ordersight.core.validation import (
    clean_amounts_by_currency,
    clean_code,
    clean_moment,
    normal_code,
)
from ordersight.orders.events import record_event
from ordersight.orders.models import Order, OrderEventKind
from ordersight.orders.pricing import Lookups, OrderInput, prepare_order
from ordersight.orders.services import apply_discounts, lock_order
from ordersight.promotions.models import (
    DiscountCode,
    DiscountKind,
    DiscountTarget,
    Redemption,
    RedemptionStatus,
    Segment,
)
from ordersight.promotions.rules import Cart, CartLine, check_rules, evaluate
from ordersight.promotions.segments import compile_rules

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Generated codes avoid letters and digits that read alike (0/O, 1/I/L).
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_GENERATED = 10_000
GENERATED_LENGTH = (6, 32)  # random characters after a generated code's prefix
MAX_PREFIX = 32
MAX_LIMIT = 10**9  # a usage limit, overall or per customer
PERCENT_PLACES = 4


# --- Segments ------------------------------------------------------------------------------


def _clean_segment(segment: Segment, data: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    if "name" in data:
        segment.name = (data["name"] or "").strip()
        if not 0 < len(segment.name) <= 200:
            errors["name"] = _("1 to 200 characters")
    if "rules" in data:
        try:
            compile_rules(data["rules"])
        except Invalid as exc:
            errors.update(exc.fields)
        segment.rules = data["rules"]
    if errors:
        raise Invalid(_("The segment is not valid."), fields=errors)


def _save_segment(segment: Segment) -> Segment:
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise Conflict(
            _("A segment named {name} exists already.").format(name=repr(segment.name)),
            fields={"name": _("already taken")},
        ) from None
    return segment


def create_segment(*, name: str, rules: Any, actor: Actor) -> Segment:
    actor.require("promotions.add_segment")
    segment = Segment()
    _clean_segment(segment, {"name": name, "rules": rules})
    return _save_segment(segment)


def update_segment(*, segment: Segment, changes: Mapping[str, Any], actor: Actor) -> Segment:
    actor.require("promotions.change_segment")
    _clean_segment(segment, changes)
    return _save_segment(segment)


# --- Discount codes ------------------------------------------------------------------------

CODE_FIELDS = (
    "kind",
    "percent",
    "amounts",
    "target",
    "target_skus",
    "target_categories",
    "starts_at",
    "ends_at",
    "usage_limit",
    "per_customer_limit",
    "is_active",
    "rules",
)


def _clean_percent(value: Any, errors: dict[str, str]) -> Decimal | None:
    try:
        percent = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors["percent"] = _("a number greater than 0, at most 100")
        return None
    if not percent.is_finite() or not ZERO < percent <= HUNDRED:
        errors["percent"] = _("greater than 0 and at most 100")
    elif percent.as_tuple().exponent < -PERCENT_PLACES:  # type: ignore[operator]
        # The column keeps four places: more would be rounded away unseen.
        errors["percent"] = _("at most {places} decimal places").format(places=PERCENT_PLACES)
    return percent


def _clean_limits(
    code: DiscountCode, data: Mapping[str, Any], errors: dict[str, str], conflicts: dict[str, str]
) -> None:
    for name in ("usage_limit", "per_customer_limit"):
        if name in data:
            value = data[name]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_LIMIT
            ):
                errors[name] = _("a whole number from 1, or null for no limit")
            else:
                setattr(code, name, value)
    if code.usage_limit is not None and code.redeemed > code.usage_limit:
        conflicts["usage_limit"] = _("already redeemed {count} times").format(count=code.redeemed)
    for name in ("starts_at", "ends_at"):
        if name in data:
            value = data[name]
            if value is None:
                setattr(code, name, None)
            elif not isinstance(value, datetime):
                errors[name] = _("an ISO time")
            else:
                setattr(code, name, clean_moment(value, field=name, errors=errors))
    if code.starts_at and code.ends_at and code.ends_at <= code.starts_at:
        if {"starts_at", "ends_at"} <= set(data):
            errors["ends_at"] = _("after starts_at")
        elif "ends_at" in data:
            conflicts["ends_at"] = _("after the code's starts_at, {moment}").format(
                moment=code.starts_at.isoformat()
            )
        else:
            conflicts["starts_at"] = _("before the code's ends_at, {moment}").format(
                moment=code.ends_at.isoformat()
            )


def _clean_target(
    code: DiscountCode, data: Mapping[str, Any], errors: dict[str, str], conflicts: dict[str, str]
) -> None:
    if "target" in data:
        code.target = data["target"]
        if code.target not in DiscountTarget.values:
            errors["target"] = _("one of {choices}").format(
                choices=", ".join(DiscountTarget.values)
            )
    for name, kind in (("target_skus", str), ("target_categories", int)):
        if name in data:
            value = data[name] or []
            if not isinstance(value, list) or not all(
                isinstance(v, kind) and not isinstance(v, bool) for v in value
            ):
                errors[name] = (
                    _("a list of SKUs") if kind is str else _("a list of category numbers")
                )
            setattr(code, name, value)
    if code.target == DiscountTarget.LINES and not (code.target_skus or code.target_categories):
        # Asked for with `target`, the lines are missing from the request; emptied without
        # it, they are what the code's lines target still needs.
        (errors if "target" in data else conflicts)["target_skus"] = _(
            "name the SKUs or categories the discount applies to"
        )


def _clean_code_fields(code: DiscountCode, data: Mapping[str, Any]) -> None:
    """Set `data` on the code. Invalid for a request that breaks a rule by itself; Conflict
    (naming the field) for one that is well formed but does not fit what the code keeps:
    its start or end, its lines target, how often it was redeemed."""
    errors: dict[str, str] = {}
    conflicts: dict[str, str] = {}
    if "kind" in data:
        code.kind = data["kind"]
        if code.kind not in DiscountKind.values:
            errors["kind"] = _("one of {choices}").format(choices=", ".join(DiscountKind.values))
    if code.kind == DiscountKind.PERCENT:
        if "percent" in data or code.percent is None:
            code.percent = _clean_percent(data.get("percent"), errors)
        code.amounts = {}
    elif code.kind == DiscountKind.FIXED:
        if "amounts" in data or not code.amounts:
            code.amounts = clean_amounts_by_currency(
                data.get("amounts"), field="amounts", errors=errors
            )
        code.percent = None
    else:
        code.percent, code.amounts = None, {}
    _clean_target(code, data, errors, conflicts)
    _clean_limits(code, data, errors, conflicts)
    if "is_active" in data:
        code.is_active = bool(data["is_active"])
    if "rules" in data:
        if data["rules"] is not None:
            try:
                check_rules(data["rules"])
            except Invalid as exc:
                errors.update(exc.fields)
        code.rules = data["rules"]
    if errors:
        raise Invalid(_("The discount code is not valid."), fields=errors)
    if conflicts:
        raise Conflict(_("The change does not fit the discount code as it is."), fields=conflicts)


@retry_on_deadlock
def create_discount_code(*, code: str, actor: Actor, **data: Any) -> DiscountCode:
    """One discount code; `data` holds any of CODE_FIELDS."""
    actor.require("promotions.add_discountcode")
    name = clean_code(code, field="code")
    if not name:
        raise Invalid(_("Give the code."), fields={"code": _("required")})
    found = DiscountCode(code=name)
    _clean_code_fields(found, data)
    try:
        with transaction.atomic():
            found.save()
    except IntegrityError:
        raise Conflict(
            _("The code {code} exists already.").format(code=name), fields={"code": _("taken")}
        ) from None
    return found


@retry_on_deadlock
@transaction.atomic
def generate_discount_codes(
    *, count: int, prefix: str = "", length: int = 8, actor: Actor, **data: Any
) -> list[DiscountCode]:
    """`count` unique random codes (`prefix` + `length` characters) sharing the settings."""
    actor.require("promotions.add_discountcode")
    errors: dict[str, str] = {}
    if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_GENERATED:
        errors["count"] = _("1 to {most}").format(most=f"{MAX_GENERATED:,}")
    low, high = GENERATED_LENGTH
    if isinstance(length, bool) or not isinstance(length, int) or not low <= length <= high:
        errors["length"] = _("{low} to {high} characters").format(low=low, high=high)
    prefix = normal_code(prefix)
    try:
        clean_code(prefix + "X", field="prefix")
        if len(prefix) > MAX_PREFIX:
            raise Invalid(_("too long"), fields={"prefix": _("too long")})
    except Invalid:
        errors["prefix"] = _("at most {most} letters, digits, '.', '-' or '_'").format(
            most=MAX_PREFIX
        )
    template = DiscountCode()
    _clean_code_fields(template, data)
    if errors:
        raise Invalid(_("The codes cannot be generated."), fields=errors)
    batch = f"{prefix or 'batch'}-{timezone.now():%Y%m%d%H%M%S}"
    wanted: set[str] = set()
    while len(wanted) < count:
        needed = count - len(wanted)
        fresh = {
            prefix + "".join(secrets.choice(ALPHABET) for _char in range(length))
            for _code in range(needed * 2)
        }
        fresh -= set(DiscountCode.objects.filter(code__in=fresh).values_list("code", flat=True))
        wanted |= set(sorted(fresh)[:needed])
    codes = []
    for name in sorted(wanted):
        row = DiscountCode(code=name, batch=batch)
        for attr in CODE_FIELDS:
            setattr(row, attr, getattr(template, attr))
        codes.append(row)
    return DiscountCode.objects.bulk_create(codes, batch_size=1000)


@retry_on_deadlock
def update_discount_code(
    *, code: DiscountCode, changes: Mapping[str, Any], actor: Actor
) -> DiscountCode:
    actor.require("promotions.change_discountcode")
    with transaction.atomic():
        code = DiscountCode.objects.select_for_update(no_key=True).get(pk=code.pk)
        _clean_code_fields(code, changes)
        code.save()
    return code


# --- Carts and the discount they get -------------------------------------------------------


def cart_of_input(*, data: OrderInput) -> Cart:
    """The cart an order payload describes, priced as the order would be (Invalid names the
    payload's bad fields under `order.`)."""
    try:
        prepared = prepare_order(data, Lookups.load([data]))
    except Invalid as exc:
        raise Invalid(
            _("The order is not valid."),
            fields={f"order.{k}": v for k, v in exc.fields.items()},
        ) from None
    return Cart(
        currency=prepared.order.currency,
        lines=[
            CartLine(ln.position, ln.sku, ln.category_number, ln.quantity, ln.total)
            for ln in prepared.lines
        ],
        customer_id=prepared.order.customer_id,
        metadata=prepared.order.metadata,
    )


def cart_of_order(*, order: Order) -> Cart:
    return Cart(
        currency=order.currency,
        lines=[
            CartLine(ln.position, ln.sku, ln.category_number, ln.quantity, ln.total)
            for ln in order.lines.all()
        ],
        customer_id=order.customer_id,
        metadata=order.metadata,
    )


@dataclass
class Validation:
    """Whether a code applies to a cart: the discount per line position, or the reasons."""

    code: str
    currency: str
    reasons: list[str] = field(default_factory=list)
    lines: dict[int, Decimal] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.reasons

    @property
    def discount(self) -> Decimal:
        return sum(self.lines.values(), ZERO)


def _eligible(code: DiscountCode, cart: Cart) -> list[CartLine]:
    if code.target == DiscountTarget.ORDER:
        return [ln for ln in cart.lines if ln.total > 0]
    return [
        ln
        for ln in cart.lines
        if ln.total > 0
        and (ln.sku in code.target_skus or ln.category_number in code.target_categories)
    ]


def _share(amount: Decimal, lines: list[CartLine], currency: str) -> dict[int, Decimal]:
    """`amount` (at most the lines' total) spread over the lines in proportion to their
    totals, in whole minor units: the one allocation over lines (`core.money.allocate`)."""
    ordered = sorted(lines, key=lambda ln: ln.position)
    parts = allocate(amount, [ln.total for ln in ordered], step=quantum(currency))
    return {ln.position: part for ln, part in zip(ordered, parts, strict=True)}


def _limits(code: DiscountCode, cart: Cart, at: datetime) -> list[str]:
    reasons = []
    if not code.is_active:
        reasons.append(_("the code is not active"))
    if code.starts_at and at < code.starts_at:
        reasons.append(
            _("the code is valid from {moment} UTC").format(
                moment=f"{code.starts_at:%Y-%m-%d %H:%M}"
            )
        )
    if code.ends_at and at >= code.ends_at:
        reasons.append(
            _("the code expired on {moment} UTC").format(moment=f"{code.ends_at:%Y-%m-%d %H:%M}")
        )
    if code.usage_limit is not None and code.redeemed >= code.usage_limit:
        reasons.append(_("the code was used up ({count} uses)").format(count=code.usage_limit))
    if code.per_customer_limit is not None:
        if cart.customer_id is None:
            reasons.append(_("the code is limited per customer; the order names no customer"))
        else:
            used = Redemption.objects.filter(
                code=code, customer_id=cart.customer_id, status=RedemptionStatus.ACTIVE
            ).count()
            if used >= code.per_customer_limit:
                reasons.append(
                    ngettext(
                        "this customer already used the code {count} time",
                        "this customer already used the code {count} times",
                        used,
                    ).format(count=used)
                )
    return reasons


def validate_code(*, code: DiscountCode, cart: Cart, at: datetime | None = None) -> Validation:
    """Whether `code` applies to `cart` now and what it takes off, or every reason it does not."""
    result = Validation(code=code.code, currency=cart.currency)
    result.reasons = _limits(code, cart, at or timezone.now()) + evaluate(code.rules, cart)
    eligible = _eligible(code, cart)
    if not eligible:
        result.reasons.append(
            _("no item in the cart is one the code applies to")
            if code.target == DiscountTarget.LINES
            else _("the cart has nothing to discount")
        )
    if code.kind == DiscountKind.FIXED and cart.currency not in code.amounts:
        result.reasons.append(
            _("the code has no amount in {currency}").format(currency=cart.currency)
        )
    if result.reasons:
        return result
    if code.kind == DiscountKind.PERCENT:
        result.lines = {
            ln.position: round_money(ln.total * code.percent / HUNDRED, cart.currency)
            for ln in eligible
        }
    elif code.kind == DiscountKind.FREE_ITEM:
        # The cheapest unit goes free (rounded down, so never more than the unit costs).
        cheapest = min(eligible, key=lambda ln: (ln.total / ln.quantity, ln.position))
        unit = (cheapest.total / cheapest.quantity).quantize(quantum(cart.currency), ROUND_DOWN)
        result.lines = {cheapest.position: unit}
    else:
        whole = sum((ln.total for ln in eligible), ZERO)
        amount = min(Decimal(code.amounts[cart.currency]), whole)
        result.lines = _share(amount, eligible, cart.currency)
    result.lines = {pos: amount for pos, amount in result.lines.items() if amount > 0}
    return result


def find_code(*, code: str, lock: bool = False) -> DiscountCode:
    rows = (
        DiscountCode.objects.select_for_update(no_key=True) if lock else DiscountCode.objects.all()
    )
    found = rows.filter(code=normal_code(code)).first()
    if found is None:
        raise NotFound(
            _("No discount code {code}.").format(code=repr(code)), fields={"code": _("not found")}
        )
    return found


# --- Redeeming and rolling back ------------------------------------------------------------


@retry_on_deadlock
@transaction.atomic
def redeem_code(*, order: Order, code: str, actor: Actor) -> Redemption:
    """Apply the code's discount to the order's lines and record the redemption; a code that
    does not apply is refused with every reason (Invalid on `code`)."""
    actor.require("promotions.add_redemption")
    order = lock_order(order=order)
    if Redemption.objects.filter(order=order, status=RedemptionStatus.ACTIVE).exists():
        raise Conflict(
            _("Order {number} already has a discount code.").format(number=order.number),
            fields={"code": _("one per order")},
        )
    found = find_code(code=code, lock=True)  # held to the end: usage limits hold under load
    result = validate_code(code=found, cart=cart_of_order(order=order))
    if not result.valid:
        raise Invalid(
            _("The code {code} does not apply: {reasons}.").format(
                code=found.code, reasons="; ".join(result.reasons)
            ),
            fields={"code": "; ".join(result.reasons)},
        )
    apply_discounts(order=order, discounts=result.lines, actor=actor, code=found.code)
    found.redeemed += 1
    found.save(update_fields=["redeemed", "updated_at"])
    return Redemption.objects.create(
        code=found,
        order=order,
        customer_id=order.customer_id,
        amount=result.discount,
        currency=order.currency,
        actor_label=actor.label[:150],
        actor_user=actor.user,
        redeemed_at=timezone.now(),
    )


def rollback_redemptions(*, order: Order, actor: Actor) -> list[Redemption]:
    """A cancelled order gives its code's use back (the lifecycle calls this).

    The codes are locked all at once, by primary key, before any is written: concurrent
    writers then always take them in the same order and cannot deadlock on them."""
    redemptions = list(
        Redemption.objects.filter(order=order, status=RedemptionStatus.ACTIVE).order_by("pk")
    )
    if not redemptions:
        return []
    codes = {
        code.pk: code
        for code in DiscountCode.objects.select_for_update(no_key=True)
        .filter(pk__in={r.code_id for r in redemptions})
        .order_by("pk")
    }
    for redemption in redemptions:
        code = codes[redemption.code_id]
        code.redeemed = max(code.redeemed - 1, 0)
        code.save(update_fields=["redeemed", "updated_at"])
        redemption.status = RedemptionStatus.ROLLED_BACK
        redemption.rolled_back_at = timezone.now()
        redemption.save(update_fields=["status", "rolled_back_at"])
        record_event(
            order,
            OrderEventKind.REDEMPTION_ROLLED_BACK,
            actor,
            code=code.code,
            amount=format_money(redemption.amount, redemption.currency),
        )
    return redemptions
