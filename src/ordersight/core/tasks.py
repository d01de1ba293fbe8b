"""Periodic housekeeping run by the Huey worker."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ordersight.core.idempotency import purge_expired_records


@db_periodic_task(crontab(minute="17"))
def purge_idempotency_records() -> int:
    """Drop stored responses older than the 24-hour replay window (safe to run twice)."""
    return purge_expired_records()
