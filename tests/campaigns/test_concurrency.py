"""Concurrent changes of one creator's sales on PostgreSQL: the commission totals still equal
the sum over the approved conversions, and nothing deadlocks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordersight.campaigns import services
from ordersight.campaigns.models import Conversion, CreatorCommission
from ordersight.payments.models import Invoice
from ordersight.payments.services import refund_invoice
from tests.campaigns.conftest import SYSTEM, pay, place
from tests.threads import run_together

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _expected(creator) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for c in Conversion.objects.filter(creator=creator, approval="approved"):
        out[c.currency] = out.get(c.currency, Decimal(0)) + c.commission
    return out


def test_payments_refunds_and_rejections_racing_keep_totals_exact(world, bank):
    orders = [
        place("TEE-M", 1 + i % 3, coupon="ANNA10" if i % 2 else "anna-link") for i in range(12)
    ]
    conversions = {c.order_id: c for c in Conversion.objects.all()}

    def settle(index_order):
        index, order = index_order
        pay(order, bank)
        if index % 3 == 0:
            refund_invoice(
                invoice=Invoice.objects.get(order=order), amount=Decimal("5.00"), actor=SYSTEM
            )
        if index % 4 == 0:
            services.reject_conversion(conversion=conversions[order.pk], actor=SYSTEM)

    run_together(settle, list(enumerate(orders)))
    stored = {
        c.currency: c.commission
        for c in CreatorCommission.objects.filter(creator=world["anna"], campaign=world["spring"])
    }
    assert stored == _expected(world["anna"])
    assert Conversion.objects.filter(status="paid").count() == 12
    assert Conversion.objects.filter(approval="rejected").count() == 3
