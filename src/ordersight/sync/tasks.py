"""Feeds refresh on their own: every minute the due ones (each connection's interval,
10 minutes by default) run once; one already running is left to finish."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ordersight.sync.models import Feed
from ordersight.sync.services import refresh_due, run_feed


@db_periodic_task(crontab(minute="*"))
def refresh_feeds() -> int:
    return len(refresh_due())


@db_task()
def refresh_feed(feed_id: int, full: bool = False) -> str:
    """A Refresh button's run, in the worker."""
    feed = Feed.objects.select_related("connection").get(pk=feed_id)
    return run_feed(feed, full=full).status
