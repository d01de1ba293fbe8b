"""The billing engine: finds due recurring orders and charges them, exactly once.

A pass has two steps, both safe to run in any number of workers at once:

1. `open_due_attempts` claims due active recurring orders (`SELECT … FOR NO KEY UPDATE
   SKIP LOCKED` on PostgreSQL), writes one charge-attempt row each, unique per (recurring order,
   cycle, attempt), and marks them Processing; it commits, so the pages show the charge in
   flight.
2. `run_pending_batch` claims a batch of pending attempts the same way and, holding their
   row locks, calls the gateway with the idempotency key derived from each row, then records
   the results (child orders, invoices, schedules) in the same transaction.

A worker killed between the gateway call and the commit loses only its transaction: the
attempts are still pending, their locks are released with the connection, and the next run
asks the gateway again with the same keys, so the provider answers with the charges it
already made instead of making second ones. On SQLite, where every write transaction takes the
database's write lock when it begins, the same steps are serialised instead of skipped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from ordersight.catalog.models import Variant
from ordersight.core.actors import Actor
from ordersight.core.bulk import insert_rows, update_many
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.errors import DomainError
from ordersight.core.live import publish_after_commit
from ordersight.core.money import format_money
from ordersight.orders.models import Order, OrderSource, OrderStatus, OrderType
from ordersight.orders.pricing import LineInput, OrderInput
from ordersight.orders.services import create_order, lock_order, transition_order
from ordersight.payments.gateways import (
    ChargeRequest,
    ChargeResult,
    GatewayUnavailable,
    gateway_for,
)
from ordersight.payments.models import Invoice, PaymentSystem
from ordersight.payments.services import (
    NewChargedOrder,
    create_charged_orders,
    issue_invoices,
    record_gateway_result,
    retry_invoice,
)
from ordersight.subscriptions.events import LIVE_CHANNEL, record_recurring_event
from ordersight.subscriptions.models import (
    AttemptStatus,
    ChargeAttempt,
    RecurringEvent,
    RecurringEventKind,
    RecurringOrder,
    RecurringStatus,
)
from ordersight.subscriptions.schedule import next_due_after
from ordersight.subscriptions.services import RETRIES, retry_intervals

CLAIM_BATCH = 500
GATEWAY_THREADS = 16
MAX_GATEWAY_BACKOFF = 3600


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt came to: charged, retry (scheduled), failed, unavailable, skipped."""

    result: str
    recurring_number: int
    cycle: int
    attempt: int
    order_number: int | None = None
    amount: str = ""
    message: str = ""

    def describe(self) -> str:
        what = f"recurring order {self.recurring_number} payment {self.cycle}"
        order = f" (order {self.order_number})" if self.order_number else ""
        extra = f": {self.message}" if self.message else ""
        return f"{self.result:<11} {what} attempt {self.attempt}{order} {self.amount}{extra}"


@dataclass
class PassReport:
    outcomes: list[AttemptOutcome] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    def summary(self) -> str:
        return ", ".join(
            f"{self.count(r)} {r}" for r in ("charged", "retry", "failed", "unavailable")
        )


