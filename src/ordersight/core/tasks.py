"""Periodic housekeeping run by the Huey worker, and how the worker settles in."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, on_startup

from ordersight.core.heap import settle_for_batches
from ordersight.core.idempotency import purge_expired_records


@on_startup()
def settle_worker() -> None:
    # The worker runs the billing passes and the store syncs: batches of thousands of rows.
    settle_for_batches()


@db_periodic_task(crontab(minute="17"))
def purge_idempotency_records() -> int:
    """Drop stored responses older than the 24-hour replay window (safe to run twice)."""
    return purge_expired_records()
