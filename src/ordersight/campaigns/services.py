"""Every write of creator campaigns: creators, campaigns, members and their codes;
conversions attributed and kept current from the order lifecycle; approval; commissions.

A creator's commission totals (`CreatorCommission`) are never written by hand: after any
change to a conversion, `recompute_commissions` sums that creator's approved conversions in
that campaign again. Locks are taken in one order everywhere (the order, then its
conversion, then the creator), so concurrent changes of one creator's sales queue up
instead of deadlocking, and each recount sees the others' committed rows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ordersight.campaigns.models import (
    SALE_STATUSES,
    Approval,
    Campaign,
    CodeKind,
    CommissionKind,
    Conversion,
    ConversionEvent,
    ConversionEventKind,
    ConversionStatus,
    Creator,
    CreatorCode,
    CreatorCommission,
    Membership,
)
from ordersight.core.actors import Actor
from ordersight.core.bulk import update_many
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import Conflict, Invalid
from ordersight.core.live import publish_after_commit
from ordersight.core.money import round_money
from ordersight.core.validation import (
    clean_amounts_by_currency,
    clean_code,
    clean_email,
    clean_metadata,
)
from ordersight.core.zones import local_day
from ordersight.orders.models import Order, OrderStatus, RefundStatus
from ordersight.payments.facts import FactsOfOrders, OrderFacts

LIVE_CHANNEL = "campaigns"
APPROVE = "campaigns.approve_conversion"
HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# A creator's address is /creators/{handle}; these name the list's own pages instead.
RESERVED_HANDLES = frozenset({"export.csv"})
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def _name(value: str | None, errors: dict[str, str], field: str = "name") -> str:
    name = (value or "").strip()
    if not 0 < len(name) <= 200:
        errors[field] = _("1 to 200 characters")
    return name


# --- Creators ------------------------------------------------------------------------------


def _clean_creator(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in data:
        clean["name"] = _name(data["name"], errors)
    if "handle" in data:
        handle = (data["handle"] or "").strip().lstrip("@").lower()
        if not HANDLE.match(handle):
            errors["handle"] = _("1 to 64 letters, digits, '.', '-' or '_' (e.g. anna.cooks)")
        elif handle in RESERVED_HANDLES:
            errors["handle"] = _("{handle} is the address of the creators' export").format(
                handle=handle
            )
        clean["handle"] = handle
    for field, cleaner in (("email", clean_email), ("payout", clean_metadata)):
        if field in data:
            try:
                clean[field] = cleaner(data[field], field=field)
            except Invalid as exc:
                errors.update(exc.fields)
    return clean


def _save_creator(creator: Creator) -> Creator:
    try:
        with transaction.atomic():
            creator.save()
    except IntegrityError:
        raise Conflict(
            _("A creator with the handle @{handle} exists already.").format(handle=creator.handle),
            fields={"handle": _("already taken")},
        ) from None
    return creator


def create_creator(
    *, name: str, handle: str, email: str = "", payout: Any = None, actor: Actor
) -> Creator:
    actor.require("campaigns.add_creator")
    errors: dict[str, str] = {}
    clean = _clean_creator(
        {"name": name, "handle": handle, "email": email, "payout": payout}, errors
    )
    if errors:
        raise Invalid(_("The creator is not valid."), fields=errors)
    return _save_creator(Creator(**clean))


def update_creator(*, creator: Creator, changes: Mapping[str, Any], actor: Actor) -> Creator:
    """Change a creator's name, handle, email or payout details; others keep their values."""
    actor.require("campaigns.change_creator")
    errors: dict[str, str] = {}
    clean = _clean_creator(changes, errors)
    if errors:
        raise Invalid(_("The changes are not valid."), fields=errors)
    for name, value in clean.items():
        setattr(creator, name, value)
    return _save_creator(creator)


# --- Campaigns -----------------------------------------------------------------------------


