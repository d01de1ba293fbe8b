"""Sales figures taken in after commit (SALES_FIGURES = "after-commit").

A change queues its order in its own transaction; `recount_queued` (run by `ordersight
keep_figures`) recounts the queue in batches. The figures then equal the raw rows, whatever
committed, rolled back, raced or crashed on the way, and the sales pages say how far behind
they are while they are.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from ordersight.core import live
from ordersight.core.actors import Actor
from ordersight.orders.attribution import confirm_sales_attribution
from ordersight.orders.ingest import upsert_orders
from ordersight.orders.models import Order
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order, transition_order
from ordersight.payments.services import refund_invoice
from ordersight.reports import selectors as reports
from ordersight.reports.models import QueuedRecount, ReportedOrder
from ordersight.reports.services import recount_queued, set_aside_oldest_queued
from tests import factories
from tests.reports.conftest import _paid_in_full, raw_figures, stored_figures
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system()
after_commit = override_settings(SALES_FIGURES="after-commit")


def _new_order(customer) -> Order:
    return create_order(
        data=OrderInput(
            lines=[LineInput(sku="WORKSHOP", quantity=2)],
            customer_id=customer.pk if customer is not None else None,
        ),
        actor=SYSTEM,
    )


def _drain() -> int:
    taken = 0
    while batch := recount_queued():
        taken += batch
    return taken


@after_commit
def test_a_committed_sale_is_counted_after_commit_and_a_rolled_back_one_never(shop):
    customer = factories.CustomerFactory()
    kept = _new_order(customer)
    transition_order(order=kept, to="completed", actor=SYSTEM)
    with pytest.raises(RuntimeError), transaction.atomic():
        gone = _new_order(customer)
        transition_order(order=gone, to="completed", actor=SYSTEM)
        raise RuntimeError("the request failed after the sale")

    # Committed, queued, not yet counted.
    assert list(QueuedRecount.objects.values_list("order_id", flat=True)) == [kept.pk]
    assert stored_figures() == {} and not ReportedOrder.objects.exists()

    assert _drain() == 1
    assert stored_figures() == raw_figures() != {}
    assert not QueuedRecount.objects.exists()
    assert recount_queued() == 0  # nothing left, nothing counted twice
    assert stored_figures() == raw_figures()


@after_commit
def test_payments_refunds_and_a_check_are_counted_once_each(shop):
    customer = factories.CustomerFactory()
    order = _new_order(customer)
    invoice = _paid_in_full(order, shop["bank"])
    _drain()
    refund_invoice(invoice=invoice, amount=Decimal("12.34"), actor=SYSTEM)
    order.refresh_from_db()
    confirm_sales_attribution(order=order, manager_id=None, actor=SYSTEM)
    assert QueuedRecount.objects.count() == 2  # the refund and the Check, one row each
    _drain()
    assert stored_figures() == raw_figures()
    kept = ReportedOrder.objects.get(pk=order.pk)
    assert kept.confirmed and kept.refunds == Decimal("12.34")


@after_commit
def test_open_dashboards_hear_when_the_figures_have_caught_up(shop):
    heard = []
    live.start_listening()
    unsubscribe = live.subscribe(lambda channel, message: heard.append((channel, message)))
    try:
        order = _new_order(factories.CustomerFactory())
        transition_order(order=order, to="completed", actor=SYSTEM)
        assert recount_queued() == 1
        deadline = time.monotonic() + 5
        while ("figures", {"event": "recounted", "count": 1}) not in heard:
            assert time.monotonic() < deadline, heard
            time.sleep(0.02)
    finally:
        unsubscribe()


@pytest.mark.postgres_only
@after_commit
def test_writers_racing_two_recounters_leave_every_sale_counted_once(shop):
    # Three customers' orders, and orders of nobody (which no customer lock keeps apart).
    customers = [factories.CustomerFactory(), factories.CustomerFactory(), None]
    orders = [_new_order(customers[i % 3]) for i in range(18)]
    done = []

    def settle(order):
        invoice = _paid_in_full(order, shop["bank"])
        refund_invoice(invoice=invoice, amount=Decimal("1.00"), actor=SYSTEM)
        done.append(order.pk)

    def recount_until_settled(_):
        # Small batches, so the recounters take rows while the writers still queue them.
        deadline = time.monotonic() + 120
        while len(done) < len(orders) or QueuedRecount.objects.exists():
            assert time.monotonic() < deadline, "the writers never finished"
            if not recount_queued(limit=3):
                time.sleep(0.01)

    jobs = [(settle, o) for o in orders] + [(recount_until_settled, None)] * 2
    run_together(lambda job: job[0](job[1]), jobs)
    assert len(done) == len(orders) and not QueuedRecount.objects.exists()
    assert stored_figures() == raw_figures()


@pytest.mark.postgres_only
@after_commit
def test_a_recount_passes_over_an_order_being_written_and_counts_it_next_time(shop):
    """A recounter reads only orders no writer holds: a recount from facts read before a
    change could otherwise land after that change's own recount (by another recounter)
    and put the older figures back. It neither waits for the writer nor makes it wait."""
    held, free = _new_order(None), _new_order(None)
    invoice = _paid_in_full(held, shop["bank"])
    transition_order(order=free, to="completed", actor=SYSTEM)
    writing, finish = threading.Event(), threading.Event()

    def refund_slowly(_):
        with transaction.atomic():
            refund_invoice(invoice=invoice, amount=Decimal("5.00"), actor=SYSTEM)
            writing.set()
            assert finish.wait(30)

    def queued_orders():
        return set(QueuedRecount.objects.values_list("order_id", flat=True))

    with ThreadPoolExecutor(max_workers=2) as pool:
        writer = pool.submit(lambda: run_together(refund_slowly, [None]))
        try:
            assert writing.wait(30)
            # A recount now finishes at once (it would wait for ever on the held order).
            counted = pool.submit(lambda: run_together(lambda _: recount_queued(), [None]))
            assert counted.result(timeout=20) == [1]  # the free order's completion
            assert queued_orders() == {held.pk}
            assert ReportedOrder.objects.filter(pk=free.pk).exists()
            assert not ReportedOrder.objects.filter(pk=held.pk).exists()
        finally:
            finish.set()
        writer.result(timeout=30)
    waiting = QueuedRecount.objects.count()  # its sale's changes and the refund
    assert waiting >= 2 and recount_queued() == waiting
    assert ReportedOrder.objects.get(pk=held.pk).refunds == Decimal("5.00")
    assert not queued_orders()
    assert stored_figures() == raw_figures()


@after_commit
def test_a_change_that_keeps_failing_is_set_aside_behind_the_others(shop):
    first, second = (_new_order(None) for _ in range(2))
    for order in (first, second):
        transition_order(order=order, to="completed", actor=SYSTEM)
    queued_at = QueuedRecount.objects.get(order_id=first.pk).queued_at
    assert set_aside_oldest_queued() == first.pk
    # Behind the others, and still as late as it was: the lag it causes is not hidden.
    assert QueuedRecount.objects.get(order_id=first.pk).queued_at == queued_at

    def queued():
        return list(QueuedRecount.objects.order_by("id").values_list("order_id", flat=True))

    assert queued() == [second.pk, first.pk]
    assert recount_queued(limit=1) == 1 and queued() == [first.pk]


def _queue_many_sales(count: int) -> None:
    customers = [factories.CustomerFactory() for _ in range(50)]
    items = [
        OrderInput(
            lines=[LineInput(sku="TEE-M", quantity=1 + i % 3), LineInput(sku="WORKSHOP")],
            customer_id=customers[i % len(customers)].pk,
            source="api",
            external_id=f"crash-{i}",
            status="completed",
        )
        for i in range(count)
    ]
    for start in range(0, count, 500):
        upsert_orders(items=items[start : start + 500], actor=SYSTEM)


def _keep_figures(*args: str) -> subprocess.Popen:
    settings_dict = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="ordersight.settings",
        SALES_FIGURES="after-commit",
        DATABASE_URL=os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + settings_dict["NAME"],
    )
    return subprocess.Popen(
        [sys.executable, "-m", "ordersight", "keep_figures", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.postgres_only
@after_commit
def test_a_recounter_killed_mid_batch_loses_and_doubles_nothing(shop):
    _queue_many_sales(3000)
    queued = QueuedRecount.objects.count()
    assert queued == 3000 and not ReportedOrder.objects.exists()

    worker = _keep_figures("--batch", "400")
    try:
        deadline = time.monotonic() + 120
        # Killed once it has committed a batch or two, while others remain: it is then most
        # likely inside a batch's transaction, and wherever it is must not matter.
        while QueuedRecount.objects.count() > queued - 800:
            assert worker.poll() is None, worker.stdout.read().decode()
            assert time.monotonic() < deadline, "the recounter took nothing"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    left = QueuedRecount.objects.count()
    assert 0 < left < queued
    # Half-counted: what committed is exact for its orders, the rest still queued.
    assert ReportedOrder.objects.count() == queued - left

    restarted = _keep_figures("--once")
    output, _ = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, output.decode()
    assert f"Took in {left:,} queued changes" in output.decode()
    assert not QueuedRecount.objects.exists()
    assert ReportedOrder.objects.count() == queued
    assert stored_figures() == raw_figures()


@pytest.mark.postgres_only
@after_commit
def test_a_recounter_told_to_stop_finishes_and_exits_cleanly(shop):
    worker = _keep_figures("--idle", "0.05")
    try:
        # Signalled once it is running (its handlers set), looking at the empty queue.
        assert worker.stdout.readline().decode().strip() == "Keeping the sales figures up to date."
        time.sleep(0.3)
        assert worker.poll() is None
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output.decode()


@after_commit
def test_the_sales_pages_say_how_far_the_figures_trail(shop, roles, monkeypatch):
    admin = factories.signed_in(roles, "Admin", "ops")
    customer = factories.CustomerFactory()
    order = _new_order(customer)
    transition_order(order=order, to="completed", actor=SYSTEM)
    # A moment behind is current: nothing is said (dated ahead, as a slow request may be).
    QueuedRecount.objects.update(queued_at=timezone.now() + timedelta(seconds=10))
    assert 'data-testid="figures-lag"' not in admin.get("/").content.decode()

    QueuedRecount.objects.update(queued_at=timezone.now() - timedelta(seconds=30))
    QueuedRecount.objects.create(order_id=order.pk)
    for page in ("/", "/sales/report/"):
        html = admin.get(page).content.decode()
        assert 'data-testid="figures-lag"' in html, page
        # 30 s ago when queued; a few seconds may have passed since.
        assert re.search(r"trail the orders by 3[0-5] s: 2 changes are still being counted", html)

    QueuedRecount.objects.update(queued_at=timezone.now() - timedelta(minutes=5))
    QueuedRecount.objects.filter(pk=QueuedRecount.objects.order_by("id").last().pk).delete()
    html = admin.get("/").content.decode()
    assert "trail the orders by 5\xa0minutes: 1 change is still being counted" in html

    # A count that stopped short says so.
    monkeypatch.setattr(reports, "LAG_COUNTED_UP_TO", 1)
    assert "by 5\xa0minutes: 1+ change is still being counted" in admin.get("/").content.decode()

    _drain()
    assert 'data-testid="figures-lag"' not in admin.get("/").content.decode()


def test_the_recounter_runs_beside_the_worker_only_after_commit(settings):
    from ordersight.management.processes import worker_commands

    def started():
        return [command[-1] for command in worker_commands()]

    settings.SALES_FIGURES = "in-transaction"
    assert started() == ["run_huey"]
    settings.SALES_FIGURES = "after-commit"
    assert started() == ["run_huey", "keep_figures"]


@after_commit
def test_the_report_api_says_how_far_the_figures_trail(shop, api):
    order = _new_order(factories.CustomerFactory())
    transition_order(order=order, to="completed", actor=SYSTEM)
    reports_read = (("reports/performance", {}), ("reports/sales", {"group_by": "currency"}))
    # Queued a moment ago (dated ahead, so a slow request still finds it recent).
    QueuedRecount.objects.update(queued_at=timezone.now() + timedelta(seconds=10))
    for path, params in reports_read:
        answer = api.get(path, **params)
        assert answer.status_code == 200, answer.content
        assert answer.json()["figures_lag"] is None, path

    queued_at = timezone.now() - timedelta(seconds=90)
    QueuedRecount.objects.update(queued_at=queued_at)
    for path, params in reports_read:
        lag = api.get(path, **params).json()["figures_lag"]
        assert lag["waiting"] == 1 and 90 <= lag["seconds"] <= 95, (path, lag)
        # The API writes moments whole.
        assert datetime.fromisoformat(lag["since"]) == queued_at, (path, lag)
