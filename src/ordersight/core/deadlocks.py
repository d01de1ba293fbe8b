"""Running a whole transaction again when PostgreSQL aborted it to break a deadlock.

The services take their row locks in one order and at a strength that foreign key checks
do not conflict with, so writers should not deadlock; but PostgreSQL may still pick a
transaction to abort (a deadlock, or a serialization failure), and that transaction would
succeed if simply run again. `retry_on_deadlock` runs it again, a few times, after a short
random pause, so the client never sees the abort as an error.

Only a whole transaction can be run again: the locks of everything before a savepoint are
still held after rolling back to it. So the decorator acts only where the transaction
starts (no atomic block open when it is called). Called inside a bigger transaction, it
leaves the error to that transaction's own boundary (the Idempotency-Key middleware for an
API request) and notes that the transaction is doomed, since a caller in between (the
API's error handler) may turn the error into a response.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from contextvars import ContextVar
from time import sleep
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, connection

from ordersight.core.errors import error_body

logger = logging.getLogger(__name__)

# deadlock_detected, serialization_failure: PostgreSQL aborted the transaction to let
# another one through; running it again is the documented remedy.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 5
# The pause before attempt n is random in [0, PAUSE × 2^(n-2)) seconds, so the writers that
# met do not meet again at once.
PAUSE = 0.05

_doomed: ContextVar[DatabaseError | None] = ContextVar("doomed_transaction", default=None)

P = ParamSpec("P")
R = TypeVar("R")


def is_retryable(exc: BaseException) -> bool:
    """Whether the error is PostgreSQL aborting the transaction for a deadlock or a
    serialization failure (Django wraps the driver's error; its cause says which)."""
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(seen, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return True
        seen = seen.__cause__
    return False


def busy_body() -> dict:
    """The error a client gets when every attempt was aborted (with 503 and Retry-After)."""
    return error_body("busy", "The database was busy with other changes; send it again.")


def note_doomed(exc: DatabaseError) -> None:
    """Record that the transaction under way was aborted and must be run again whole."""
    _doomed.set(exc)


def forget_doomed() -> None:
    """Start a transaction with no abort noted (a boundary calls this when it begins)."""
    _doomed.set(None)


def raise_if_doomed() -> None:
    """Raise the abort noted in this transaction, if any (its boundary calls this before
    committing, whatever the code inside made of the error)."""
    exc = _doomed.get()
    if exc is not None:
        raise exc


def retry_on_deadlock(work: Callable[P, R]) -> Callable[P, R]:
    """Run `work` (a whole transaction) again when PostgreSQL aborts it for a deadlock or a
    serialization failure, up to ATTEMPTS times in all; then the error is raised."""

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            try:
                return work(*args, **kwargs)
            except DatabaseError as exc:
                if is_retryable(exc):
                    note_doomed(exc)
                raise
        attempt = 1
        while True:
            forget_doomed()
            try:
                return work(*args, **kwargs)
            except DatabaseError as exc:
                if not is_retryable(exc) or attempt >= ATTEMPTS:
                    raise
                logger.warning(
                    "%s: %s; running it again (attempt %d of %d)",
                    work.__qualname__,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    attempt + 1,
                    ATTEMPTS,
                )
            finally:
                forget_doomed()
            sleep(random.uniform(0, PAUSE * 2 ** (attempt - 1)))
            attempt += 1

    return run