def _percent(value: Any, errors: dict[str, str]) -> Decimal | None:
    try:
        percent = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors["commission_percent"] = _("a number from 0 to 100")
        return None
    if not percent.is_finite() or not ZERO < percent <= HUNDRED:
        errors["commission_percent"] = _("greater than 0 and at most 100")
    elif percent.as_tuple().exponent < -4:  # type: ignore[operator]
        errors["commission_percent"] = _("at most 4 decimal places")
    return percent


def _clean_rule(data: Mapping[str, Any], campaign: Campaign, errors: dict[str, str]) -> None:
    """Set the commission rule from `data` (kind, percent or fixed amounts) on `campaign`."""
    kind = data.get("commission_kind", campaign.commission_kind)
    if kind not in CommissionKind.values:
        errors["commission_kind"] = _("one of {choices}").format(
            choices=", ".join(CommissionKind.values)
        )
        return
    campaign.commission_kind = kind
    if kind == CommissionKind.PERCENT:
        value = data.get("commission_percent", campaign.commission_percent)
        if value is None:
            errors["commission_percent"] = _("required for a percent commission")
        else:
            campaign.commission_percent = _percent(value, errors)
        campaign.fixed_commissions = {}
    else:
        value = data.get("fixed_commissions", campaign.fixed_commissions)
        campaign.fixed_commissions = clean_amounts_by_currency(
            value, field="fixed_commissions", errors=errors
        )
        campaign.commission_percent = None


def _clean_campaign(data: Mapping[str, Any], campaign: Campaign) -> None:
    errors: dict[str, str] = {}
    if "name" in data:
        campaign.name = _name(data["name"], errors)
    for field in ("starts_on", "ends_on"):
        if field in data:
            value = data[field]
            if value is not None and not isinstance(value, date):
                errors[field] = _("a date, YYYY-MM-DD")
            else:
                setattr(campaign, field, value)
    conflicts: dict[str, str] = {}
    if campaign.starts_on is None and "starts_on" not in errors:
        errors["starts_on"] = _("required")
    elif campaign.ends_on and campaign.starts_on and campaign.ends_on < campaign.starts_on:
        if {"starts_on", "ends_on"} <= set(data):
            errors["ends_on"] = _("on or after starts_on")
        elif "ends_on" in data:
            conflicts["ends_on"] = _("on or after the campaign's starts_on, {day}").format(
                day=campaign.starts_on
            )
        else:
            conflicts["starts_on"] = _("on or before the campaign's ends_on, {day}").format(
                day=campaign.ends_on
            )
    if {"commission_kind", "commission_percent", "fixed_commissions"} & set(data):
        _clean_rule(data, campaign, errors)
    if errors:
        raise Invalid(_("The campaign is not valid."), fields=errors)
    if conflicts:
        # The change is well formed; the dates it keeps from the campaign are what it
        # does not fit.
        raise Conflict(_("The change does not fit the campaign's dates."), fields=conflicts)


def _save_campaign(campaign: Campaign) -> Campaign:
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:
        raise Conflict(
            _("A campaign named {name} exists already.").format(name=repr(campaign.name)),
            fields={"name": _("already taken")},
        ) from None
    return campaign


def create_campaign(
    *,
    name: str,
    starts_on: date,
    ends_on: date | None = None,
    commission_kind: str,
    commission_percent: Any = None,
    fixed_commissions: Any = None,
    actor: Actor,
) -> Campaign:
    actor.require("campaigns.add_campaign")
    campaign = Campaign()
    data: dict[str, Any] = {
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "commission_kind": commission_kind,
    }
    if commission_kind == CommissionKind.PERCENT or commission_percent is not None:
        data["commission_percent"] = commission_percent
    if commission_kind == CommissionKind.FIXED or fixed_commissions is not None:
        data["fixed_commissions"] = fixed_commissions
    _clean_campaign(data, campaign)
    return _save_campaign(campaign)


