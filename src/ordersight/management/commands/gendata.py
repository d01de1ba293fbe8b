"""`ordersight gendata --orders N`: a large realistic data set, for trying ordersight at scale."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ordersight.core.pg_connection import long_command
from ordersight.gendata import generate


class Command(BaseCommand):
    help = (
        "Write N realistic orders over two years (customers, offers, invoices, partial "
        "payments, refunds, managers) through the bulk paths, then rebuild the sales rollups."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, required=True, help="how many orders")
        parser.add_argument("--customers", type=int, help="default: one per ten orders")
        parser.add_argument("--offers", type=int, default=400)
        parser.add_argument("--years", type=int, default=2)
        parser.add_argument("--seed", type=int, default=1)

    @long_command
    def handle(self, *args: Any, **options: Any) -> None:
        if options["orders"] < 1 or options["offers"] < 3:
            self.stderr.write("--orders must be at least 1 and --offers at least 3.")
            sys.exit(2)
        interactive = self.stdout.isatty()

        def progress(stage: str, done: int, total: int) -> None:
            line = f"{stage}: {done:,} / {total:,}"
            if interactive:
                self.stdout.write(f"\r{line}", ending="")
                if done == total:
                    self.stdout.write("")
            elif done == total or done % 100_000 == 0:
                self.stdout.write(line)

        summary = generate(
            orders=options["orders"],
            customers=options["customers"],
            offers=options["offers"],
            years=options["years"],
            seed=options["seed"],
            progress=progress,
        )
        self.stdout.write(
            f"Wrote {summary.orders:,} orders in {summary.seconds:.1f} s "
            f"({summary.orders / summary.seconds:,.0f} orders/s, of which "
            f"{summary.rebuild_seconds:.1f} s rebuilding the sales rollups)."
        )
