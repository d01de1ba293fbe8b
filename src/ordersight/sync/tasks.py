"""Feeds refresh on their own: every minute the due ones (each connection's interval,
10 minutes by default) run once; one already running is left to finish."""

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ordersight.sync.models import Feed, SyncRun
from ordersight.sync.services import continue_run, refresh_due, start_run


@db_periodic_task(crontab(minute="*"))
def refresh_feeds() -> int:
    return len(refresh_due())


@db_task()
def _run_started(run_id: int) -> str:
    run = SyncRun.objects.select_related("feed__connection").get(pk=run_id)
    return continue_run(run).status


def refresh_in_worker(feed: Feed, *, full: bool = False) -> SyncRun:
    """The Refresh button: the run is recorded now (so a second press is refused while it
    runs) and carried out by the worker."""
    run = start_run(feed, full=full)
    transaction.on_commit(lambda: _run_started(run.pk))
    return run