@retry_on_deadlock
@transaction.atomic
def update_campaign(*, campaign: Campaign, changes: Mapping[str, Any], actor: Actor) -> Campaign:
    """Change a campaign; a new commission rule recomputes every conversion's commission
    (and so every member's totals)."""
    actor.require("campaigns.change_campaign")
    campaign = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
    rule_before = (
        campaign.commission_kind,
        campaign.commission_percent,
        dict(campaign.fixed_commissions),
    )
    _clean_campaign(changes, campaign)
    _save_campaign(campaign)
    rule_after = (campaign.commission_kind, campaign.commission_percent, campaign.fixed_commissions)
    if rule_after != rule_before:
        _recompute_campaign_commissions(campaign)
    return campaign


def _recompute_campaign_commissions(campaign: Campaign) -> None:
    changed: list[Conversion] = []
    creators: set[int] = set()
    for conversion in Conversion.objects.filter(campaign=campaign).select_for_update(no_key=True):
        commission = commission_for(
            campaign=campaign,
            status=conversion.status,
            currency=conversion.currency,
            net=conversion.net,
        )
        if commission != conversion.commission:
            conversion.commission = commission
            changed.append(conversion)
            creators.add(conversion.creator_id)
    if changed:
        update_many(Conversion, changed, ["commission"])
        recompute_commissions(pairs={(campaign.pk, creator) for creator in creators})
        publish_after_commit(LIVE_CHANNEL, {"campaign": campaign.pk, "event": "rule"})


# --- Members and codes ---------------------------------------------------------------------


def _take_code(membership: Membership, kind: str, raw: str) -> CreatorCode:
    field = "coupon_codes" if kind == CodeKind.COUPON else "link_codes"
    code = clean_code(raw, field=field)
    if not code:
        raise Invalid(_("A code cannot be empty."), fields={field: _("empty code")})
    found = CreatorCode.objects.select_related("membership").filter(code=code).first()
    if found is None:
        return CreatorCode.objects.create(membership=membership, kind=kind, code=code)
    old = found.membership
    # A creator back in a campaign takes their own old codes along; nobody else ever can.
    if (
        old.campaign_id == membership.campaign_id
        and old.creator_id == membership.creator_id
        and found.kind == kind
    ):
        found.membership = membership
        found.save(update_fields=["membership"])
        return found
    if old.pk == membership.pk:
        return found
    raise Conflict(
        _("The code {code} is taken.").format(code=code),
        fields={field: _("{code} is taken").format(code=code)},
    )


@retry_on_deadlock
@transaction.atomic
def add_member(
    *,
    campaign: Campaign,
    creator: Creator,
    coupon_codes: Iterable[str] = (),
    link_codes: Iterable[str] = (),
    actor: Actor,
    at: datetime | None = None,
) -> Membership:
    """Put a creator in a campaign (or give a current member more codes)."""
    actor.require("campaigns.change_campaign")
    Creator.objects.select_for_update(no_key=True).filter(pk=creator.pk).first()
    membership = Membership.objects.filter(
        campaign=campaign, creator=creator, removed_at__isnull=True
    ).first()
    if membership is None:
        membership = Membership.objects.create(
            campaign=campaign, creator=creator, joined_at=at or timezone.now()
        )
    for kind, codes in ((CodeKind.COUPON, coupon_codes), (CodeKind.LINK, link_codes)):
        for code in codes:
            _take_code(membership, kind, code)
    publish_after_commit(LIVE_CHANNEL, {"campaign": campaign.pk, "event": "member"})
    return membership


