"""Property tests: whatever happens to invoices, the money invariants hold."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict, Invalid, Unavailable
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments import services
from ordersight.payments.models import Invoice, Refund
from ordersight.payments.selectors import payment_totals

SYSTEM = Actor.system()
TOKENS = [
    "tok_success",
    "tok_one_click",
    "tok_insufficient_funds",
    "tok_hard_decline",
    "tok_gateway_error",
]

operation = st.one_of(
    st.tuples(st.just("invoice"), st.integers(1, 4)),
    st.tuples(st.just("charge"), st.integers(0, 9), st.sampled_from(TOKENS)),
    st.tuples(st.just("manual"), st.integers(0, 3), st.integers(1, 40_000)),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 40_000)),
    st.tuples(st.just("retry"), st.integers(0, 9)),
    st.tuples(st.just("cancel"), st.integers(0, 3)),
)


def _expected_payment_status(net: Decimal, total: Decimal) -> str:
    if net <= 0:
        return "unpaid"
    return "partially_paid" if net < total else ("paid" if net == total else "overpaid")


def _check_invariants() -> None:
    by_currency: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"captured": Decimal(0), "refunded": Decimal(0)}
    )
    for invoice in Invoice.objects.all():
        refunds = sum((r.amount for r in invoice.refunds.all()), Decimal(0))
        assert refunds == invoice.refunded_amount, "a refund counted other than once"
        assert 0 <= invoice.refunded_amount <= invoice.amount
        if invoice.refunded_amount:
            assert invoice.status in ("succeeded", "refunded")
        assert (invoice.status == "refunded") == (
            invoice.refunded_amount == invoice.amount and invoice.refunded_amount > 0
        )
        if invoice.status in ("succeeded", "refunded"):
            assert invoice.funds_credited == invoice.amount - invoice.fee >= 0
            by_currency[invoice.currency]["captured"] += invoice.amount
            by_currency[invoice.currency]["refunded"] += invoice.refunded_amount
    for order in Order.objects.all():
        captured = sum(
            (i.amount for i in order.invoices.filter(status__in=("succeeded", "refunded"))),
            Decimal(0),
        )
        refunded = sum((r.amount for r in Refund.objects.filter(order=order)), Decimal(0))
        net = captured - refunded
        assert net >= 0
        assert order.payment_status == _expected_payment_status(net, order.total)
        expected_refund = (
            "none" if not refunded else ("full" if refunded == captured else "partial")
        )
        assert order.refund_status == expected_refund
        assert all(i.currency == order.currency for i in order.invoices.all())
        if order.payment_status in ("paid", "overpaid"):
            assert order.status in ("completed", "cancelled", "declined")
    totals = payment_totals(queryset=Invoice.objects.all())
    for currency, sums in by_currency.items():
        assert totals[currency]["captured"] == sums["captured"]
        assert totals[currency]["net"] == sums["captured"] - sums["refunded"]


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_money_invariants_hold_for_any_sequence(ops, catalog, card, bank):
    # Examples share one test transaction; start each from no orders at all.
    Refund.objects.all().delete()
    Invoice.objects.all().delete()
    Order.objects.all().delete()
    orders = [
        create_order(data=OrderInput(lines=[LineInput(sku="COURSE-1")]), actor=SYSTEM),
        create_order(data=OrderInput(lines=[LineInput(sku="TEE-M", quantity=3)]), actor=SYSTEM),
        create_order(
            data=OrderInput(
                currency="JPY", lines=[LineInput(name="Tea", unit_price=Decimal("4500"))]
            ),
            actor=SYSTEM,
        ),
    ]
    for op in ops:
        kind, *args = op
        invoices = list(Invoice.objects.filter(order__in=orders).order_by("number"))
        try:
            if kind == "invoice":
                order = orders[args[0] % len(orders)]
                services.issue_invoices(order=order, installments=args[0], actor=SYSTEM)
            elif kind == "charge" and invoices:
                services.charge_invoice(
                    invoice=invoices[args[0] % len(invoices)],
                    payment_system=card,
                    card_token=args[1],
                    actor=SYSTEM,
                )
            elif kind == "manual":
                order = orders[args[0] % len(orders)]
                places = 0 if order.currency == "JPY" else 2
                amount = Decimal(args[1]).scaleb(-places)
                services.record_manual_payment(
                    order=order, payment_system=bank, amount=amount, actor=SYSTEM
                )
            elif kind == "refund" and invoices:
                invoice = invoices[args[0] % len(invoices)]
                places = 0 if invoice.currency == "JPY" else 2
                before = (Refund.objects.count(), invoice.refunded_amount)
                try:
                    services.refund_invoice(
                        invoice=invoice, amount=Decimal(args[1]).scaleb(-places), actor=SYSTEM
                    )
                except (Invalid, Conflict):
                    invoice.refresh_from_db()
                    assert (Refund.objects.count(), invoice.refunded_amount) == before
            elif kind == "retry" and invoices:
                services.retry_invoice(invoice=invoices[args[0] % len(invoices)], actor=SYSTEM)
            elif kind == "cancel":
                from ordersight.orders.services import transition_order

                transition_order(order=orders[args[0] % len(orders)], to="cancelled", actor=SYSTEM)
        except (Invalid, Conflict, Unavailable):
            pass
        for order in orders:
            order.refresh_from_db()
        _check_invariants()
