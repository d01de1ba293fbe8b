"""Refreshing: the periodic task runs due feeds once, the shell command with its report."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ordersight.sync import services
from ordersight.sync.models import SyncRun
from tests.sync.test_shopify_customers import shopper

pytestmark = pytest.mark.django_db


def test_due_feeds_run_once_per_interval(shop, connection):
    shop.store.customers = [shopper(1)]
    first = services.refresh_due()
    assert sorted(r.feed.kind for r in first) == ["customers", "orders", "products"]
    assert services.refresh_due() == []  # nothing due within ten minutes
    later = timezone.now() + timedelta(minutes=10, seconds=1)
    assert len(services.due_feeds(at=later)) == 3
    connection.is_active = False
    connection.save()
    assert services.due_feeds(at=later) == []


def test_a_running_feed_is_not_due(connection):
    feed = services.feeds_of(connection=connection)["customers"]
    services.start_run(feed=feed)
    assert feed not in services.due_feeds(at=timezone.now() + timedelta(hours=1))


def test_the_command_reports_each_feed(shop, connection):
    shop.store.customers = [shopper(n) for n in range(3)] + [shopper(9, tags="retail")]
    out = StringIO()
    call_command("sync", "run", "main", "--feed", "customers", stdout=out)
    assert (
        "customers succeeded: 4 received, 3 created, 0 updated, 1 skipped, 0 errors"
        in out.getvalue()
    )
    assert SyncRun.objects.count() == 1


def test_the_command_names_a_missing_connection_and_fails_a_failed_feed(
    shop, connection, monkeypatch
):
    monkeypatch.setattr("ordersight.sync.shopify.BACKOFF_SECONDS", 0)
    with pytest.raises(CommandError, match="No store connection 'nope'"):
        call_command("sync", "run", "nope")
    shop.store.fail_next(100)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("sync", "run", "main", "--feed", "products", stdout=out)
    assert "products  failed: 0 received" in out.getvalue() and "500" in out.getvalue()