@retry_on_deadlock
@transaction.atomic
def remove_member(
    *, campaign: Campaign, creator: Creator, actor: Actor, at: datetime | None = None
) -> Membership:
    """Take a creator out of a campaign: their codes stop attributing, the campaign's views
    stop showing their sales, and the global totals keep them."""
    actor.require("campaigns.change_campaign")
    membership = (
        Membership.objects.select_for_update(no_key=True)
        .filter(campaign=campaign, creator=creator, removed_at__isnull=True)
        .first()
    )
    if membership is None:
        raise Conflict(
            _("@{handle} is not in the campaign {name}.").format(
                handle=creator.handle, name=repr(campaign.name)
            ),
            fields={"creator": _("not a current member")},
        )
    membership.removed_at = at or timezone.now()
    membership.save(update_fields=["removed_at"])
    publish_after_commit(LIVE_CHANNEL, {"campaign": campaign.pk, "event": "member"})
    return membership


# --- Conversions ---------------------------------------------------------------------------


def conversion_status(*, order: OrderFacts, refunds: Decimal) -> str:
    """The live status a conversion shows for its order and what was refunded of it (read
    from the invoices: the lifecycle hears of a refund before the order's refund status)."""
    if order.status in (OrderStatus.CANCELLED, OrderStatus.DECLINED):
        return ConversionStatus.CANCELED
    if order.status == OrderStatus.COMPLETED:
        if order.refund_status == RefundStatus.FULL or (order.total and refunds >= order.total):
            return ConversionStatus.REFUNDED
        return ConversionStatus.PAID
    return ConversionStatus.PENDING


def commission_for(*, campaign: Campaign, status: str, currency: str, net: Decimal) -> Decimal:
    """What the campaign's rule gives for one sale: nothing unless it is Paid; a percent of
    the net value (after refunds), or the fixed amount set for the order's currency."""
    if status != ConversionStatus.PAID:
        return ZERO
    if campaign.commission_kind == CommissionKind.PERCENT:
        percent = campaign.commission_percent or ZERO
        return round_money(max(net, ZERO) * percent / HUNDRED, currency)
    fixed = campaign.fixed_commissions.get(currency)
    return Decimal(fixed) if fixed else ZERO


def _apply_order(conversion: Conversion, order: OrderFacts) -> bool:
    """Bring a conversion in line with its order's facts (status, units, and the refunds,
    fees and funds credited of the invoices that took money); True if anything changed."""
    values = {
        "status": conversion_status(order=order, refunds=order.refunded),
        "ordered_at": order.created_at,
        "day": local_day(order.created_at),
        "currency": order.currency,
        "source": order.source,
        "order_type": order.order_type,
        "gross": order.total,
        "units": order.units,
        "refunds": order.refunded,
        "fees": order.fees,
        "funds_credited": order.funds_credited,
    }
    values["commission"] = commission_for(
        campaign=conversion.campaign,
        status=values["status"],
        currency=order.currency,
        net=order.net,
    )
    changed = False
    for name, value in values.items():
        if getattr(conversion, name) != value:
            setattr(conversion, name, value)
            changed = True
    return changed


def _matching_membership(order: OrderFacts, codes: Mapping[str, CreatorCode]) -> CreatorCode | None:
    """The code that ties the order to a member: the coupon first, then the link; the member
    must have been in the campaign when the order was placed, within the campaign's dates."""
    day = local_day(order.created_at)
    for code in (order.coupon_code, order.referral_code):
        found = codes.get(code) if code else None
        if found is None:
            continue
        membership, campaign = found.membership, found.membership.campaign
        joined = membership.joined_at <= order.created_at and (
            membership.removed_at is None or order.created_at < membership.removed_at
        )
        running = campaign.starts_on <= day and (
            campaign.ends_on is None or day <= campaign.ends_on
        )
        if joined and running:
            return found
    return None


def _event(
    conversion: Conversion, kind: str, actor: Actor, at: datetime, **payload: Any
) -> ConversionEvent:
    return ConversionEvent(
        conversion=conversion,
        kind=kind,
        actor_label=actor.label[:150],
        actor_user=actor.user,
        payload=payload,
        created_at=at,
    )


