"""Periodic housekeeping run by the Huey worker, and how the worker settles in."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, on_startup

from ordersight.core.heap import settle_for_batches
from ordersight.core.models import IdempotencyRecord


@on_startup()
def settle_worker() -> None:
    # The worker runs the billing passes and the store syncs: batches of thousands of rows.
    settle_for_batches()


@db_periodic_task(crontab(minute="17"))
def purge_idempotency_records() -> int:
    """Drop stored responses older than the 24-hour replay window (safe to run twice)."""
    return purge_expired_records()


def purge_expired_records() -> int:
    """Delete the stored responses of API requests (`http/idempotency.py`) that are past
    their replay window; how many went."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
