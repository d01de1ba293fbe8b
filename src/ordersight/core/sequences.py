"""Human numbers (orders, invoices, offers, recurring orders) handed out from named series.

Two ways to keep a series, chosen per series and database:

- A `Sequence` row, locked until the transaction commits: numbers never skip, but a second
  writer waits for the first to commit before it gets its own. Offers and recurring orders
  use it everywhere; every series does on SQLite, which lets one writer in at a time anyway.
- On PostgreSQL, orders and invoices come from database sequences instead (created by
  `core.0002`): `nextval` never waits for another transaction, so billing workers and bulk
  imports that create orders at once do not queue behind each other until commit. The price
  is that a number drawn by a transaction that rolls back is not handed out again: these
  numbers are unique and increasing, with an occasional gap.
"""

from collections.abc import Callable
from collections.abc import Sequence as Numbers

from django.db import connection, transaction

from ordersight.core.deadlocks import retry_on_deadlock
from ordersight.core.models import Sequence

# Series kept as PostgreSQL sequences there, and each sequence's name.
DATABASE_SEQUENCES = {"order": "core_order_number", "invoice": "core_invoice_number"}


def _database_sequence(name: str) -> str | None:
    return DATABASE_SEQUENCES.get(name) if connection.vendor == "postgresql" else None


def reserve_numbers(name: str, count: int = 1, *, start: int = 1) -> Numbers[int]:
    """Reserve `count` numbers of the named series, in increasing order."""
    sequence = _database_sequence(name)
    if sequence is None:
        return _reserve_from_row(name, count, start=start)
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
        )
        return sorted(row[0] for row in cursor.fetchall())


@transaction.atomic
def _reserve_from_row(name: str, count: int, *, start: int) -> range:
    Sequence.objects.get_or_create(name=name, defaults={"last_value": start - 1})
    seq = Sequence.objects.select_for_update(no_key=True).get(name=name)
    first = seq.last_value + 1
    seq.last_value += count
    seq.save(update_fields=["last_value"])
    return range(first, first + count)


@retry_on_deadlock
def move_numbers_past(name: str, value: int) -> None:
    """Make the series hand out numbers above `value` from now on (after rows were loaded
    with numbers of their own, as bulk loaders and benchmarks do)."""
    sequence = _database_sequence(name)
    if sequence is None:
        with transaction.atomic():
            seq, _ = Sequence.objects.select_for_update(no_key=True).get_or_create(name=name)
            if seq.last_value < value:
                seq.last_value = value
                seq.save(update_fields=["last_value"])
        return
    with connection.cursor() as cursor:
        # The sequence's name is one of ours (DATABASE_SEQUENCES), never input.
        cursor.execute(
            f"SELECT setval(%s::regclass, GREATEST(%s, (SELECT last_value FROM {sequence})))",
            [sequence, value],
        )


def next_number(name: str, *, start: int = 1) -> int:
    return reserve_numbers(name, 1, start=start)[0]


def next_free_number(name: str, taken: Callable[[int], bool], *, start: int = 1) -> int:
    """The next number of the sequence that nobody took by hand (numbers may also be chosen
    explicitly, so the sequence skips past those instead of colliding with them)."""
    number = next_number(name, start=start)
    while taken(number):
        number = next_number(name, start=start)
    return number
