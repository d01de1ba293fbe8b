"""Running work in threads at once, each on its own database connection (PostgreSQL tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection


def run_together(work: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """`work(item)` for every item, all at once; each thread closes its connection after."""

    def run(item: Any) -> Any:
        try:
            return work(item)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(run, items))
