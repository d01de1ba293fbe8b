"""Usage limits under concurrency on PostgreSQL: 20 checkouts race for the last 5 uses."""

from __future__ import annotations

import pytest

from ordersight.core.errors import Invalid
from ordersight.promotions import services
from ordersight.promotions.models import DiscountCode, Redemption
from tests import factories
from tests.promotions.conftest import SYSTEM, pay, place
from tests.threads import run_together

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_redemptions_of_a_code_with_five_uses_left_give_five(catalog):
    services.create_discount_code(
        code="LAST5", kind="percent", percent="10", usage_limit=7, actor=SYSTEM
    )
    for _ in range(2):  # two uses already taken
        services.redeem_code(order=place(), code="LAST5", actor=SYSTEM)
    orders = [place(customer=factories.CustomerFactory()) for _ in range(20)]

    def redeem(order):
        try:
            services.redeem_code(order=order, code="LAST5", actor=SYSTEM)
            return "redeemed"
        except Invalid as exc:
            return exc.fields["code"]

    outcomes = run_together(redeem, orders)
    assert outcomes.count("redeemed") == 5
    assert all("used up (7 uses)" in o for o in outcomes if o != "redeemed")
    assert DiscountCode.objects.get().redeemed == 7
    assert Redemption.objects.filter(status="active").count() == 7


def test_figures_stay_exact_when_one_customers_orders_complete_at_once(catalog):
    from ordersight.payments.models import PaymentSystem
    from ordersight.promotions.models import CustomerFigures, CustomerSpend

    bank = PaymentSystem.objects.create(code="bank", name="Bank", provider="manual")
    customer = factories.CustomerFactory()
    orders = [place("TEE-M", 1 + i % 3, customer=customer) for i in range(10)]
    run_together(lambda o: pay(o, bank), orders)
    spend = CustomerSpend.objects.get(customer=customer)
    assert spend.orders == 10
    assert spend.spent == sum(o.total for o in orders)
    assert CustomerFigures.objects.get(customer=customer).orders == 10