def track_orders(
    *,
    orders: Sequence[Order],
    actor: Actor,
    new_order_ids: Collection[int] = (),
    facts: FactsOfOrders | None = None,
) -> None:
    """The order lifecycle's hook: attribute orders that came with a creator's code, and bring
    every tracked order's conversion up to date (status, figures, commission). Orders in
    `new_order_ids` were created in this transaction; `facts` are those the lifecycle read
    for every projection (else they are read here)."""
    coded_ids = {order.pk for order in orders if order.coupon_code or order.referral_code}
    # An order stays its creator's once tied, whatever later becomes of its codes (an edit
    # that clears them): its conversion goes on following it, so a refund still lowers the
    # commission; Reject is how a sale leaves a creator. An order created just now without
    # a code has no conversion to follow.
    uncoded = [
        order.pk for order in orders if order.pk not in coded_ids and order.pk not in new_order_ids
    ]
    tied = set(
        Conversion.objects.filter(order_id__any=uncoded).values_list("order_id", flat=True)
        if uncoded
        else ()
    )
    if not coded_ids and not tied:
        return
    # From the orders' facts, not the service's objects: the figures must be what the
    # database now holds (a refund's new status, a payment's new state).
    facts = facts or FactsOfOrders()
    coded = facts.of(coded_ids | tied)
    now = timezone.now()
    existing = {
        c.order_id: c
        for c in Conversion.objects.select_for_update(no_key=True, of=("self",))
        .select_related("campaign")
        .filter(order_id__in=coded)
    }
    new = [order for pk, order in coded.items() if pk not in existing]
    events: list[ConversionEvent] = []
    touched: set[tuple[int, int]] = set()
    changed: list[Conversion] = []
    for order_id, conversion in existing.items():
        before = conversion.status
        if _apply_order(conversion, coded[order_id]):
            changed.append(conversion)
            touched.add((conversion.campaign_id, conversion.creator_id))
            if conversion.status != before:
                events.append(
                    _event(
                        conversion,
                        ConversionEventKind.STATUS_CHANGED,
                        actor,
                        now,
                        to=conversion.status,
                        **{"from": before},
                    )
                )
    for conversion in changed:
        conversion.save()
    created = _attribute(new, actor, now, events)
    touched |= {(c.campaign_id, c.creator_id) for c in created}
    ConversionEvent.objects.bulk_create(events)
    if touched:
        recompute_commissions(pairs=touched)
        numbers = [coded[c.order_id].number for c in [*changed, *created]]
        campaigns = sorted({campaign for campaign, _creator in touched})
        publish_after_commit(
            LIVE_CHANNEL, {"event": "conversions", "campaigns": campaigns, "orders": numbers}
        )


def _attribute(
    orders: Sequence[OrderFacts],
    actor: Actor,
    at: datetime,
    events: list[ConversionEvent],
) -> list[Conversion]:
    wanted = {code for order in orders for code in (order.coupon_code, order.referral_code) if code}
    if not wanted:
        return []
    codes = {
        c.code: c
        for c in CreatorCode.objects.select_related("membership__campaign").filter(code__in=wanted)
    }
    created: list[Conversion] = []
    for order in orders:
        found = _matching_membership(order, codes)
        if found is None:
            continue
        membership = found.membership
        conversion = Conversion(
            order_id=order.pk,
            campaign=membership.campaign,
            creator_id=membership.creator_id,
            membership=membership,
            via=found.kind,
            code=found.code,
            gross=order.total,
        )
        _apply_order(conversion, order)
        created.append(conversion)
    Conversion.objects.bulk_create(created)
    for conversion in created:
        events.append(
            _event(
                conversion,
                ConversionEventKind.ATTRIBUTED,
                actor,
                at,
                code=conversion.code,
                via=conversion.via,
                status=conversion.status,
            )
        )
    return created


def _lock_conversion(conversion: Conversion) -> Conversion:
    return (
        Conversion.objects.select_for_update(no_key=True, of=("self",))
        .select_related("order", "campaign", "creator")
        .get(pk=conversion.pk)
    )


