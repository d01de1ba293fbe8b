"""The demo: deterministic data loaded once, an owner login, and a server plus worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from ordersight.catalog.models import Category, Offer
from ordersight.core.models import Sequence
from ordersight.customers.models import Customer
from ordersight.demo import load_demo_data
from ordersight.orders.models import Order, OrderEvent
from ordersight.payments.models import Invoice, Refund, WebhookEvent
from ordersight.promotions.models import Redemption
from ordersight.subscriptions.models import ChargeAttempt, RecurringEvent, RecurringOrder
from ordersight.sync.models import StoreConnection
from ordersight.sync.services import feed_status

pytestmark = pytest.mark.slow


@pytest.mark.django_db
def test_demo_data_has_the_promised_shape_and_loads_once():
    first = load_demo_data()
    assert first.created >= 2000
    assert Order.objects.count() >= 2000
    assert set(Order.objects.values_list("currency", flat=True)) == {"EUR", "USD", "GBP"}
    # 60 customers and 20 offers of its own, and what the demo store's feed brought in.
    assert Customer.objects.count() == 62
    assert Offer.objects.count() == 22 and Category.objects.count() == 5
    assert (
        Order.objects.filter(sales_manager__isnull=False).values("sales_manager").distinct().count()
        == 4
    )
    assert {"storefront", "api", "shopify", "manual"} <= set(
        Order.objects.values_list("source", flat=True)
    )
    assert {"standard", "draft", "quote"} <= set(Order.objects.values_list("order_type", flat=True))
    spread = Order.objects.order_by("created_at").values_list("created_at", flat=True)
    assert (spread.last() - spread.first()).days >= 100
    statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    assert {"completed", "open", "draft", "declined", "cancelled"} <= set(statuses)
    # The money trail: partial payments, failed attempts, one-click payments and refunds
    # across several payment systems.
    assert Order.objects.filter(status="completed", payment_status="partially_paid").exists()
    assert Invoice.objects.filter(installment__gt=1, status="succeeded").exists()
    assert Invoice.objects.filter(status="failed").count() > 100
    assert Invoice.objects.filter(paid_in_one_click=True).exists()
    assert Refund.objects.count() > 50 and Order.objects.filter(refund_status="full").exists()
    systems = Invoice.objects.filter(status="succeeded").values("payment_system").distinct()
    assert systems.count() >= 3
    assert Invoice.objects.exclude(buyer_comment="").exists()

    _every_state_is_shown()

    counts = (Order.objects.count(), OrderEvent.objects.count(), Customer.objects.count())
    again = load_demo_data()
    assert again.skipped and again.created == 0
    assert (Order.objects.count(), OrderEvent.objects.count(), Customer.objects.count()) == counts


def _every_state_is_shown() -> None:
    """What the pages must have to show: each state the issue lists, in the full demo."""
    awaiting = Order.objects.filter(status="open", payment_status="partially_paid")
    assert awaiting.count() >= 3
    assert all(order.can_be_confirmed for order in awaiting)
    sales = Order.objects.filter(status="completed", sales_manager__isnull=False)
    assert sales.filter(sales_confirmed_at__isnull=False).exists()
    assert sales.filter(sales_confirmed_at__isnull=True).exists()
    statuses = set(RecurringOrder.objects.values_list("status", flat=True))
    assert {"failed", "paused", "active"} <= statuses

    connection = StoreConnection.objects.get(name="Demo feed store")
    colours = {feed.kind: feed_status(feed=feed).colour for feed in connection.feeds.all()}
    assert colours == {"products": "green", "customers": "amber", "orders": "amber"}
    customers = connection.feeds.get(kind="customers")
    assert "1 error" in feed_status(feed=customers).text

    redeemed = sorted(Redemption.objects.values_list("redeemed_at", flat=True))
    assert len(redeemed) >= 10
    assert (redeemed[-1] - redeemed[0]).days >= 21  # spread over weeks, not one moment
    weeks = {moment.isocalendar()[:2] for moment in redeemed}
    assert len(weeks) >= 4

    # "This year" and last year's same dates both hold sales.
    now = timezone.now()
    this_year = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    last_year = this_year.replace(year=now.year - 1)
    same_day_last_year = now.replace(year=now.year - 1)
    completed = Order.objects.filter(status="completed")
    assert completed.filter(created_at__gte=this_year).count() > 100
    assert completed.filter(created_at__gte=last_year, created_at__lt=same_day_last_year).count()


def _demo_snapshot() -> list[tuple]:
    return list(
        Order.objects.order_by("external_id").values_list(
            "external_id", "total", "status", "payment_status", "refund_status"
        )
    )


@pytest.mark.django_db
def test_demo_is_deterministic():
    load_demo_data(order_count=150)
    snapshot = _demo_snapshot()
    RecurringEvent.objects.all().delete()
    ChargeAttempt.objects.all().delete()
    RecurringOrder.objects.all().delete()
    Sequence.objects.filter(name="recurring").delete()  # child orders' ids carry its numbers
    WebhookEvent.objects.all().delete()
    Refund.objects.all().delete()
    Invoice.objects.all().delete()
    Order.objects.all().delete()
    load_demo_data(order_count=150)
    assert _demo_snapshot() == snapshot


@pytest.mark.django_db
def test_demo_command_prints_a_working_owner_login(settings, tmp_path, client, monkeypatch):
    settings.DATA_DIR = tmp_path
    # The command sets these for the processes it starts (setdefault): named here, so they
    # are taken back after the test instead of reaching later tests' subprocesses.
    monkeypatch.setenv("SYNC_FILE_ROOT", str(tmp_path / "feeds"))
    monkeypatch.setenv("STOREFRONT_QUOTE_URL", "https://shop.example/account/quotes/{external_id}")
    out = StringIO()
    call_command("demo", "--no-serve", "--orders", "20", stdout=out)
    text = out.getvalue()
    password = text.split("password", 1)[1].split()[0]
    # The sign-in it prints is the staff app's, not the admin's.
    assert "sign in:  http://127.0.0.1:8000/login/  user owner" in text
    assert "/admin/" not in text
    signed_in = client.post("/login/", {"username": "owner", "password": password})
    assert signed_in.status_code == 302, signed_in.content
    # A sales manager of the demo signs in with the same password, to try that role.
    assert "sales managers ana, leo, mia, tom sign in with the same password" in text
    client.logout()
    as_manager = client.post("/login/", {"username": "ana", "password": password})
    assert as_manager.status_code == 302, as_manager.content
    # Running again prints the same login and loads nothing more.
    out2 = StringIO()
    call_command("demo", "--no-serve", "--orders", "20", stdout=out2)
    assert "Demo data already loaded." in out2.getvalue()
    assert f"password {password}" in out2.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


def _ignoring_ctrl_c() -> None:
    # As a shell without job control starts a background command: Ctrl-C must still stop it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_demo_serves_api_docs_and_admin_until_interrupted(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["ORDERSIGHT_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "ordersight", "demo", "--port", str(port), "--orders", "300"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_ignoring_ctrl_c,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                assert _get(f"{base}/api/docs") == 200
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert _get(f"{base}/admin/login/") == 200
        assert _get(f"{base}/static/ninja/swagger-ui-bundle.js") == 200
        # The CSV export streams through the ASGI server chunk by chunk.
        token = (
            subprocess.run(
                [sys.executable, "-m", "ordersight", "apikey", "create", "--name", "t"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        # The 300 one-off orders asked for (the demo's recurring orders add their own).
        request = urllib.request.Request(
            f"{base}/api/v1/orders/export.csv?recurring=false",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            rows = response.read().decode().splitlines()
        assert len(rows) == 1 + 300
        worker = subprocess.run(
            ["pgrep", "-f", "-s", str(process.pid), "run_huey"], capture_output=True, text=True
        )
        assert worker.stdout.strip(), "the Huey worker is not running"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            # The supervisor gives each of its two processes 10 s to stop, then kills it.
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # leave nothing running for the next test
            raise
    assert "password" in output
    left = subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True, text=True)
    assert not left.stdout.strip(), "Ctrl-C left a process running"


def test_the_worker_prints_each_line_once(tmp_path: Path):
    """Huey's lines appeared twice (its own handler and the root's console): once now."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"ORDERSIGHT_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"})
    run = [sys.executable, "-m", "ordersight"]
    subprocess.run([*run, "migrate", "--verbosity", "0"], env=env, check=True, timeout=300)
    worker = subprocess.Popen(
        [*run, "run_huey"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = worker.stdout.readline()
            lines.append(line)
            if "executed in" in line:  # the first periodic task has run
                break
    finally:
        worker.send_signal(signal.SIGINT)
        rest, _ = worker.communicate(timeout=30)
    lines += rest.splitlines()
    started = [line for line in lines if "Huey consumer started" in line]
    assert len(started) == 1, lines
    executed = [line.split("executed in")[0] for line in lines if "executed in" in line]
    assert executed and len(executed) == len(set(executed)), lines
