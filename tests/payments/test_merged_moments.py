"""A payment that completes an order records two moments; the figures hear them once."""

from __future__ import annotations

from ordersight import lifecycle as declared
from ordersight.core.actors import Actor
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order
from ordersight.payments.services import record_manual_payment

SYSTEM = Actor.system()


def test_a_payment_that_completes_an_order_recounts_its_figures_once(catalog, bank, monkeypatch):
    heard: list[list[str]] = []
    recount = declared.recount_sales.many

    def recount_and_note(changes, facts):
        heard.append([change.moment.value for change in changes])
        recount(changes, facts)

    monkeypatch.setattr(declared.recount_sales, "many", recount_and_note)
    order = create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=SYSTEM)
    heard.clear()
    record_manual_payment(order=order, payment_system=bank, actor=SYSTEM)
    order.refresh_from_db()
    assert order.status == "completed"
    assert heard == [["payment_settled", "completed"]]
