"""Each billing rule, run with the injected clock (months of schedule in a few passes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from ordersight.core.actors import Actor
from ordersight.core.errors import Conflict
from ordersight.orders.models import Order, OrderStatus
from ordersight.payments.models import Invoice, InvoiceStatus
from ordersight.subscriptions.billing import billing_pass
from ordersight.subscriptions.models import (
    AttemptStatus,
    ChargeAttempt,
    RecurringEventKind,
    RecurringOrder,
    RecurringStatus,
)
from ordersight.subscriptions.services import (
    activate_recurring_order,
    pause_recurring_order,
    replace_payment_method,
    set_retry_intervals,
)

from .conftest import START

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def child_orders(recurring) -> list[Order]:
    ids = (
        ChargeAttempt.objects.filter(recurring_order=recurring, order__isnull=False)
        .order_by("cycle", "attempt")
        .values_list("order_id", flat=True)
    )
    seen: list[int] = []
    for pk in ids:
        if pk not in seen:
            seen.append(pk)
    return [Order.objects.get(pk=pk) for pk in seen]


def test_initial_payment_makes_it_active_with_the_initial_order_first(subscribe):
    recurring, outcome = subscribe()
    assert outcome.result == "charged"
    assert recurring.status == RecurringStatus.ACTIVE
    assert recurring.payments_made == 1 and recurring.payments_remaining == 2
    assert recurring.started_at == START
    (initial,) = child_orders(recurring)
    assert recurring.initial_order == initial
    assert initial.status == OrderStatus.COMPLETED
    assert initial.total == Decimal("25.00") and initial.currency == "EUR"
    assert initial.order_type == "recurring" and initial.source == "subscription"
    assert initial.created_at == START
    invoice = Invoice.objects.get(order=initial)
    assert invoice.status == InvoiceStatus.SUCCEEDED and invoice.payment_system.name == "Acme Cards"
    assert recurring.next_payment_at == utc(2026, 2, 28, 9, 0)


def test_month_end_dates_clamp_without_drifting(subscribe):
    recurring, _ = subscribe(total=5)
    due = []
    at = START
    for _ in range(4):
        at = recurring.next_payment_at
        due.append(at)
        report = billing_pass(at=at)
        assert report.count("charged") == 1
        recurring.refresh_from_db()
    assert due == [
        utc(2026, 2, 28, 9, 0),
        utc(2026, 3, 31, 9, 0),
        utc(2026, 4, 30, 9, 0),
        utc(2026, 5, 31, 9, 0),
    ]


def test_nothing_is_charged_before_it_is_due(subscribe):
    recurring, _ = subscribe()
    report = billing_pass(at=recurring.next_payment_at - timedelta(seconds=1))
    assert report.outcomes == []
    recurring.refresh_from_db()
    assert recurring.payments_made == 1 and recurring.status == RecurringStatus.ACTIVE


def test_completed_by_itself_after_the_last_payment(subscribe):
    recurring, _ = subscribe(total=3, unit="week", count=2)
    billing_pass(at=START + timedelta(weeks=2))
    billing_pass(at=START + timedelta(weeks=4))
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.COMPLETED
    assert recurring.payments_made == 3 and recurring.payments_remaining == 0
    assert recurring.next_payment_at is None
    assert billing_pass(at=START + timedelta(weeks=6)).outcomes == []
    orders = child_orders(recurring)
    assert [o.created_at for o in orders] == [
        START,
        START + timedelta(weeks=2),
        START + timedelta(weeks=4),
    ]
    assert all(o.status == OrderStatus.COMPLETED for o in orders)
    kinds = list(recurring.events.values_list("kind", flat=True))
    assert (
        kinds.count(RecurringEventKind.CHARGED) == 3 and kinds[-1] == RecurringEventKind.COMPLETED
    )


def test_open_ended_keeps_going(subscribe):
    recurring, _ = subscribe(total=None, unit="day", count=1)
    for day in range(1, 11):
        billing_pass(at=START + timedelta(days=day))
    recurring.refresh_from_db()
    assert recurring.payments_made == 11 and recurring.payments_remaining is None
    assert recurring.status == RecurringStatus.ACTIVE


def _fail_from_now_on(recurring, token: str = "tok_insufficient_funds") -> None:
    replace_payment_method(recurring=recurring, payment_token=token, actor=SYSTEM)


def test_retries_at_the_configured_intervals_then_failed(subscribe):
    set_retry_intervals(intervals=["30m", "2h"], actor=SYSTEM)
    recurring, _ = subscribe()
    _fail_from_now_on(recurring)
    due = recurring.next_payment_at

    first = billing_pass(at=due)
    assert first.count("retry") == 1
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.ACTIVE
    assert recurring.next_payment_at == due + timedelta(minutes=30)
    # Not before the interval has passed.
    assert billing_pass(at=due + timedelta(minutes=29)).outcomes == []

    second = billing_pass(at=due + timedelta(minutes=30))
    assert second.count("retry") == 1
    recurring.refresh_from_db()
    assert recurring.next_payment_at == due + timedelta(minutes=30, hours=2)

    third = billing_pass(at=due + timedelta(minutes=30, hours=2))
    assert third.count("failed") == 1
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.FAILED
    assert recurring.next_payment_at is None and recurring.payments_made == 1

    attempts = ChargeAttempt.objects.filter(recurring_order=recurring, cycle=2)
    assert [(a.attempt, a.status) for a in attempts] == [
        (1, AttemptStatus.FAILED),
        (2, AttemptStatus.FAILED),
        (3, AttemptStatus.FAILED),
    ]
    # The three attempts are three failed invoices of one child order, now declined.
    _initial, second_payment = child_orders(recurring)
    assert second_payment.status == OrderStatus.DECLINED
    assert list(second_payment.invoices.values_list("status", flat=True)) == ["failed"] * 3
    assert billing_pass(at=due + timedelta(days=30)).outcomes == []


def test_default_retry_intervals_are_one_then_three_days(subscribe):
    recurring, _ = subscribe()
    _fail_from_now_on(recurring)
    due = recurring.next_payment_at
    billing_pass(at=due)
    recurring.refresh_from_db()
    assert recurring.next_payment_at == due + timedelta(days=1)
    billing_pass(at=due + timedelta(days=1))
    recurring.refresh_from_db()
    assert recurring.next_payment_at == due + timedelta(days=4)


def test_a_retry_that_succeeds_resumes_the_schedule(subscribe):
    recurring, _ = subscribe()
    _fail_from_now_on(recurring)
    due = recurring.next_payment_at
    billing_pass(at=due)
    _fail_from_now_on(recurring, "tok_success")
    billing_pass(at=due + timedelta(days=1))
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.ACTIVE
    assert recurring.payments_made == 2 and recurring.failed_attempts == 0
    # Dates stay on the start's schedule: 31 March, not a day after the retry.
    assert recurring.next_payment_at == utc(2026, 3, 31, 9, 0)
    second = child_orders(recurring)[1]
    assert second.status == OrderStatus.COMPLETED
    assert list(second.invoices.values_list("status", flat=True)) == ["failed", "succeeded"]


def test_paused_is_not_charged_and_catches_up_within_minutes_of_activation(subscribe):
    recurring, _ = subscribe()
    due = recurring.next_payment_at
    pause_recurring_order(recurring=recurring, actor=SYSTEM, at=due - timedelta(days=1))
    assert billing_pass(at=due + timedelta(days=3)).outcomes == []
    activated_at = due + timedelta(days=5)
    activate_recurring_order(recurring=recurring, actor=SYSTEM, at=activated_at)
    recurring.refresh_from_db()
    assert recurring.next_payment_at == activated_at
    # The periodic pass runs every minute: the next one charges it.
    report = billing_pass(at=activated_at + timedelta(minutes=1))
    assert report.count("charged") == 1
    recurring.refresh_from_db()
    assert recurring.payments_made == 2
    assert child_orders(recurring)[1].created_at <= activated_at + timedelta(minutes=10)
    # The schedule goes on from the start's dates still ahead, without charging missed ones.
    assert recurring.next_payment_at == utc(2026, 3, 31, 9, 0)


def test_initial_payment_declined_never_starts(subscribe):
    recurring, outcome = subscribe(token="tok_hard_decline")
    assert outcome.result == "failed"
    assert recurring.status == RecurringStatus.FAILED and recurring.started_at is None
    (initial,) = child_orders(recurring)
    assert initial.status == OrderStatus.DECLINED
    with pytest.raises(Conflict):
        activate_recurring_order(recurring=recurring, actor=SYSTEM)


def test_gateway_outage_keeps_it_processing_and_asks_again_with_the_same_key(subscribe):
    recurring, _ = subscribe()
    _fail_from_now_on(recurring, "tok_gateway_error")
    due = recurring.next_payment_at
    report = billing_pass(at=due)
    assert report.count("unavailable") == 1
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.PROCESSING
    (attempt,) = ChargeAttempt.objects.filter(recurring_order=recurring, cycle=2)
    assert attempt.status == AttemptStatus.PENDING and attempt.gateway_errors == 1
    # The provider is back (the test gateway's outage is tied to the token, so the token is
    # swapped under the hood: a person may not change a card while a charge is in flight).
    RecurringOrder.objects.filter(pk=recurring.pk).update(payment_token="tok_success")
    report = billing_pass(at=due + timedelta(minutes=5))
    assert report.count("charged") == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.attempt == 1
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.ACTIVE and recurring.payments_made == 2


def test_billing_command_runs_a_pass_as_of_a_time(subscribe, capsys):
    recurring, _ = subscribe()
    call_command("billing", "run", "--at", "2026-03-01T00:00:00")
    out = capsys.readouterr().out
    assert f"recurring order {recurring.number} payment 2" in out
    assert "1 charged, 0 retry, 0 failed, 0 unavailable" in out
    recurring.refresh_from_db()
    assert recurring.payments_made == 2


def test_an_offer_that_left_the_catalog_fails_its_own_recurring_orders_only(subscribe, catalog):
    from ordersight.catalog.models import Variant

    kept, _ = subscribe()
    gone, _ = subscribe(offer=catalog["course"], amount="30.00")
    Variant.objects.filter(offer=catalog["course"]).update(is_active=False)
    report = billing_pass(at=kept.next_payment_at)
    assert report.count("charged") == 1 and report.count("failed") == 1
    kept.refresh_from_db()
    gone.refresh_from_db()
    assert kept.payments_made == 2 and kept.status == RecurringStatus.ACTIVE
    assert gone.status == RecurringStatus.FAILED and not gone.needs_new_payment_method
    (attempt,) = ChargeAttempt.objects.filter(recurring_order=gone, cycle=2)
    assert attempt.failure_code == "order_invalid" and attempt.order_id is None


def test_a_refunded_child_order_is_noted_and_the_schedule_goes_on(subscribe):
    from ordersight.payments.services import refund_invoice

    recurring, _ = subscribe()
    invoice = Invoice.objects.get(order=recurring.initial_order)
    refund_invoice(invoice=invoice, amount=Decimal("25.00"), actor=SYSTEM)
    event = recurring.events.order_by("-id").first()
    assert event.kind == RecurringEventKind.CHILD_ORDER_REFUNDED
    assert event.payload["order"] == recurring.initial_order.number
    assert event.payload["payment"] == 1
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.ACTIVE and recurring.payments_made == 1


def test_cancelling_the_open_order_of_a_payment_being_retried_stops_the_retries(subscribe):
    from ordersight.orders.services import transition_order

    recurring, _ = subscribe()
    _fail_from_now_on(recurring)
    billing_pass(at=recurring.next_payment_at)
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.ACTIVE and recurring.failed_attempts == 1
    retrying = child_orders(recurring)[1]
    assert retrying.status == OrderStatus.OPEN
    transition_order(order=retrying, to=OrderStatus.CANCELLED, actor=SYSTEM)
    recurring.refresh_from_db()
    assert recurring.status == RecurringStatus.FAILED and recurring.next_payment_at is None
    kinds = list(recurring.events.values_list("kind", flat=True))
    assert kinds[-2:] == [RecurringEventKind.CHILD_ORDER_CANCELLED, RecurringEventKind.FAILED]
    assert billing_pass(at=recurring.created_at + timedelta(days=90)).outcomes == []


def test_orders_that_are_not_child_orders_leave_recurring_orders_alone(subscribe, catalog):
    from ordersight.orders.pricing import LineInput, OrderInput
    from ordersight.orders.services import create_order, transition_order

    recurring, _ = subscribe()
    before = recurring.events.count()
    other = create_order(data=OrderInput(lines=[LineInput(sku="TEE-M")]), actor=SYSTEM)
    transition_order(order=other, to=OrderStatus.CANCELLED, actor=SYSTEM)
    assert recurring.events.count() == before


def test_the_worker_runs_a_billing_pass_every_minute(subscribe, monkeypatch):
    from django.utils import timezone
    from huey.contrib.djhuey import HUEY

    from ordersight.subscriptions.tasks import run_billing

    recurring, _ = subscribe()
    (periodic,) = [t for t in HUEY._registry.periodic_tasks if t.name == "run_billing"]
    assert periodic.validate_datetime(START.replace(minute=7))  # any minute
    monkeypatch.setattr(timezone, "now", lambda: recurring.next_payment_at)
    assert run_billing.call_local() == "1 charged, 0 retry, 0 failed, 0 unavailable"
