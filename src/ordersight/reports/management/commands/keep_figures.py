"""`ordersight keep_figures`: with SALES_FIGURES = "after-commit", bring the sales rollups up
to date with each committed change, in batches, until stopped (`serve` runs it)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from ordersight.core.heap import settle_for_batches
from ordersight.reports.services import QUEUED_BATCH, recount_queued

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Recount the sales of the orders changed since the rollups last took them in "
        "(SALES_FIGURES=after-commit), in batches, until stopped; --once: until none waits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--idle",
            type=float,
            default=0.2,
            help="seconds between looks at an empty queue (the figures' lag when quiet)",
        )
        parser.add_argument(
            "--batch", type=int, default=QUEUED_BATCH, help="changes taken in one transaction"
        )
        parser.add_argument("--once", action="store_true", help="stop when the queue is empty")

    def handle(self, *args: Any, **options: Any) -> None:
        settle_for_batches()
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        taken_in_all = 0
        started = time.perf_counter()
        while not stop.is_set():
            try:
                taken = recount_queued(limit=options["batch"])
            except DatabaseError:
                # The database restarting or a connection cut: the batch rolled back and
                # stays queued; try again on a fresh connection.
                logger.exception("recounting the queued sales failed; trying again")
                close_old_connections()
                stop.wait(1.0)
                continue
            taken_in_all += taken
            if not taken:
                if options["once"]:
                    break
                stop.wait(options["idle"])
        if options["once"]:
            self.stdout.write(
                f"Took in {taken_in_all:,} queued changes in {time.perf_counter() - started:.1f} s."
            )
