"""`ordersight keep_figures`: with SALES_FIGURES = "after-commit", bring the sales rollups up
to date with each committed change, in batches, until stopped (`serve` runs it)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from ordersight.core.heap import settle_for_batches
from ordersight.reports.selectors import any_change_queued
from ordersight.reports.services import QUEUED_BATCH, recount_queued, set_aside_oldest_queued

logger = logging.getLogger(__name__)

# The longest wait before trying again after a failed recount, in seconds.
LONGEST_BACK_OFF = 30.0


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
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        settle_for_batches()
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            # Stopped between batches: the one being counted is finished first.
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("Keeping the sales figures up to date.")
        self.stdout.flush()
        batch, failures, taken_in_all = options["batch"], 0, 0
        started = time.perf_counter()
        while not stop.is_set():
            try:
                if not any_change_queued():
                    if options["once"]:
                        break
                    stop.wait(options["idle"])
                    continue
                taken = recount_queued(limit=batch)
            except Exception:
                # The batch rolled back and stays queued. An order whose recount fails
                # every time must not hold up the others: the batch is halved at once
                # until the failing change is alone, which is then set aside behind the
                # queue's other changes (logged, to be looked into); with the database
                # away, the waits grow to LONGEST_BACK_OFF.
                failures += 1
                logger.exception("recounting up to %s queued changes failed", batch)
                close_old_connections()
                if batch > 1:
                    batch //= 2
                    continue
                try:
                    if (order_id := set_aside_oldest_queued()) is not None:
                        logger.error("order %s set aside behind the other changes", order_id)
                except Exception:
                    logger.exception("setting the failing change aside failed")
                stop.wait(min(LONGEST_BACK_OFF, 0.5 * 2 ** min(failures, 6)))
                continue
            failures, batch = 0, min(options["batch"], batch * 2)
            taken_in_all += taken
            if not taken:  # what waits is held by another recounter or a writer
                stop.wait(options["idle"])
        if options["once"]:
            self.stdout.write(
                f"Took in {taken_in_all:,} queued changes in {time.perf_counter() - started:.1f} s."
            )