def _skip_locked(queryset: QuerySet) -> QuerySet:
    """Rows other workers hold are skipped on PostgreSQL; SQLite serialises writers."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(no_key=True, skip_locked=True)
    return queryset.select_for_update(no_key=True)


_ATTEMPT_COLUMNS = (
    "recurring_order_id",
    "cycle",
    "attempt",
    "amount",
    "currency",
    "due_at",
    "not_before",
    "created_at",
    "status",
    "transaction_id",
    "failure_code",
    "failure_message",
    "gateway_errors",
)
# The values every new attempt starts with, for the columns after `created_at`.
_NEW_ATTEMPT = (AttemptStatus.PENDING, "", "", "", 0)


@retry_on_deadlock
def open_due_attempts(*, at: datetime, limit: int = CLAIM_BATCH) -> int:
    """Claim up to `limit` due active recurring orders: an attempt row each, Processing."""
    with transaction.atomic():
        due = RecurringOrder.objects.filter(
            status=RecurringStatus.ACTIVE, next_payment_at__lte=at
        ).order_by("next_payment_at", "pk")
        # Plain values: the claim runs for every payment, and only these columns are read.
        claimed = list(
            _skip_locked(due).values_list(
                "pk", "payments_made", "cycle_attempts", "amount", "currency", "next_payment_at"
            )[:limit]
        )
        if not claimed:
            return 0
        # Plain rows: one attempt per payment of every pass.
        insert_rows(
            ChargeAttempt,
            _ATTEMPT_COLUMNS,
            [
                (
                    pk,
                    payments_made + 1,
                    cycle_attempts + 1,
                    amount,
                    currency,
                    due_at,
                    at,
                    at,
                    *_NEW_ATTEMPT,
                )
                for pk, payments_made, cycle_attempts, amount, currency, due_at in claimed
            ],
        )
        RecurringOrder.objects.filter(pk__any=[row[0] for row in claimed]).update(
            status=RecurringStatus.PROCESSING,
            cycle_attempts=F("cycle_attempts") + 1,
            updated_at=timezone.now(),
        )
        return len(claimed)


@retry_on_deadlock
def run_pending_batch(*, at: datetime, limit: int = CLAIM_BATCH) -> list[AttemptOutcome] | None:
    """Claim up to `limit` pending attempts and run them; None when none is left to run now.

    The attempts of a payment's first try (nearly all of them) are charged concurrently and
    recorded at once: their child orders, invoices, events and figures in a few statements.
    Retries, initial payments and anything the gateway did not simply approve go one by one
    through `run_attempt`, which asks the gateway again with the same key (it answers with
    what it said before). The whole batch is one transaction holding the attempts' locks.
    """
    with transaction.atomic():
        pending = ChargeAttempt.objects.filter(
            status=AttemptStatus.PENDING, not_before__lte=at
        ).order_by("not_before", "pk")
        attempts = list(_skip_locked(pending)[:limit])
        if not attempts:
            return None
        simple = [a for a in attempts if a.cycle > 1 and a.attempt == 1 and a.invoice_id is None]
        outcomes: list[AttemptOutcome] = []
        approved, others = _charge_concurrently(simple)
        if approved:
            try:
                with transaction.atomic():
                    outcomes += _record_approved(approved, at, Actor.system())
            except DomainError:
                # One child order cannot be made (an offer left the catalog): record this
                # batch one by one, where that attempt fails alone.
                others += [attempt for attempt, _, _ in approved]
        simple_ids = {a.pk for a in simple}
        other_ids = {a.pk for a in others}
        rest = [a for a in attempts if a.pk not in simple_ids or a.pk in other_ids]
        for attempt in rest:
            outcomes.append(run_attempt(attempt=attempt, at=at, actor=Actor.system()))
        return outcomes


def _charge_concurrently(
    attempts: list[ChargeAttempt],
) -> tuple[list[tuple[ChargeAttempt, RecurringOrder, ChargeResult]], list[ChargeAttempt]]:
    """Ask the gateway for every attempt at once (a thread each, up to GATEWAY_THREADS):
    the approved ones, and the rest (declined, unavailable, refused to be made)."""
    if not attempts:
        return [], []
    recurring = {
        r.pk: r
        for r in RecurringOrder.objects.select_for_update(no_key=True).filter(
            pk__any=[a.recurring_order_id for a in attempts]
        )
    }
    # A batch shares a handful of payment systems: one object each, not one per row.
    systems = PaymentSystem.objects.in_bulk({r.payment_system_id for r in recurring.values()})
    for r in recurring.values():
        r.payment_system = systems[r.payment_system_id]

    gateways = {r.payment_system.provider for r in recurring.values()}
    gateway_of = {provider: gateway_for(provider) for provider in gateways}

    def ask(attempt: ChargeAttempt) -> ChargeResult | None:
        order = recurring[attempt.recurring_order_id]
        gateway = gateway_of[order.payment_system.provider]
        if gateway is None:
            return None
        try:
            return gateway.charge(
                ChargeRequest(
                    amount=attempt.amount,
                    currency=attempt.currency,
                    token=order.payment_token,
                    idempotency_key=attempt.idempotency_key,
                )
            )
        except GatewayUnavailable:
            return None

    if any(getattr(g, "remote", True) for g in gateway_of.values() if g is not None):
        with ThreadPoolExecutor(max_workers=min(GATEWAY_THREADS, len(attempts))) as pool:
            answers = list(pool.map(ask, attempts))
    else:
        answers = [ask(attempt) for attempt in attempts]
    approved, others = [], []
    for attempt, answer in zip(attempts, answers, strict=True):
        if answer is not None and answer.succeeded:
            approved.append((attempt, recurring[attempt.recurring_order_id], answer))
        else:
            others.append(attempt)
    return approved, others


def _child_order_input(
    recurring: RecurringOrder, attempt: ChargeAttempt, at: datetime, sku: str
) -> OrderInput:
    return OrderInput(
        lines=[LineInput(sku=sku, unit_price=attempt.amount, agreed_price=True)],
        currency=attempt.currency,
        customer_id=recurring.customer_id,
        source=OrderSource.SUBSCRIPTION,
        order_type=OrderType.RECURRING,
        created_at=at,
        # One child order per attempt, whatever runs twice: (source, external id) is unique.
        external_id=f"{recurring.number}-{attempt.cycle}-{attempt.attempt}",
        metadata={"recurring_order": recurring.number, "payment": attempt.cycle},
    )


def _skus(offer_ids: set[int]) -> dict[int, str]:
    """Each offer's first active SKU: what a child order's line sells."""
    skus: dict[int, str] = {}
    for offer_id, sku in (
        Variant.objects.filter(offer_id__in=offer_ids, is_active=True)
        .order_by("offer_id", "pk")
        .values_list("offer_id", "sku")
    ):
        skus.setdefault(offer_id, sku)
    return skus


def _record_approved(
    approved: list[tuple[ChargeAttempt, RecurringOrder, ChargeResult]], at: datetime, actor: Actor
) -> list[AttemptOutcome]:
    """Record a batch of approved charges: child orders, invoices, schedules, events."""
    skus = _skus({r.offer_id for _, r, _ in approved})
    made = create_charged_orders(
        charges=[
            NewChargedOrder(
                order=_child_order_input(r, a, at, skus.get(r.offer_id, "")),
                payment_system=r.payment_system,
                transaction_id=res.transaction_id,
            )
            for a, r, res in approved
        ],
        at=at,
        actor=actor,
    )
    events, outcomes = [], []
    for (attempt, recurring, result), (order, invoice) in zip(approved, made, strict=True):
        attempt.status = AttemptStatus.SUCCEEDED
        attempt.transaction_id = result.transaction_id
        attempt.finished_at = at
        attempt.order, attempt.invoice = order, invoice
        done = _advance_schedule(recurring, at)
        events.append(
            _event_row(recurring, RecurringEventKind.CHARGED, _charged_payload(attempt, result))
        )
        if done:
            payload = {"payments": recurring.payments_made}
            events.append(_event_row(recurring, RecurringEventKind.COMPLETED, payload))
        outcomes.append(_outcome("charged", recurring, attempt))
    update_many(
        ChargeAttempt,
        [a for a, _, _ in approved],
        ["status", "transaction_id", "finished_at", "order", "invoice"],
    )
    update_many(
        RecurringOrder,
        [r for _, r, _ in approved],
        [
            "payments_made",
            "failed_attempts",
            "cycle_attempts",
            "status",
            "next_payment_at",
            "ended_at",
            "updated_at",
        ],
    )
    who = (actor.label[:150], actor.user.pk if actor.user is not None else None, at)
    insert_rows(RecurringEvent, _EVENT_COLUMNS, [(*event, *who) for event in events])
    publish_after_commit(LIVE_CHANNEL, {"event": "charged", "count": len(approved)})
    return outcomes


_EVENT_COLUMNS = (
    "recurring_order_id",
    "kind",
    "payload",
    "actor_label",
    "actor_user_id",
    "created_at",
)


def _event_row(recurring: RecurringOrder, kind: RecurringEventKind, payload: dict) -> tuple:
    """A recurring order's event as the first values of `_EVENT_COLUMNS` (a batch writes
    them as plain rows; `record_recurring_event` writes one with its model)."""
    return (recurring.pk, kind, payload)


def _advance_schedule(recurring: RecurringOrder, at: datetime) -> bool:
    """A payment was made: count it and set the next date; True if that was the last."""
    recurring.payments_made += 1
    recurring.failed_attempts = recurring.cycle_attempts = 0
    recurring.updated_at = timezone.now()
    total = recurring.total_payments
    if total is not None and recurring.payments_made >= total:
        recurring.status = RecurringStatus.COMPLETED
        recurring.next_payment_at = None
        recurring.ended_at = at
        return True
    recurring.status = RecurringStatus.ACTIVE
    recurring.next_payment_at = next_due_after(
        recurring.started_at,
        recurring.interval_unit,
        recurring.interval_count,
        recurring.payments_made,
        at,
    )
    return False


def _charged_payload(attempt: ChargeAttempt, result: ChargeResult) -> dict:
    return {
        "payment": attempt.cycle,
        "attempt": attempt.attempt,
        "order": attempt.order.number,
        "amount": format_money(attempt.amount, attempt.currency),
        "currency": attempt.currency,
        "transaction_id": result.transaction_id,
    }


def billing_pass(*, at: datetime | None = None, batch: int = CLAIM_BATCH) -> PassReport:
    """One billing pass as of `at` (now by default): every due payment and retry."""
    at = at or timezone.now()
    report = PassReport()
    while True:
        opened = open_due_attempts(at=at, limit=batch)
        while (outcomes := run_pending_batch(at=at, limit=batch)) is not None:
            report.outcomes.extend(outcomes)
        if not opened:
            return report


def _cycle_order(attempt: ChargeAttempt) -> Order | None:
    """The open child order an earlier attempt at this payment left (its retry goes there)."""
    earlier = (
        ChargeAttempt.objects.filter(
            recurring_order_id=attempt.recurring_order_id,
            cycle=attempt.cycle,
            attempt__lt=attempt.attempt,
            order__isnull=False,
        )
        .order_by("-attempt")
        .first()
    )
    if earlier is None:
        return None
    order = lock_order(order=earlier.order)
    return order if order.status == OrderStatus.OPEN else None


def _new_child_order(recurring: RecurringOrder, attempt: ChargeAttempt, at: datetime) -> Order:
    sku = _skus({recurring.offer_id}).get(recurring.offer_id, "")
    return create_order(data=_child_order_input(recurring, attempt, at, sku), actor=Actor.system())


def _attempt_invoice(recurring: RecurringOrder, attempt: ChargeAttempt, at: datetime) -> Invoice:
    """The invoice this attempt pays: a new child order's, or a retry on the open one."""
    if attempt.invoice_id is not None:
        return attempt.invoice
    order = _cycle_order(attempt)
    if order is not None:
        failed = order.invoices.order_by("-number").first()
        invoice = retry_invoice(invoice=failed, actor=Actor.system())
    else:
        order = _new_child_order(recurring, attempt, at)
        (invoice,) = issue_invoices(order=order, actor=Actor.system())
    attempt.order, attempt.invoice = order, invoice
    attempt.save(update_fields=["order", "invoice"])
    return invoice


