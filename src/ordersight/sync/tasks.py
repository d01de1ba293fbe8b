"""Feeds refresh on their own: every minute the due ones (each connection's interval,
10 minutes by default) run once; one already running is left to finish."""

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ordersight.core.unavailable import UNAVAILABLE_ERRORS
from ordersight.sync.models import Feed, RunStatus, SyncRun
from ordersight.sync.services import continue_run, refresh_due, start_run


@db_periodic_task(crontab(minute="*"))
def refresh_feeds() -> int:
    return len(refresh_due())


@db_task()
def _run_started(run_id: int) -> str:
    run = SyncRun.objects.select_related("feed__connection").get(pk=run_id)
    return continue_run(run=run).status


def refresh_in_worker(feed: Feed, *, full: bool = False) -> SyncRun:
    """The Refresh button: the run is recorded now (so a second press is refused while it
    runs) and carried out by the worker."""
    run = start_run(feed=feed, full=full)
    transaction.on_commit(lambda: _queue(run))
    return run


def _queue(run: SyncRun) -> None:
    try:
        _run_started(run.pk)
    except UNAVAILABLE_ERRORS:
        # The queue (Redis) is away: left running, the run would never start and would
        # refuse every later refresh of its feed.
        SyncRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            message="The worker's queue could not be reached; refresh again.",
            finished_at=timezone.now(),
        )
        raise
