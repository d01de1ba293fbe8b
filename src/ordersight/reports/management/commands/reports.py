"""`ordersight reports rebuild`: recompute the sales rollups from the raw rows."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ordersight.core.pg_connection import long_command
from ordersight.reports.services import rebuild_rollups


class Command(BaseCommand):
    help = (
        "rebuild: recompute the sales rollups from the orders, lines, invoices and refunds "
        "(after importing history outside the services, or changing TIME_ZONE)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild"])

    @long_command
    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        interactive = self.stdout.isatty()

        def progress(done: int, total: int) -> None:
            if interactive:
                self.stdout.write(f"\r{done:,} / {total:,} sales", ending="")

        sales = rebuild_rollups(progress=progress)
        if interactive:
            self.stdout.write("")
        self.stdout.write(
            f"Counted {sales:,} sales into the rollups in {time.perf_counter() - started:.1f} s."
        )
