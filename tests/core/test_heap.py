"""Worker processes settle the garbage collector for batches (core.heap)."""

from __future__ import annotations

import gc

import pytest
from django.core.management import call_command

from ordersight.core.heap import YOUNG_GENERATION


@pytest.fixture
def collector():
    """Gives the collector back as it was, whatever the test settled."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.django_db
def test_the_billing_command_settles_the_collector_before_its_pass(collector, capsys):
    assert gc.get_threshold()[0] != YOUNG_GENERATION and gc.get_freeze_count() == 0
    call_command("billing", "run", "--at", "2026-03-01T00:00:00")
    assert gc.get_threshold()[0] == YOUNG_GENERATION
    # What was loaded before the pass is left out of later collections.
    assert gc.get_freeze_count() > 1000
    assert "0 charged" in capsys.readouterr().out


def test_the_huey_worker_settles_the_collector_when_it_starts(collector):
    from huey.contrib.djhuey import HUEY

    from ordersight.core.tasks import settle_worker

    assert HUEY._startup["settle_worker"] is settle_worker  # what the consumer calls
    settle_worker()
    assert gc.get_threshold()[0] == YOUNG_GENERATION and gc.get_freeze_count() > 1000