def _outcome(result: str, recurring: RecurringOrder, attempt: ChargeAttempt, message: str = ""):
    return AttemptOutcome(
        result=result,
        recurring_number=recurring.number,
        cycle=attempt.cycle,
        attempt=attempt.attempt,
        order_number=attempt.order.number if attempt.order_id else None,
        amount=f"{format_money(attempt.amount, attempt.currency)} {attempt.currency}",
        message=message,
    )


@retry_on_deadlock
@transaction.atomic
def run_attempt(*, attempt: ChargeAttempt, at: datetime, actor: Actor) -> AttemptOutcome:
    """Charge one attempt and record what the gateway said (see the module's docstring)."""
    attempt = ChargeAttempt.objects.select_for_update(no_key=True).get(pk=attempt.pk)
    recurring = RecurringOrder.objects.select_related("payment_system", "offer").get(
        pk=attempt.recurring_order_id
    )
    if attempt.status != AttemptStatus.PENDING:
        return _outcome("skipped", recurring, attempt, "already run")
    try:
        with transaction.atomic():
            invoice = _attempt_invoice(recurring, attempt, at)
    except DomainError as exc:
        # The child order cannot be made (the offer left the catalog, the customer is gone):
        # nothing was charged; the order fails so a person looks at it.
        recurring = RecurringOrder.objects.select_for_update(no_key=True).get(pk=recurring.pk)
        return _charge_failed(
            recurring,
            attempt,
            ChargeResult(False, failure_code="order_invalid", failure_message=exc.message[:500]),
            at,
            actor,
            final=True,
        )
    recurring = (
        RecurringOrder.objects.select_for_update(no_key=True)
        .select_related("payment_system", "offer")
        .get(pk=recurring.pk)
    )
    gateway = gateway_for(recurring.payment_system.provider)
    try:
        if gateway is None:
            raise GatewayUnavailable(f"{recurring.payment_system.name} cannot charge cards")
        result = gateway.charge(
            ChargeRequest(
                amount=attempt.amount,
                currency=attempt.currency,
                token=recurring.payment_token,
                idempotency_key=attempt.idempotency_key,
            )
        )
    except GatewayUnavailable as exc:
        return _gateway_unavailable(recurring, attempt, str(exc), at, actor)
    record_gateway_result(
        invoice=invoice,
        succeeded=result.succeeded,
        payment_system=recurring.payment_system,
        occurred_at=at,
        paid_in_one_click=result.one_click,
        transaction_id=result.transaction_id,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
        actor=actor,
    )
    if result.succeeded:
        return _charged(recurring, attempt, result, at, actor)
    final = attempt.cycle == 1 or recurring.failed_attempts + 1 > RETRIES
    return _charge_failed(recurring, attempt, result, at, actor, final=final)


