"""Real worker processes against a fake Stripe: two at once, and one killed mid-charge.

Double charges are counted on the provider's side (its ledger of charges made), and on ours
(succeeded invoices per payment).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from ordersight.core.actors import Actor
from ordersight.payments.models import Invoice, InvoiceStatus, PaymentSystem
from ordersight.subscriptions.billing import run_attempt
from ordersight.subscriptions.models import (
    AttemptStatus,
    ChargeAttempt,
    RecurringOrder,
    RecurringStatus,
)
from ordersight.subscriptions.services import create_recurring_order
from tests.fakes.stripe import SECRET_KEY, FakeStripe

from .conftest import START

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stripe(settings):
    fake = FakeStripe(delay=0.002).start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    yield fake
    fake.stop()


@pytest.fixture
def started(stripe, catalog, customer):
    """Recurring orders whose initial payment was made; all due again a month later."""
    system = PaymentSystem.objects.create(code="stripe", name="Stripe", provider="stripe")

    def make(count: int) -> list[RecurringOrder]:
        made = []
        for _ in range(count):
            recurring, attempt = create_recurring_order(
                customer=customer,
                offer=catalog["tee"],
                amount=Decimal("12.50"),
                currency="EUR",
                interval_count=1,
                interval_unit="month",
                total_payments=None,
                payment_system=system,
                payment_token="pm_card_visa",
                actor=Actor.system(),
                at=START,
            )
            assert run_attempt(attempt=attempt, at=START, actor=Actor.system()).result == "charged"
            recurring.refresh_from_db()
            made.append(recurring)
        return made

    return make


def _worker_env(stripe: FakeStripe) -> dict[str, str]:
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="ordersight.settings",
        DATABASE_URL=os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        + "/"
        + connection.settings_dict["NAME"],
        STRIPE_API_BASE=stripe.url,
        STRIPE_SECRET_KEY=SECRET_KEY,
    )


def _billing_worker(stripe: FakeStripe, at) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ordersight", "billing", "run", "--at", at.isoformat()],
        env=_worker_env(stripe),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _second_payment_charges(stripe: FakeStripe) -> Counter:
    return Counter(
        {key: n for key, n in stripe.ledger.charges_per_key().items() if key.endswith("-2-1")}
    )


def test_two_workers_charge_each_due_payment_exactly_once(stripe, started):
    made = started(60)
    due = made[0].next_payment_at
    workers = [_billing_worker(stripe, due), _billing_worker(stripe, due)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs

    charged_lines = [
        line for out, _ in outputs for line in out.splitlines() if line.startswith("charged")
    ]
    assert len(charged_lines) == 60  # between them, each payment once
    per_key = _second_payment_charges(stripe)
    assert len(per_key) == 60 and set(per_key.values()) == {1}  # provider: zero doubles
    succeeded = Counter(
        Invoice.objects.filter(
            status=InvoiceStatus.SUCCEEDED, order__metadata__payment=2
        ).values_list("order__metadata__recurring_order", flat=True)
    )
    assert len(succeeded) == 60 and set(succeeded.values()) == {1}  # ours: zero doubles
    assert set(RecurringOrder.objects.values_list("payments_made", flat=True)) == {2}


def _wait_for_dead_transactions_to_end(timeout: float = 10) -> None:
    """PostgreSQL rolls back a killed client's transaction once it sees the socket close."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError("the killed worker's transaction is still open")


def test_worker_killed_after_the_gateway_charged_is_finished_without_a_second_charge(
    stripe, started
):
    (recurring,) = started(1)
    due = recurring.next_payment_at
    stripe.hold()
    worker = _billing_worker(stripe, due)
    assert stripe.held.wait(60), "the worker never reached the gateway"
    # The provider has charged; the worker waits for the answer and has not committed.
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(30)
    stripe.release()
    assert _second_payment_charges(stripe) == Counter({f"recurring-{recurring.pk}-2-1": 1})
    _wait_for_dead_transactions_to_end()

    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.PROCESSING and recurring.payments_made == 1
    (attempt,) = ChargeAttempt.objects.filter(recurring_order=recurring, cycle=2)
    assert attempt.status == AttemptStatus.PENDING and attempt.order_id is None

    # The next run (a minute later) asks again with the same key and records that charge.
    rerun = _billing_worker(stripe, due + timedelta(minutes=1))
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert "1 charged" in out
    assert stripe.ledger.replays >= 1
    assert _second_payment_charges(stripe) == Counter({f"recurring-{recurring.pk}-2-1": 1})
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert attempt.transaction_id == stripe.ledger.charges[-1].intent_id
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.ACTIVE and recurring.payments_made == 2
    assert Invoice.objects.filter(order=attempt.order, status=InvoiceStatus.SUCCEEDED).count() == 1
