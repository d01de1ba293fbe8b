"""`migrate` without the web request's statement timeout.

Building an index on a large orders table (CONCURRENTLY, so the store keeps taking orders)
can take minutes; `serve` migrates before it starts and must not fail on that.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate
from django.db import connections

from ordersight.core.pg_connection import without_timeouts


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with without_timeouts(connections[options["database"]]):
            super().handle(*args, **options)
