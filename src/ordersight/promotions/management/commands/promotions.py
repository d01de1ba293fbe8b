"""`ordersight promotions rebuild-figures`: recompute customers' purchase figures."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ordersight.core.pg_connection import long_command
from ordersight.promotions.figures import rebuild_figures
from ordersight.promotions.models import CustomerFigures


class Command(BaseCommand):
    help = (
        "rebuild-figures: recompute every customer's purchase figures (what segments read) "
        "from the orders, invoices and refunds, e.g. after importing history outside the "
        "services."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild-figures"])

    @long_command
    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        orders = rebuild_figures()
        customers = CustomerFigures.objects.count()
        self.stdout.write(
            f"Counted {orders:,} orders for {customers:,} customers in "
            f"{time.perf_counter() - started:.1f} s."
        )