def _set_approval(
    conversion: Conversion, approval: str, kind: str, actor: Actor, reason: str = ""
) -> Conversion:
    actor.require(APPROVE)
    if len(reason) > 500:
        raise Invalid(_("The reason is too long."), fields={"reason": _("at most 500 characters")})
    conversion = _lock_conversion(conversion)
    if conversion.approval == approval:
        raise Conflict(
            _("The conversion of order {number} is already {approval}.").format(
                number=conversion.order.number, approval=approval
            ),
            fields={"approval": conversion.approval},
        )
    conversion.approval = approval
    conversion.save(update_fields=["approval", "updated_at"])
    payload = {"reason": reason} if reason else {}
    _event(conversion, kind, actor, timezone.now(), **payload).save()
    recompute_commissions(pairs={(conversion.campaign_id, conversion.creator_id)})
    publish_after_commit(
        LIVE_CHANNEL,
        {
            "event": "approval",
            "campaigns": [conversion.campaign_id],
            "orders": [conversion.order.number],
        },
    )
    return conversion


@retry_on_deadlock
@transaction.atomic
def reject_conversion(*, conversion: Conversion, actor: Actor, reason: str = "") -> Conversion:
    """Exclude a sale from the creator's commission (needs `campaigns.approve_conversion`)."""
    return _set_approval(
        conversion, Approval.REJECTED, ConversionEventKind.REJECTED, actor, reason.strip()
    )


@retry_on_deadlock
@transaction.atomic
def undo_rejection(*, conversion: Conversion, actor: Actor) -> Conversion:
    """Approve a rejected conversion again; the commission counts once more."""
    return _set_approval(conversion, Approval.APPROVED, ConversionEventKind.APPROVED, actor)


# --- Commission totals ---------------------------------------------------------------------

_NET = ExpressionWrapper(F("gross") - F("refunds"), output_field=DecimalField())


def recompute_commissions(*, pairs: Collection[tuple[int, int]]) -> None:
    """Sum each (campaign, creator)'s conversions again into their `CreatorCommission` rows."""
    if not pairs:
        return
    pairs = set(pairs)
    creators = sorted({creator for _campaign, creator in pairs})
    # One writer per creator at a time (see the module's note on lock order).
    list(
        Creator.objects.select_for_update(no_key=True)
        .filter(pk__in=creators)
        .order_by("pk")
        .values("pk")
    )
    campaigns = {campaign for campaign, _creator in pairs}
    approved = Q(approval=Approval.APPROVED)
    sums = (
        Conversion.objects.filter(campaign_id__in=campaigns, creator_id__in=creators)
        .values("campaign_id", "creator_id", "currency")
        .annotate(
            sales=Count("pk", filter=approved & Q(status__in=SALE_STATUSES)),
            net_sales=Sum(_NET, filter=approved & Q(status__in=SALE_STATUSES)),
            commission=Sum("commission", filter=approved),
            rejected=Count("pk", filter=Q(approval=Approval.REJECTED)),
        )
    )
    fresh = {
        (row["campaign_id"], row["creator_id"], row["currency"]): row
        for row in sums
        if (row["campaign_id"], row["creator_id"]) in pairs
    }
    stored = {
        (c.campaign_id, c.creator_id, c.currency): c
        for c in CreatorCommission.objects.filter(
            campaign_id__in=campaigns, creator_id__in=creators
        )
        if (c.campaign_id, c.creator_id) in pairs
    }
    for key, row in fresh.items():
        values = {
            "sales": row["sales"],
            "net_sales": row["net_sales"] or ZERO,
            "commission": row["commission"] or ZERO,
            "rejected": row["rejected"],
        }
        found = stored.pop(key, None)
        if found is None:
            CreatorCommission.objects.create(
                campaign_id=key[0], creator_id=key[1], currency=key[2], **values
            )
        elif any(getattr(found, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(found, name, value)
            found.save()
    if stored:
        CreatorCommission.objects.filter(pk__in=[c.pk for c in stored.values()]).delete()
