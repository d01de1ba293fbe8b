"""Attribution by code and by link; statuses following the order; commissions exact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ordersight.campaigns import services
from ordersight.campaigns.models import Conversion, ConversionEvent, CreatorCommission
from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict, Forbidden
from ordersight.orders.services import transition_order, update_order
from ordersight.payments.models import Invoice
from ordersight.payments.services import refund_invoice
from tests.campaigns.conftest import SYSTEM, pay, place, totals

pytestmark = pytest.mark.django_db


def test_a_coupon_code_ties_the_order_to_its_creator_whatever_its_case(world):
    order = place(coupon=" Anna10 ")
    conversion = Conversion.objects.get(order=order)
    assert (conversion.creator, conversion.campaign) == (world["anna"], world["spring"])
    assert (conversion.via, conversion.code, conversion.status) == ("coupon", "ANNA10", "pending")
    assert conversion.approval == "approved"
    assert conversion.commission == 0  # not paid yet
    assert ConversionEvent.objects.filter(conversion=conversion, kind="attributed").exists()


def test_an_affiliate_link_code_ties_the_order_too(world):
    conversion = Conversion.objects.get(order=place(ref="anna-link"))
    assert (conversion.creator, conversion.via) == (world["anna"], "link")


def test_the_coupon_wins_over_the_link_when_both_name_a_creator(world):
    conversion = Conversion.objects.get(order=place(coupon="BEN", ref="anna-link"))
    assert conversion.creator == world["ben"]


def test_unknown_codes_and_orders_outside_the_campaign_are_not_attributed(world):
    place(coupon="NOBODY")
    place(coupon="CLEO", at=datetime(2027, 1, 2, tzinfo=UTC))  # after Flat ended
    place(coupon="ANNA10", at=datetime(2025, 12, 31, 12, tzinfo=UTC))  # before she joined
    place()
    assert not Conversion.objects.exists()


def test_an_order_whose_code_is_cleared_stays_its_creators_and_a_refund_still_counts(world, bank):
    """Clearing an order's code later does not take the sale from its creator (Reject
    does), and the conversion goes on following the order: a full refund takes the
    commission back rather than leaving it paid."""
    order = pay(place(coupon="ANNA10"), bank)
    assert totals(world["spring"], world["anna"]) == {"EUR": Decimal("1.9900")}
    update_order(order=order, changes={"coupon_code": ""}, actor=SYSTEM)
    invoice = Invoice.objects.get(order=order)
    refund_invoice(invoice=invoice, amount=invoice.amount, actor=SYSTEM)
    conversion = Conversion.objects.get(order=order)
    assert conversion.status == "refunded" and conversion.commission == 0
    assert totals(world["spring"], world["anna"]) == {"EUR": Decimal("0")}


def test_paying_the_order_makes_the_conversion_paid_with_its_commission(world, bank):
    order = pay(place("TEE-M", 2, coupon="ANNA10"), bank)  # 2 × 19.90
    conversion = Conversion.objects.get(order=order)
    assert conversion.status == "paid"
    assert conversion.gross == Decimal("39.80")
    assert conversion.commission == Decimal("3.98")
    assert conversion.fees == Decimal("0.80")  # 2 % of 39.80, rounded
    assert conversion.units == 2
    assert totals(world["spring"], world["anna"]) == {"EUR": Decimal("3.98")}


def test_a_fixed_commission_is_per_order_in_its_currency(world, bank):
    pay(place("TEE-M", 3, coupon="CLEO"), bank)
    pay(place("COURSE-1", coupon="CLEO"), bank)
    assert totals(world["flat"], world["cleo"]) == {"EUR": Decimal("5.00"), "USD": Decimal("6")}


def test_cancelling_the_order_cancels_the_conversion_and_its_commission(world, bank):
    order = place(coupon="ANNA10")
    transition_order(order=order, to="cancelled", actor=SYSTEM)
    conversion = Conversion.objects.get(order=order)
    assert conversion.status == "canceled"
    assert conversion.commission == 0
    event = conversion.events.get(kind="status_changed")
    assert event.payload == {"from": "pending", "to": "canceled"}


def test_a_partial_refund_reduces_the_commission_base(world, bank):
    order = pay(place("TEE-M", 2, coupon="ANNA10"), bank)
    invoice = Invoice.objects.get(order=order)
    refund_invoice(invoice=invoice, amount=Decimal("9.80"), actor=SYSTEM)
    conversion = Conversion.objects.get(order=order)
    assert (conversion.status, conversion.refunds) == ("paid", Decimal("9.80"))
    assert conversion.commission == Decimal("3.00")  # 10 % of 30.00
    assert totals(world["spring"], world["anna"]) == {"EUR": Decimal("3.00")}
    row = CreatorCommission.objects.get(campaign=world["spring"], creator=world["anna"])
    assert (row.sales, row.net_sales) == (1, Decimal("30.00"))


def test_a_full_refund_makes_the_conversion_refunded_and_earns_nothing(world, bank):
    order = pay(place(coupon="CLEO"), bank)
    refund_invoice(invoice=Invoice.objects.get(order=order), amount=Decimal("19.90"), actor=SYSTEM)
    conversion = Conversion.objects.get(order=order)
    assert (conversion.status, conversion.commission) == ("refunded", 0)
    assert totals(world["flat"], world["cleo"]) == {"EUR": Decimal("0")}


def test_reject_and_undo_move_the_commission_by_exactly_the_conversion(world, bank, roles):
    first = pay(place("TEE-M", 2, coupon="ANNA10"), bank)
    pay(place("TEE-L", coupon="ANNA10"), bank)  # 21.50 → 2.15
    assert totals(world["spring"], world["anna"]) == {"EUR": Decimal("6.13")}
    conversion = Conversion.objects.get(order=first)
    services.reject_conversion(conversion=conversion, actor=SYSTEM, reason="own purchase")
    assert totals(world["spring"], world["anna"]) == {"EUR": Decimal("2.15")}
    with pytest.raises(Conflict):
        services.reject_conversion(conversion=conversion, actor=SYSTEM)
    services.undo_rejection(conversion=conversion, actor=SYSTEM)
    assert totals(world["spring"], world["anna"]) == {"EUR": Decimal("6.13")}
    kinds = list(conversion.events.values_list("kind", "actor_label"))
    assert ("rejected", "system") in kinds and ("approved", "system") in kinds


def test_approval_needs_the_permission(world, bank):
    from tests import factories

    order = pay(place(coupon="ANNA10"), bank)
    nobody = Actor(user=factories.UserFactory())
    with pytest.raises(Forbidden):
        services.reject_conversion(conversion=Conversion.objects.get(order=order), actor=nobody)
    assert Conversion.objects.get(order=order).approval == "approved"


def test_totals_always_equal_the_sum_over_approved_conversions(world, bank):
    orders = [pay(place("TEE-M", n, coupon="ANNA10"), bank) for n in (1, 2, 3)]
    services.reject_conversion(conversion=Conversion.objects.get(order=orders[1]), actor=SYSTEM)
    refund_invoice(invoice=Invoice.objects.get(order=orders[2]), amount=Decimal("10"), actor=SYSTEM)
    approved = Conversion.objects.filter(creator=world["anna"], approval="approved")
    expected = sum((c.commission for c in approved), Decimal(0))
    assert totals(world["spring"], world["anna"]) == {"EUR": expected}
    assert expected == Decimal("1.99") + Decimal("4.97")  # 10 % of 19.90 and of 49.70


def test_a_new_commission_rule_recomputes_every_conversion(world, bank):
    pay(place("TEE-M", 2, coupon="ANNA10"), bank)
    services.update_campaign(
        campaign=world["spring"], changes={"commission_percent": "25"}, actor=SYSTEM
    )
    assert totals(world["spring"], world["anna"]) == {"EUR": Decimal("9.95")}


def test_bulk_ingest_attributes_each_order_once_even_when_sent_again(world, bank):
    from ordersight.orders.ingest import upsert_orders
    from ordersight.orders.pricing import LineInput, OrderInput

    def batch():
        return [
            OrderInput(
                lines=[LineInput(sku="TEE-M")],
                source="shopify",
                external_id=f"shop-{i}",
                coupon_code=code,
                created_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
            )
            for i, code in enumerate(["ANNA10", "BEN", "", "CLEO", "NOBODY"])
        ]

    upsert_orders(items=batch(), actor=SYSTEM)
    upsert_orders(items=batch(), actor=SYSTEM)
    creators = sorted(Conversion.objects.values_list("creator__handle", flat=True))
    assert creators == ["anna", "ben", "cleo"]


def test_a_code_added_later_attributes_the_order_then(world, bank):
    from ordersight.orders.services import update_order

    order = place()
    assert not Conversion.objects.exists()
    update_order(order=order, changes={"referral_code": "anna-link"}, actor=SYSTEM)
    conversion = Conversion.objects.get(order=order)
    assert (conversion.creator, conversion.via) == (world["anna"], "link")
