"""A transaction PostgreSQL aborts for a deadlock runs again, whole, and never answers 500."""

from __future__ import annotations

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, transaction

from ordersight.core import deadlocks
from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.models import IdempotencyRecord
from ordersight.orders import ingest
from ordersight.orders.models import Order


def _aborted(driver_error: type[psycopg.Error] = psycopg.errors.DeadlockDetected):
    """The error Django raises when PostgreSQL aborts a transaction (the driver's inside)."""
    exc = OperationalError("deadlock detected")
    exc.__cause__ = driver_error("deadlock detected")
    return exc


class Flaky:
    """Raises the given errors on its first calls, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def run(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    taken: list[float] = []
    monkeypatch.setattr(deadlocks, "sleep", taken.append)
    return taken


def test_a_deadlocked_transaction_runs_again_and_succeeds(pauses):
    work = Flaky(_aborted(), _aborted(psycopg.errors.SerializationFailure))
    assert retry_on_deadlock(work.run)() == "done"
    assert work.calls == 3
    # A random pause before each new attempt, within a bound that doubles each time.
    assert len(pauses) == 2
    assert 0 <= pauses[0] < deadlocks.PAUSE
    assert 0 <= pauses[1] < deadlocks.PAUSE * 2


def test_retrying_gives_up_after_the_last_attempt(pauses):
    work = Flaky(*(_aborted() for _ in range(deadlocks.ATTEMPTS + 1)))
    with pytest.raises(OperationalError, match="deadlock"):
        retry_on_deadlock(work.run)()
    assert work.calls == deadlocks.ATTEMPTS


def test_other_database_errors_are_not_retried(pauses):
    work = Flaky(OperationalError("connection refused"))
    with pytest.raises(OperationalError, match="refused"):
        retry_on_deadlock(work.run)()
    work = Flaky(IntegrityError("duplicate key"))
    with pytest.raises(IntegrityError):
        retry_on_deadlock(work.run)()
    assert work.calls == 1
    assert pauses == []


@pytest.mark.django_db
def test_inside_a_bigger_transaction_the_error_is_left_to_its_boundary(pauses):
    work = Flaky(_aborted())
    with pytest.raises(OperationalError), transaction.atomic():
        retry_on_deadlock(work.run)()
    assert work.calls == 1
    # ...which learns that its transaction must run again, even if the error is swallowed.
    with pytest.raises(OperationalError):
        deadlocks.raise_if_doomed()
    deadlocks.forget_doomed()


def _bulk(api, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    order = {"external_id": "x-1", "source": "shopify", "lines": [{"sku": "TEE-M"}]}
    return api.post("orders/bulk", {"orders": [order]}, headers=headers)


def _deadlock_first(monkeypatch, times: int) -> Flaky:
    real = ingest._upsert
    flaky = Flaky(*(_aborted() for _ in range(times)))

    def upsert(items, actor):
        flaky.run()
        return real(items, actor)

    monkeypatch.setattr(ingest, "_upsert", upsert)
    return flaky


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, "batch-1"], ids=["in the service", "whole request"])
def test_an_api_write_aborted_by_a_deadlock_is_run_again(api, catalog, monkeypatch, pauses, key):
    flaky = _deadlock_first(monkeypatch, 2)
    r = _bulk(api, key)
    assert r.status_code == 200, r.content
    assert r.json()["created"] == 1
    assert flaky.calls == 3
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.count() == (1 if key else 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, "batch-1"], ids=["in the service", "whole request"])
def test_an_api_write_aborted_every_time_answers_busy_not_500(
    api, catalog, monkeypatch, pauses, key
):
    _deadlock_first(monkeypatch, 100)
    r = _bulk(api, key)
    assert r.status_code == 503
    assert r["Retry-After"] == "1"
    assert r.json()["error"]["code"] == "busy"
    assert Order.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
