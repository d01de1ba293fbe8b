"""Concurrent writers on PostgreSQL: the rollups still equal the raw rows."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, transaction

from ordersight.core.actors import Actor
from ordersight.customers.models import Customer
from ordersight.orders.attribution import assign_sales_manager, confirm_sales_attributions
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order, lock_order, transition_order
from ordersight.payments.services import refund_invoice
from ordersight.reports.models import SalesRollup
from tests import factories
from tests.reports.conftest import _paid_in_full, raw_figures, stored_figures
from tests.threads import run_together

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system()


def test_two_first_sales_of_one_customer_at_once_count_one_new_customer(shop):
    customer = factories.CustomerFactory()
    orders = [
        create_order(
            data=OrderInput(lines=[LineInput(sku="TEE-M")], customer_id=customer.pk), actor=SYSTEM
        )
        for _ in range(2)
    ]
    run_together(lambda o: transition_order(order=o, to="completed", actor=SYSTEM), orders)
    total = SalesRollup.objects.filter(dimension="total", grain="d", source="*")
    assert sum(r.new_customers for r in total) == 1
    assert stored_figures() == raw_figures()


def test_payments_refunds_and_completions_racing_keep_rollups_exact(shop):
    customers = [factories.CustomerFactory() for _ in range(3)]
    orders = [
        create_order(
            data=OrderInput(
                lines=[LineInput(sku="WORKSHOP", quantity=2)], customer_id=customers[i % 3].pk
            ),
            actor=SYSTEM,
        )
        for i in range(12)
    ]

    def settle(order):
        invoice = _paid_in_full(order, shop["bank"])
        refund_invoice(invoice=invoice, amount=Decimal("12.34"), actor=SYSTEM)

    run_together(settle, orders)
    assert stored_figures() == raw_figures()
    total = SalesRollup.objects.filter(dimension="total", grain="d", source="*")
    assert sum(r.new_customers for r in total) == 3


def test_a_first_sale_moving_does_not_lock_the_other_order_at_commit(shop):
    """Completing an earlier order of a customer rewrites the kept row of the customer's
    later sale (no longer the first, now with a previous sale) without locking that order.
    Meanwhile a payment of the later order holds its row and then wants the customer: the
    recount must commit without waiting for that order, or the two deadlock."""
    customer = factories.CustomerFactory()
    earlier, later = (
        create_order(
            data=OrderInput(lines=[LineInput(sku="WORKSHOP")], customer_id=customer.pk),
            actor=SYSTEM,
        )
        for _ in range(2)
    )
    transition_order(order=later, to="completed", actor=SYSTEM)
    later_locked, earlier_done = threading.Event(), threading.Event()

    def work(role: str) -> str:
        if role == "complete earlier":
            assert later_locked.wait(10)
            transition_order(order=earlier, to="completed", actor=SYSTEM)
            earlier_done.set()
            return "completed"
        with transaction.atomic():
            lock_order(order=later)
            later_locked.set()
            # Give the other transaction time to reach its commit, then want the customer.
            earlier_done.wait(3)
            Customer.objects.select_for_update().get(pk=customer.pk)
        return "locked"

    assert run_together(work, ["complete earlier", "pay later"]) == ["completed", "locked"]
    assert stored_figures() == raw_figures()
    total = SalesRollup.objects.filter(dimension="total", grain="d", source="*")
    assert sum(r.new_customers for r in total) == 1


def test_a_check_and_a_completion_of_the_same_customer_keep_rollups_exact(shop, roles):
    """A "Check" moves a kept sale between sales managers' rows while a completion of the
    customer's earlier order rewrites that kept sale (no longer the first sale). Both lock
    the customer before reading it: the completion, started while the Check is still open,
    waits, and then counts the later sale as checked, not as it was."""
    manager = factories.UserFactory(username="mia")
    manager.groups.add(roles["Sales manager"])
    customer = factories.CustomerFactory()
    earlier, later = (
        create_order(
            data=OrderInput(lines=[LineInput(sku="WORKSHOP")], customer_id=customer.pk),
            actor=SYSTEM,
        )
        for _ in range(2)
    )
    transition_order(order=later, to="completed", actor=SYSTEM)
    assign_sales_manager(order=later, manager_id=manager.pk, actor=SYSTEM)
    checked = threading.Event()

    def work(role: str) -> str:
        if role == "check":
            with transaction.atomic():
                confirm_sales_attributions(order_ids=[later.pk], actor=SYSTEM)
                checked.set()
                # Commit only once the completion waits for a lock this transaction holds
                # (the customer's, or without it a row the Check wrote).
                assert _someone_waits_for_a_lock(), "the completion never waited"
            return "checked"
        assert checked.wait(10)
        transition_order(order=earlier, to="completed", actor=SYSTEM)
        return "completed"

    assert run_together(work, ["check", "complete"]) == ["checked", "completed"]
    assert stored_figures() == raw_figures()
    confirmed = SalesRollup.objects.filter(
        dimension="sales_manager", grain="d", source="*", key=str(manager.pk), confirmed=True
    )
    assert sum(r.orders for r in confirmed) == 1
    # The kept sale agrees too: the next move starts from the row the Check left.
    assign_sales_manager(order=later, manager_id=None, actor=SYSTEM)
    assert stored_figures() == raw_figures()


def _someone_waits_for_a_lock() -> bool:
    """Whether another session of this database waits for a lock, within 10 seconds, asked
    on a connection of its own (a transaction sees the activity as it was at its start)."""

    def watch() -> bool:
        try:
            for _ in range(200):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                    if cursor.fetchone()[0]:
                        return True
                time.sleep(0.05)
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(watch).result()