def _finish(attempt: ChargeAttempt, status: str, result: ChargeResult, at: datetime) -> None:
    attempt.status = status
    attempt.transaction_id = result.transaction_id
    attempt.failure_code = result.failure_code[:50]
    attempt.failure_message = result.failure_message[:500]
    attempt.finished_at = at
    attempt.save()


def _charged(
    recurring: RecurringOrder,
    attempt: ChargeAttempt,
    result: ChargeResult,
    at: datetime,
    actor: Actor,
) -> AttemptOutcome:
    _finish(attempt, AttemptStatus.SUCCEEDED, result, at)
    if attempt.cycle == 1:
        recurring.started_at = at
        recurring.initial_order = attempt.order
    done = _advance_schedule(recurring, at)
    recurring.save()
    record_recurring_event(
        recurring,
        RecurringEventKind.CHARGED,
        actor,
        at,
        **_charged_payload(attempt, result),
    )
    if done:
        record_recurring_event(
            recurring, RecurringEventKind.COMPLETED, actor, at, payments=recurring.payments_made
        )
    return _outcome("charged", recurring, attempt)


def _charge_failed(
    recurring: RecurringOrder,
    attempt: ChargeAttempt,
    result: ChargeResult,
    at: datetime,
    actor: Actor,
    *,
    final: bool,
) -> AttemptOutcome:
    _finish(attempt, AttemptStatus.FAILED, result, at)
    recurring.failed_attempts += 1
    reason = result.failure_message or result.failure_code
    payload = {
        "payment": attempt.cycle,
        "attempt": attempt.attempt,
        "code": result.failure_code,
        "message": result.failure_message,
    }
    if attempt.order_id is not None:
        payload["order"] = attempt.order.number
    record_recurring_event(recurring, RecurringEventKind.CHARGE_FAILED, actor, at, **payload)
    if final:
        recurring.status = RecurringStatus.FAILED
        recurring.next_payment_at = None
        recurring.needs_new_payment_method = result.failure_code != "order_invalid"
        recurring.save()
        if attempt.order_id is not None:
            order = lock_order(order=attempt.order)
            if order.status == OrderStatus.OPEN:
                transition_order(
                    order=order,
                    to=OrderStatus.DECLINED,
                    actor=actor,
                    reason="recurring payment failed",
                )
        record_recurring_event(
            recurring, RecurringEventKind.FAILED, actor, at, payment=attempt.cycle, reason=reason
        )
        return _outcome("failed", recurring, attempt, reason)
    wait = retry_intervals()[recurring.failed_attempts - 1]
    recurring.status = RecurringStatus.ACTIVE
    recurring.next_payment_at = at + timedelta(seconds=wait)
    recurring.save()
    record_recurring_event(
        recurring,
        RecurringEventKind.RETRY_SCHEDULED,
        actor,
        at,
        payment=attempt.cycle,
        retry_at=recurring.next_payment_at.isoformat(),
    )
    return _outcome("retry", recurring, attempt, reason)


def _gateway_unavailable(
    recurring: RecurringOrder, attempt: ChargeAttempt, message: str, at: datetime, actor: Actor
) -> AttemptOutcome:
    """Nobody knows whether the provider charged: ask again later with the same key."""
    attempt.gateway_errors += 1
    wait = min(60 * 2 ** (attempt.gateway_errors - 1), MAX_GATEWAY_BACKOFF)
    attempt.not_before = at + timedelta(seconds=wait)
    attempt.failure_message = message[:500]
    attempt.save(update_fields=["gateway_errors", "not_before", "failure_message"])
    if attempt.gateway_errors == 1:
        record_recurring_event(
            recurring,
            RecurringEventKind.GATEWAY_UNAVAILABLE,
            actor,
            at,
            payment=attempt.cycle,
            message=message[:500],
        )
    return _outcome("unavailable", recurring, attempt, message)
