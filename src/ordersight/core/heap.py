"""The garbage collector's settings for processes that handle rows by the thousand.

Python's collector runs whenever 700 more container objects were made than freed, and every
few runs it walks every object the process holds. A billing batch makes tens of thousands
of short-lived objects (rows, decimals, dicts), so on a worker that had loaded Django and
the project the collections took a fifth of the time of a charge, and a quarter of the
Python time of a 1,000-order bulk request in a web process (BENCHMARKS.md).
"""

from __future__ import annotations

import gc

# New container objects between two collections of the youngest generation.
YOUNG_GENERATION = 10_000


def settle_for_batches() -> None:
    """For a worker or a web process, once it has started: what is loaded by now (Django,
    the models, the settings) lives as long as the process, so later collections skip it;
    and the youngest generation is collected every 10,000 objects rather than 700. Cyclic
    garbage then waits a little longer for collection; everything else is freed as before,
    when unused."""
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION, 10, 10)
